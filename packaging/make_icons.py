"""Render resources/icons/desktop-rag.svg into the raster icons installers want.

Writes PNGs at the sizes desktop icon themes use (the .deb installs them into hicolor), a
Windows .ico and a macOS .icns, with Qt's own image writers, so no extra tool is needed.
The outputs are checked in; run this again after changing the SVG:

    .venv/bin/python packaging/make_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def write(image: QImage, path: Path, fmt: bytes) -> None:
    writer = QImageWriter(str(path), fmt)
    if not writer.write(image):
        raise SystemExit(f"could not write {path}: {writer.errorString()}")


def main() -> int:
    QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "desktop-rag.svg"))
    if not renderer.isValid():
        print(f"cannot read {ICONS / 'desktop-rag.svg'}", file=sys.stderr)
        return 1
    for size in PNG_SIZES:
        write(render(renderer, size), ICONS / f"desktop-rag-{size}.png", b"png")
    write(render(renderer, 256), ICONS / "desktop-rag.ico", b"ico")  # Windows scales it down
    write(render(renderer, 512), ICONS / "desktop-rag.icns", b"icns")
    for path in sorted(ICONS.iterdir()):
        print(f"{path.name:<24} {path.stat().st_size:>8} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
