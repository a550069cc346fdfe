"""Is this installation sound: the offline self-test (with its network guard and a tiny
PDF written by hand) and the system libraries Qt's window needs.
"""
