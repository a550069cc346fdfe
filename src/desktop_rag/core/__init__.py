"""The engine, in plain Python (no Qt): everything the app does, also run headless by the CLI.

One folder per concern; `knowledge_base.KnowledgeBase` is the entry point that joins them.
"""
