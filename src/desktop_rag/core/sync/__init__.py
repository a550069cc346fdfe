"""Keeping the index in line with the watched folders: watcher, change batches, reconcile,
sync plan, the sync engine and its loop, and the saved folder list.
"""
