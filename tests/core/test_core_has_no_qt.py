"""`core/` must run headless: importing every module under it never imports PySide6."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

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
