"""The on-disk index: LanceDB tables, their schema and versions, the vector and keyword
indexes, and the one-writer-at-a-time marker that makes a kill recoverable.
"""
