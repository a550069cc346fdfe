"""API keys of chat servers: in the system keyring where one exists, else in a private file.

The system keyring is the Secret Service (GNOME Keyring, KWallet) on Linux, the Keychain on
macOS and the Credential Locker on Windows, all through the `keyring` library. A machine
without one (a bare window manager, a server) keeps keys in a JSON file readable by this
user only, and `KeyStore.where` says so. Keys are stored per server origin, so
"http://gpu-box:8080" and "http://gpu-box:8080/v1" share one. Nothing here logs a key.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from desktop_rag.core.llm.server.address import parse_server_url

SERVICE = "desktop-rag"
log = logging.getLogger(__name__)


def system_keyring() -> Any | None:
    """The usable system keyring backend, or None (keyring's fail/null backends, or an
    empty chain: no Secret Service running, no D-Bus session)."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring) or type(backend).__module__.endswith(".null"):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


class KeyStore:
    def __init__(self, fallback_file: Path, backend: Any | str | None = "system"):
        """`backend`: a keyring backend, None for the file only, or "system" to detect."""
        self._file = fallback_file
        self._backend: Any | None = system_keyring() if backend == "system" else backend

    @property
    def where(self) -> str:
        """Where keys are kept, for a person: "the system keyring (SecretService)" or
        "FILE, readable only by you (this system has no keyring)"."""
        if self._backend is not None:
            name = getattr(self._backend, "name", type(self._backend).__name__)
            return f"the system keyring ({name})"
        return f"{self._file}, readable only by you (this system has no keyring)"

    def get(self, server_url: str) -> str | None:
        account = _account(server_url)
        if self._backend is not None:
            try:
                return self._backend.get_password(SERVICE, account) or None
            except Exception as exc:  # locked or gone: the file may still hold it
                log.warning("the system keyring could not be read: %s", type(exc).__name__)
        return self._read().get(account) or None

    def set(self, server_url: str, key: str | None) -> None:
        """Keep `key` for the server (empty or None forgets it)."""
        account = _account(server_url)
        if self._backend is not None:
            try:
                if key:
                    self._backend.set_password(SERVICE, account, key)
                else:
                    # Nothing stored is nothing to forget.
                    with contextlib.suppress(Exception):
                        self._backend.delete_password(SERVICE, account)
                self._forget_in_file(account)
                return
            except Exception as exc:
                log.warning("the system keyring refused the key: %s", type(exc).__name__)
        keys = self._read()
        if key:
            keys[account] = key
        else:
            keys.pop(account, None)
        self._write(keys)

    def _forget_in_file(self, account: str) -> None:
        keys = self._read()
        if account in keys:
            del keys[account]
            self._write(keys)

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self._file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def _write(self, keys: dict[str, str]) -> None:
        self._file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._file.parent, prefix=".secrets-", suffix=".tmp")
        try:
            os.chmod(tmp, 0o600)  # before the key is in it
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(keys, fh, indent=2, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def api_key_for(server_url: str, secrets_file: Path, given: str | None = None) -> str | None:
    """The API key to send to `server_url`: `given` when not None ("" for none), else the
    one kept for that server (keyring or `secrets_file`), else None."""
    if given is not None:
        return given
    return KeyStore(secrets_file).get(server_url)


def _account(server_url: str) -> str:
    return parse_server_url(server_url).origin
