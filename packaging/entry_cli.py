"""Frozen `desktop-rag` (console): the CLI.

`freeze_support()` comes before any other import: the model host and PDF extraction run in
spawned children, which re-run this executable, and each must branch off here instead of
parsing the command line again (and without paying for the app's imports).
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from desktop_rag.core.cli import main

    raise SystemExit(main())
