"""Refuse and record every network connection this process tries, for the self-test.

The app must work with no network at all. Only Python sockets are covered: native code
(LanceDB's Rust, llama.cpp) and child processes are not, which is why `make package-test`
also runs the frozen app in a network namespace of its own (`unshare -n`).
"""

from __future__ import annotations

import _socket
import contextlib
import socket
from collections.abc import Iterator

_INET = (socket.AF_INET, socket.AF_INET6)


@contextlib.contextmanager
def blocked() -> Iterator[list[object]]:
    """Within the block, IPv4/IPv6 connects raise OSError; yields the addresses tried."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def refuse(address: object) -> OSError:
        attempts.append(address)
        return OSError(f"network access is disabled here (tried {address!r})")

    # `self` is typed as _socket.socket, the C base class on which the stubs declare both
    # methods, so the wrappers have the type of the methods they replace.
    def connect(self: _socket.socket, address, *args):
        if self.family in _INET:
            raise refuse(address)
        return real_connect(self, address, *args)

    def connect_ex(self: _socket.socket, address, *args):
        if self.family in _INET:
            raise refuse(address)
        return real_connect_ex(self, address, *args)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    try:
        yield attempts
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
