"""Saved conversations: the SQLite history and its Markdown export."""
