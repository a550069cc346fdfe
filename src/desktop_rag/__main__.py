"""`python -m desktop_rag` starts the desktop app."""

from desktop_rag.app import main

if __name__ == "__main__":
    raise SystemExit(main())
