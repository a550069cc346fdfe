"""Shared fixtures. Real parts (MiniLM, SmolLM2, LanceDB, watchdog, Qt) are used where named."""

from __future__ import annotations

import gc
import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
# API keys kept by tests go to the data folder's file, never the developer's own keyring.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def shared_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole session: the embedder's ONNX export (seconds) is
    made once, not in every test's data folder."""
    from desktop_rag.core.paths import CACHE_ENV

    cache = tmp_path_factory.mktemp("cache")
    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = previous


@pytest.fixture(autouse=True)
def collect_garbage_as_usual():
    """Starting the app's services pauses and freezes the collector (services.heap); the
    next test starts with it as Python leaves it."""
    yield
    gc.unfreeze()
    gc.enable()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch):
    """Fail any attempt to open a network connection (AF_UNIX stays allowed)."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError(f"network access blocked in tests: {address!r}")
        return real_connect(self, address, *args)

    def guarded_ex(self: socket.socket, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError(f"network access blocked in tests: {address!r}")
        return real_connect_ex(self, address, *args)

    def guarded_create(address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"network access blocked in tests: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)
    monkeypatch.setattr(socket, "create_connection", guarded_create)
    yield attempts
    assert not attempts, f"network connections were attempted: {attempts}"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when the folder is absent (fresh clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is provided beside the checkout)")
    return path


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch):
    """Allow network connections to 127.0.0.1 (the test's own servers) and fail any other:
    the app must reach no address but the one it was given."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def allowed(address) -> bool:
        return isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1")

    def guarded(self: socket.socket, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not allowed(address):
            attempts.append(address)
            raise OSError(f"network access blocked in tests: {address!r}")
        return real_connect(self, address, *args)

    def guarded_ex(self: socket.socket, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not allowed(address):
            attempts.append(address)
            raise OSError(f"network access blocked in tests: {address!r}")
        return real_connect_ex(self, address, *args)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)
    yield attempts
    assert not attempts, f"connections to other addresses were attempted: {attempts}"
