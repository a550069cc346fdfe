"""`python -m desktop_rag.core.cli ...`: the same as the `desktop-rag` command."""

from desktop_rag.core.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
