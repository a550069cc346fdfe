import sys

from desktop_rag.core import paths


def test_explicit_beats_env(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "env"))
    assert paths.resolve_data_dir(tmp_path / "explicit") == (tmp_path / "explicit").resolve()


def test_env_relocates(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "env"))
    assert paths.app_paths().data_dir == (tmp_path / "env").resolve()


def test_portable_marker_beside_frozen_executable(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    exe = tmp_path / "desktop-rag"
    exe.write_text("")
    (tmp_path / paths.PORTABLE_MARKER).write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert paths.resolve_data_dir() == tmp_path.resolve() / "data"


def test_no_marker_uses_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    exe = tmp_path / "desktop-rag"
    exe.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert paths.resolve_data_dir() != tmp_path.resolve() / "data"


def test_embedded_models_are_found_on_disk():
    embedder = paths.default_embedder_dir()
    assert (embedder / "config.json").is_file()
    assert (embedder / "model.safetensors").is_file()
    gguf = paths.default_chat_model()
    assert gguf.is_file()
    with gguf.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
    assert "llm" not in sys.modules  # locating the GGUF must not import the `llm` CLI
