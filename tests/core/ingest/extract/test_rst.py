from __future__ import annotations

from pathlib import Path

from desktop_rag.core.ingest.extract import extract_file
from tests.core.ingest.extract.checks import assert_well_formed, section_for

DOC = """\
=============
 User Manual
=============

Welcome text.

Installation
============

Run the installer.

Linux
-----

Use the tarball.

Usage
=====

Start the app.

.. code-block:: python

   x = 1
   ----
"""


def test_heading_levels_follow_adornment_order(tmp_path: Path) -> None:
    path = tmp_path / "manual.rst"
    path.write_text(DOC, encoding="utf-8")
    doc = extract_file(path)
    assert_well_formed(doc)
    assert doc.kind == "rst" and doc.title == "User Manual"
    assert section_for(doc, "Welcome text").heading_path == ("User Manual",)
    assert section_for(doc, "Run the installer").heading_path == ("User Manual", "Installation")
    assert section_for(doc, "tarball").heading_path == ("User Manual", "Installation", "Linux")
    usage = section_for(doc, "Start the app")
    assert usage.heading_path == ("User Manual", "Usage")
    assert "x = 1" in usage.text  # an indented line over dashes is not a title
