"""The spec's logic, entry scripts and run-time hook, checked without running PyInstaller."""

from __future__ import annotations

import ast
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "desktop_rag.spec"


class _Recorder:
    """Stands in for one of PyInstaller's build targets and remembers how it was called."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class FakeAnalysis(_Recorder):
    def __init__(self, scripts, **kwargs):
        super().__init__(scripts, **kwargs)
        self.scripts = [("pyi_rth_desktop_rag", "/rth.py", "PYSOURCE")] + [
            (Path(s).stem, s, "PYSOURCE") for s in scripts
        ]
        plugins = ["platforms/libqoffscreen.so", "platforms/libqxcb.so"]
        plugins += ["platforms/libqwayland.so", "imageformats/libqsvg.so"]
        plugins += ["iconengines/libqsvgicon.so"]
        self.binaries = [(f"PySide6/Qt/plugins/{p}", "/x", "BINARY") for p in plugins]
        self.binaries.append(("torch/bin/protoc", "/x", "BINARY"))
        self.datas = [("torch/include/ATen.h", "/x", "DATA")]
        self.pure = []


class FakeEXE(_Recorder):
    pass


@pytest.fixture
def spec_run(monkeypatch):
    import PyInstaller.utils.hooks as hooks

    monkeypatch.setattr(hooks, "collect_submodules", lambda name, filter=None: [name])
    monkeypatch.setattr(hooks, "copy_metadata", lambda name: [])
    monkeypatch.setattr(sys, "path", list(sys.path))
    names = {
        "SPECPATH": str(PACKAGING),
        "Analysis": FakeAnalysis,
        "PYZ": _Recorder,
        "EXE": FakeEXE,
        "COLLECT": _Recorder,
        "BUNDLE": _Recorder,
    }
    return runpy.run_path(str(SPEC), init_globals=names)


def test_spec_builds_one_folder_with_a_windowed_gui_and_a_console_cli(spec_run):
    analysis = spec_run["a"]
    gui, cli, coll = spec_run["gui"], spec_run["cli"], spec_run["coll"]

    assert [Path(s).name for s in analysis.args[0]] == ["entry_gui.py", "entry_cli.py"]
    assert (gui.kwargs["name"], gui.kwargs["console"]) == ("desktop-rag-gui", False)
    assert (cli.kwargs["name"], cli.kwargs["console"]) == ("desktop-rag", True)
    assert gui.kwargs["exclude_binaries"] and cli.kwargs["exclude_binaries"]
    # Each program: the shared run-time hooks, then its own entry script only.
    assert [s[0] for s in gui.args[1]] == ["pyi_rth_desktop_rag", "entry_gui"]
    assert [s[0] for s in cli.args[1]] == ["pyi_rth_desktop_rag", "entry_cli"]
    assert coll.args[:2] == (gui, cli)  # GUI first: it becomes the macOS bundle's executable
    assert coll.kwargs["name"] == "desktop-rag"


def test_spec_collects_libraries_models_and_resources(spec_run):
    kwargs = spec_run["a"].kwargs
    binaries = {(Path(src).name, dest) for src, dest in kwargs["binaries"]}
    datas = {dest for _src, dest in kwargs["datas"]}
    assert any(n.startswith("libllama") and d == "llama_cpp/lib" for n, d in binaries)
    assert {"models", "models/all-MiniLM-L6-v2", "resources"} <= datas
    assert "pyarrow.vendored.version" in kwargs["hiddenimports"]
    assert "desktop_rag" in kwargs["hiddenimports"]  # the stub returns the package's name
    assert str(PACKAGING / "rthooks" / "pyi_rth_desktop_rag.py") in kwargs["runtime_hooks"]
    assert {"tkinter", "matplotlib", "IPython", "pytest"} <= set(kwargs["excludes"])


def test_spec_prunes_collected_files(spec_run):
    analysis = spec_run["a"]
    assert ("torch/bin/protoc", "/x", "BINARY") not in analysis.binaries
    assert analysis.datas == []


def test_spec_keeps_only_transformers_code_for_embedding_architectures(spec_run):
    wanted = spec_run["_transformers_module_wanted"]
    assert wanted("transformers.modeling_utils")
    assert wanted("transformers.models.bert.modeling_bert")
    assert wanted("transformers.models.auto.modeling_auto")
    assert not wanted("transformers.models.llava.modeling_llava")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="plugin names are Linux's")
def test_spec_stops_when_a_qt_platform_plugin_is_missing(monkeypatch, spec_run):
    real_init = FakeAnalysis.__init__

    def without_wayland(self, scripts, **kwargs):
        real_init(self, scripts, **kwargs)
        self.binaries = [b for b in self.binaries if "wayland" not in b[0]]

    monkeypatch.setattr(FakeAnalysis, "__init__", without_wayland)
    with pytest.raises(SystemExit, match="libqwayland"):
        runpy.run_path(
            str(SPEC),
            init_globals={"SPECPATH": str(PACKAGING), "Analysis": FakeAnalysis, "PYZ": _Recorder},
        )


@pytest.mark.parametrize("entry", ["entry_gui.py", "entry_cli.py"])
def test_entry_scripts_call_freeze_support_before_importing_the_app(entry):
    tree = ast.parse((PACKAGING / entry).read_text())
    main_block = next(node for node in tree.body if isinstance(node, ast.If))
    first, second = main_block.body[:2]
    assert ast.unparse(first) == "multiprocessing.freeze_support()"
    assert isinstance(second, ast.ImportFrom) and second.module.startswith("desktop_rag")


def test_runtime_hook_makes_every_frozen_process_offline(monkeypatch):
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(key, raising=False)
    runpy.run_path(str(PACKAGING / "rthooks" / "pyi_rth_desktop_rag.py"))
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_runtime_hook_gives_a_windowed_process_writable_stdio(monkeypatch):
    """Windows starts a windowed program with sys.stdout/stderr None; flush() would raise."""
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    runpy.run_path(str(PACKAGING / "rthooks" / "pyi_rth_desktop_rag.py"))
    sys.stdout.write("dropped")
    sys.stderr.flush()
    assert sys.stdout.name == os.devnull


def _imported_modules(source_root: Path) -> set[str]:
    found = set()
    for path in source_root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_excluded_modules_are_never_imported_by_the_app():
    """Excluding a module the app imports breaks only the frozen build, so check here."""
    from test_packaging_inputs import inputs

    imported = _imported_modules(ROOT / "src" / "desktop_rag")
    clashes = {
        name
        for name in imported
        for excluded in inputs.EXCLUDED_MODULES
        if name == excluded or name.startswith(excluded + ".")
    }
    assert not clashes


@pytest.mark.parametrize(
    "script",
    ["build_deb.sh", "build_tarball.sh", "smoke_test.sh", "macos/build_dmg.sh"],
)
def test_shell_scripts_parse_and_are_executable(script):
    path = PACKAGING / script
    assert os.access(path, os.X_OK)
    subprocess.run(["sh", "-n", str(path)], check=True)
