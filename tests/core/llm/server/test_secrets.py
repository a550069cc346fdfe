"""API keys: the keyring when there is one, a private file otherwise, never mixed up."""

from __future__ import annotations

import stat

from desktop_rag.core.llm.server.secrets import KeyStore


class DictKeyring:
    name = "test keyring"

    def __init__(self):
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service, account):
        return self.saved.get((service, account))

    def set_password(self, service, account, password):
        self.saved[(service, account)] = password

    def delete_password(self, service, account):
        del self.saved[(service, account)]


class BrokenKeyring(DictKeyring):
    def set_password(self, service, account, password):
        raise RuntimeError("locked")

    def get_password(self, service, account):
        raise RuntimeError("locked")


def test_without_a_keyring_keys_go_to_a_private_file(tmp_path):
    path = tmp_path / "secrets.json"
    store = KeyStore(path, backend=None)
    store.set("gpu-box:8080", "s3cret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "readable only by you" in store.where
    # The same server, typed differently, has the same key; another server has none.
    assert KeyStore(path, backend=None).get("http://gpu-box:8080/v1/") == "s3cret"
    assert store.get("http://gpu-box:9090") is None
    store.set("http://gpu-box:8080", "")
    assert store.get("gpu-box:8080") is None


def test_a_keyring_keeps_the_key_and_the_file_stays_empty(tmp_path):
    path = tmp_path / "secrets.json"
    ring = DictKeyring()
    store = KeyStore(path, backend=ring)
    store.set("http://gpu-box:8080/v1", "s3cret")
    assert ring.saved == {("desktop-rag", "http://gpu-box:8080"): "s3cret"}
    assert not path.exists()
    assert store.get("gpu-box:8080") == "s3cret"
    assert "test keyring" in store.where
    store.set("gpu-box:8080", None)
    assert ring.saved == {}


def test_a_locked_keyring_falls_back_to_the_file(tmp_path):
    path = tmp_path / "secrets.json"
    store = KeyStore(path, backend=BrokenKeyring())
    store.set("gpu-box:8080", "s3cret")
    assert store.get("gpu-box:8080") == "s3cret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
