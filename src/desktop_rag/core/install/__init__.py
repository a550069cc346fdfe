"""Is this installation sound: the offline self-test and the system libraries Qt needs."""
