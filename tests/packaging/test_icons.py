"""The raster icons the installers use exist, load, and match the SVG they come from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"


@pytest.mark.parametrize(("name", "size"), [("desktop-rag.ico", 256), ("desktop-rag.icns", 512)])
def test_installer_icons_load(qapp, name, size):
    image = QImage(str(ICONS / name))
    assert not image.isNull(), f"{name} does not load; run packaging/make_icons.py"
    assert (image.width(), image.height()) == (size, size)


def test_theme_pngs_are_the_size_their_name_says(qapp):
    pngs = sorted(ICONS.glob("desktop-rag-*.png"))
    assert {48, 256} <= {int(re.search(r"-(\d+)\.png$", p.name).group(1)) for p in pngs}
    for png in pngs:
        size = int(re.search(r"-(\d+)\.png$", png.name).group(1))
        image = QImage(str(png))
        assert (image.width(), image.height()) == (size, size), png.name
        assert image.pixelColor(size // 2, size // 2).alpha() == 255  # drawn, not blank
