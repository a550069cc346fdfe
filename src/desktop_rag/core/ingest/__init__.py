"""Bringing files into the index: extract text, clean it, cut it into chunks, embed, write."""
