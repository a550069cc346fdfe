"""Where the frozen app keeps data and finds bundled files: portable mode and the bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from desktop_rag.core import paths


@pytest.fixture
def frozen_exe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pretend to run as `<tmp>/desktop-rag/desktop-rag`, a PyInstaller one-folder build."""
    app = tmp_path / "desktop-rag"
    (app / "_internal").mkdir(parents=True)
    exe = app / "desktop-rag"
    exe.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    monkeypatch.setattr(sys, "_MEIPASS", str(app / "_internal"), raising=False)
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    return exe


def test_portable_marker_keeps_data_beside_the_executable(frozen_exe):
    (frozen_exe.parent / paths.PORTABLE_MARKER).write_text("")
    assert paths.resolve_data_dir() == frozen_exe.parent / "data"
    assert paths.app_paths().index_dir == frozen_exe.parent / "data" / "index"


def test_without_the_marker_data_goes_to_the_user_data_folder(frozen_exe):
    expected = Path(platformdirs.user_data_dir(paths.APP_NAME, appauthor=False))
    assert paths.resolve_data_dir() == expected
    assert frozen_exe.parent not in paths.resolve_data_dir().parents


def test_env_and_explicit_folder_win_over_portable_mode(frozen_exe, tmp_path, monkeypatch):
    (frozen_exe.parent / paths.PORTABLE_MARKER).write_text("")
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "from-env"))
    assert paths.resolve_data_dir() == (tmp_path / "from-env").resolve()
    assert paths.resolve_data_dir(tmp_path / "explicit") == (tmp_path / "explicit").resolve()


def test_marker_is_ignored_when_running_from_source(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "frozen", False, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    (tmp_path / paths.PORTABLE_MARKER).write_text("")
    assert paths.resolve_data_dir() != tmp_path / "data"


def test_resources_come_from_the_bundle_when_frozen(frozen_exe):
    assert paths.resources_dir() == frozen_exe.parent / "_internal" / "resources"
    assert paths.bundle_dir() == frozen_exe.parent / "_internal"
