"""Files in: the folder walk and its ignore rules, text extraction (`extract/`), cleanup and
chunking; the indexer runs them and hands the chunks to `embedding/` and `index/`.
"""
