from __future__ import annotations

from pathlib import Path

from desktop_rag.core.ingest.extract import extract_file
from desktop_rag.core.ingest.extract.markdown import parse_markdown
from tests.core.ingest.extract.checks import assert_well_formed, section_for

DOC = """---
title: "Field Guide"
tags: [birds]
---
Intro before any heading.

# Birds

Birds have feathers.

## Herons

```python
# not a heading, just a comment
print("heron")
```

Herons stand still in shallow water.

### Grey heron ###

The grey heron is common.

## Owls

Owls hunt at night.

# Mammals

Mammals have fur.
"""


def test_sections_split_at_headings_with_paths(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(DOC, encoding="utf-8")
    doc = extract_file(path)
    assert_well_formed(doc)
    assert doc.kind == "markdown" and doc.title == "Field Guide"
    assert "title:" not in doc.text and doc.text.startswith("Intro before any heading.")
    assert section_for(doc, "Intro before").heading_path == ()
    assert section_for(doc, "Birds have feathers").heading_path == ("Birds",)
    herons = section_for(doc, "stand still")
    assert herons.heading_path == ("Birds", "Herons")
    assert herons.text.startswith("## Herons") and "# not a heading" in herons.text
    assert section_for(doc, "grey heron is").heading_path == ("Birds", "Herons", "Grey heron")
    assert section_for(doc, "hunt at night").heading_path == ("Birds", "Owls")
    assert section_for(doc, "have fur").heading_path == ("Mammals",)


def test_toml_front_matter_and_setext_headings() -> None:
    text = '+++\ntitle = "Hugo page"\n+++\nTop\n===\n\nbody one\n\nSub\n---\n\nbody two\n'
    parsed = parse_markdown(text)
    assert parsed.title == "Hugo page"
    paths = {s.text.splitlines()[-1]: s.heading_path for s in parsed.sections}
    assert paths == {"body one": ("Top",), "body two": ("Top", "Sub")}


def test_rule_after_blank_line_is_not_a_heading_and_title_falls_back_to_h1() -> None:
    parsed = parse_markdown("# Real title\n\ntext\n\n---\n\nmore text\n")
    assert parsed.title == "Real title"
    assert [s.heading_path for s in parsed.sections] == [("Real title",)]


def test_unclosed_front_matter_is_kept_as_text() -> None:
    parsed = parse_markdown("---\nnot front matter at all\n")
    assert "not front matter" in parsed.text and parsed.title is None
