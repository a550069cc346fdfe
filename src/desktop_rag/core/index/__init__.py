"""The on-disk index: LanceDB tables, their schema and versions, the vector and keyword
indexes, the one-writer-at-a-time marker that makes a kill recoverable, and the check of
the index against itself after one.
"""
