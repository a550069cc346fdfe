"""The one folder walk (ingest.walk.scan_folder): rules, virtual environments, links."""

from __future__ import annotations

import os
from pathlib import Path

from desktop_rag.core.ingest.ignore import IgnoreRules
from desktop_rag.core.ingest.walk import scan_folder


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_scan_honours_rules_venvs_and_supported_types(tmp_path: Path) -> None:
    keep = write(tmp_path / "docs/guide.md", "guide")
    write(tmp_path / "docs/.draft.md", "hidden")
    write(tmp_path / "node_modules/pkg/readme.md", "dep")
    write(tmp_path / "env/pyvenv.cfg", "home = /usr")
    write(tmp_path / "env/lib/readme.md", "venv file")
    write(tmp_path / "build/out.md", "user-ignored")
    write(tmp_path / "image.png", "not text")
    write(tmp_path / "notes.txt.swp", "swap")
    scan = scan_folder(str(tmp_path), IgnoreRules.from_patterns(["build/"]))
    assert set(scan.files) == {str(keep)}


def test_symlink_loops_and_duplicate_links_are_walked_once(tmp_path: Path) -> None:
    real = write(tmp_path / "a/real.txt", "text")
    os.symlink(tmp_path / "a", tmp_path / "a/loop")  # a/loop -> a
    os.symlink(tmp_path / "a", tmp_path / "alias")  # a second way into a
    os.symlink(real, tmp_path / "link.txt")  # a file link to a file already inside
    scan = scan_folder(str(tmp_path), IgnoreRules())
    assert set(scan.files) == {str(real)}
    assert len(scan.loops) == 2
