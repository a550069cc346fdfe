"""The .deb and .tar.gz builders, run on a stand-in app folder (no PyInstaller build needed)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import pytest

import desktop_rag
from desktop_rag.core.install.system_libs import deb_depends

ROOT = Path(__file__).resolve().parents[2]
VERSION = desktop_rag.__version__
MENU_ENTRY = next((ROOT / "resources").glob("*.desktop")).name

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux packages")


def _png(size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x20\x40\x80\xff" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )  # fmt: skip


@pytest.fixture
def fake_app(tmp_path: Path) -> Path:
    app = tmp_path / "dist" / "desktop-rag"
    (app / "_internal" / "models").mkdir(parents=True)
    (app / "_internal" / "models" / "weights.bin").write_bytes(b"\0" * 10)
    for exe in ("desktop-rag", "desktop-rag-gui"):
        (app / exe).write_text("#!/bin/sh\necho frozen\n")
        (app / exe).chmod(0o755)
    return app


@pytest.fixture
def icons(tmp_path: Path) -> Path:
    folder = tmp_path / "icons"
    folder.mkdir()
    (folder / "desktop-rag.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (folder / "desktop-rag-48.png").write_bytes(_png(48))
    (folder / "desktop-rag-256.png").write_bytes(_png(256))
    return folder


def _run(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_deb_installs_into_opt_with_launchers_menu_entry_and_icons(tmp_path, fake_app, icons):
    out = tmp_path / "out"
    _run(
        "packaging/build_deb.sh", str(fake_app), str(out),
        env={"BUILD_DIR": str(tmp_path / "stage"), "ICONS_DIR": str(icons),
             "PYTHON": sys.executable},
    )  # fmt: skip
    arch = _run("dpkg", "--print-architecture").strip()
    deb = out / f"desktop-rag_{VERSION}_{arch}.deb"

    info = _run("dpkg-deb", "-I", str(deb))
    assert re.search(r"^ Package: desktop-rag$", info, re.M)
    assert re.search(rf"^ Version: {re.escape(VERSION)}$", info, re.M)
    assert re.search(rf"^ Architecture: {arch}$", info, re.M)
    assert re.search(r"Depends: libc6 \(>= \d+\.\d+\),", info)
    # Every library Qt's display plugins need from the system (the launcher's own table).
    depends = re.search(r"^ Depends: (.*)$", info, re.M).group(1).split(", ")
    assert set(deb_depends().split(", ")) <= set(depends)
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"} <= set(depends)

    listing = _run("dpkg-deb", "-c", str(deb))
    entries = {line.split()[-1] if "->" not in line else line.split()[-3]: line
               for line in listing.splitlines()}  # fmt: skip
    for path in (
        "./opt/desktop-rag/desktop-rag",
        "./opt/desktop-rag/desktop-rag-gui",
        "./opt/desktop-rag/_internal/models/weights.bin",
        "./usr/bin/desktop-rag",
        "./usr/bin/desktop-rag-gui",
        f"./usr/share/applications/{MENU_ENTRY}",
        "./usr/share/icons/hicolor/scalable/apps/desktop-rag.svg",
        "./usr/share/icons/hicolor/48x48/apps/desktop-rag.png",
        "./usr/share/icons/hicolor/256x256/apps/desktop-rag.png",
    ):
        assert path in entries, path
    assert all(" root/root " in line for line in entries.values())
    assert entries["./opt/desktop-rag/desktop-rag-gui"].startswith("-rwxr-xr-x")

    root = tmp_path / "root"
    _run("dpkg", "-x", str(deb), str(root))
    launcher = (root / "usr/bin/desktop-rag-gui").read_text()
    assert 'exec /opt/desktop-rag/desktop-rag-gui "$@"' in launcher
    entry = (root / "usr/share/applications" / MENU_ENTRY).read_text()
    assert re.search(r"^Exec=desktop-rag-gui\b", entry, re.M)  # found through /usr/bin
    assert re.search(r"^Icon=desktop-rag$", entry, re.M)  # the hicolor icon's name
    if shutil.which("desktop-file-validate"):
        _run("desktop-file-validate", str(root / "usr/share/applications" / MENU_ENTRY))


def test_tarball_unpacks_to_one_versioned_folder_keeping_modes(tmp_path, fake_app):
    out = tmp_path / "out"
    _run("packaging/build_tarball.sh", str(fake_app), str(out))
    name = f"desktop-rag-{VERSION}-linux-{os.uname().machine}"

    with tarfile.open(out / f"{name}.tar.gz") as tar:
        members = {m.name: m for m in tar.getmembers()}

    assert {n.split("/")[0] for n in members} == {name}
    assert members[f"{name}/desktop-rag"].mode & 0o111
    assert members[f"{name}/desktop-rag-gui"].mode & 0o111
    assert f"{name}/_internal/models/weights.bin" in members
    assert {(m.uid, m.gid) for m in members.values()} == {(0, 0)}


def test_builders_refuse_a_folder_without_the_frozen_app(tmp_path):
    for script in ("packaging/build_tarball.sh", "packaging/build_deb.sh"):
        done = subprocess.run(
            [script, str(tmp_path), str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode != 0
        assert "no frozen app" in done.stderr
