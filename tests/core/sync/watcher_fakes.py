"""A watchdog observer that cannot add a watch, as when the inotify limit is reached."""

from __future__ import annotations

import errno


class LimitedObserver:
    def start(self):
        pass

    def schedule(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    def stop(self):
        pass

    def join(self, timeout=None):
        pass
