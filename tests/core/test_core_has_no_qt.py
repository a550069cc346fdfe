"""`core/` must run headless: no module under it imports PySide6, the services or the UI.

Two checks: a static one that reads every module's import statements (fast, so it runs in
`make test-fast` too), and one that imports every module in a fresh interpreter, which also
catches a library that pulls Qt in behind our back.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import desktop_rag

PACKAGE = Path(desktop_rag.__file__).parent
# What each layer must not import (the house style, shared/STYLE.md: ui -> services -> core).
FORBIDDEN = {
    "core": ("PySide6", "shiboken6", "desktop_rag.services", "desktop_rag.ui", "desktop_rag.app"),
    "services": ("desktop_rag.ui", "desktop_rag.app"),
}


def imported_modules(source: str) -> set[str]:
    """Every module a source file imports, wherever the import stands (functions included),
    and every string literal handed to `importlib.import_module`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and _called(node.func) == "import_module" and node.args:
            name = _literal_head(node.args[0])
            if name:
                found.add(name)
    return found


def _called(func: ast.expr) -> str:
    """`import_module` for both `importlib.import_module(...)` and `import_module(...)`."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _literal_head(arg: ast.expr) -> str:
    """The module name a call spells out: the whole string, or an f-string's literal start
    (`f"desktop_rag.ui.{name}"` -> "desktop_rag.ui")."""
    if isinstance(arg, ast.Constant):
        return str(arg.value)
    if not isinstance(arg, ast.JoinedStr):
        return ""
    head = []
    for part in arg.values:
        if not isinstance(part, ast.Constant):
            break
        head.append(str(part.value))
    return "".join(head).rstrip(".")


def layer_violations(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    """`file: module` for each import under `folder` of a module in `forbidden` (or below)."""
    out = []
    for path in sorted(folder.rglob("*.py")):
        bad = [
            m
            for m in sorted(imported_modules(path.read_text(encoding="utf-8")))
            if any(m == f or m.startswith(f + ".") for f in forbidden)
        ]
        # `from a import b` yields a and a.b: name the import once, by its shortest name.
        for module in bad:
            if not any(module.startswith(shorter + ".") for shorter in bad):
                out.append(f"{path.relative_to(folder.parent)}: {module}")
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_the_layers_above_it(layer: str) -> None:
    assert layer_violations(PACKAGE / layer, FORBIDDEN[layer]) == []
    assert len(list((PACKAGE / layer).rglob("*.py"))) > 10  # it really read the package


def test_the_static_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    layer = tmp_path / "core"
    (layer / "deep").mkdir(parents=True)
    (layer / "fine.py").write_text("import os\nfrom desktop_rag.core.records import Chunk\n")
    (layer / "top.py").write_text("from PySide6.QtCore import QObject\n")
    (layer / "deep" / "lazy.py").write_text(
        "def later():\n    import shiboken6\n    from desktop_rag import ui\n"
    )
    (layer / "deep" / "by_name.py").write_text(
        "import importlib\nimportlib.import_module('desktop_rag.services.worker')\n"
    )
    (layer / "deep" / "by_pattern.py").write_text(
        "from importlib import import_module\nimport_module(f'desktop_rag.ui.{name}')\n"
    )
    assert layer_violations(layer, FORBIDDEN["core"]) == [
        "core/deep/by_name.py: desktop_rag.services.worker",
        "core/deep/by_pattern.py: desktop_rag.ui",
        "core/deep/lazy.py: desktop_rag.ui",
        "core/deep/lazy.py: shiboken6",
        "core/top.py: PySide6.QtCore",
    ]


PROBE = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import desktop_rag.core as core

    failed = []
    for info in pkgutil.walk_packages(core.__path__, prefix="desktop_rag.core."):
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
        qt = sorted(m for m in sys.modules if m == "PySide6" or m.startswith("PySide6."))
        if qt:
            print(f"QT {info.name} imported {qt[0]}")
            sys.exit(1)
    for line in failed:
        print("IMPORT", line)
    print("OK", len(list(pkgutil.walk_packages(core.__path__, prefix="desktop_rag.core."))))
    sys.exit(2 if failed else 0)
    """
)


@pytest.mark.slow  # imports every module (torch, lancedb) in a fresh interpreter
def test_no_module_under_core_imports_pyside6():
    # A fresh interpreter: other tests' Qt imports must not hide (or fake) a violation.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().startswith("OK")
    assert int(result.stdout.split()[-1]) > 10  # it really walked the package
