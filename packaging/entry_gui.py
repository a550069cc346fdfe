"""Frozen `desktop-rag-gui` (windowed): the desktop app.

`freeze_support()` comes before any other import: the model host and PDF extraction run in
spawned children, which re-run this executable, and each must branch off here before Qt loads.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from desktop_rag.app import main

    raise SystemExit(main())
