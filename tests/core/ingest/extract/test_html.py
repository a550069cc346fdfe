from __future__ import annotations

from pathlib import Path

from desktop_rag.core.ingest.extract import extract_file
from desktop_rag.core.ingest.extract.html import parse_html
from tests.core.ingest.extract.checks import assert_well_formed, section_for

PAGE = """<!DOCTYPE html>
<html><head><title>Garden &amp; Orchard</title>
<style>body { color: red }</style><script>var secret = "do not index";</script></head>
<body>
<noscript>Enable JavaScript</noscript>
<p>Intro   paragraph
   spread over lines.</p>
<h1>Apples</h1>
<p>Prune apple trees in <b>late winter</b>.</p>
<h2>Pests</h2>
<ul><li>Codling moth</li><li>Aphids</li></ul>
<table><tr><th>Pest</th><th>Month</th></tr><tr><td>Moth</td><td>June</td></tr></table>
<h2>Harvest</h2>
<pre>row 1   keep   spacing
row 2</pre>
<h1>Pears</h1><p>Pears ripen off the tree.<br>Pick them early.</p>
</body></html>
"""


def test_visible_text_with_heading_paths(tmp_path: Path) -> None:
    path = tmp_path / "garden.html"
    path.write_text(PAGE, encoding="utf-8")
    doc = extract_file(path)
    assert_well_formed(doc)
    assert doc.kind == "html" and doc.title == "Garden & Orchard"
    for hidden in ("do not index", "color: red", "Enable JavaScript"):
        assert hidden not in doc.text
    assert section_for(doc, "Intro paragraph spread over lines.").heading_path == ()
    assert section_for(doc, "Prune apple trees in late winter.").heading_path == ("Apples",)
    pests = section_for(doc, "Codling moth")
    assert pests.heading_path == ("Apples", "Pests")
    assert "Codling moth\nAphids" in pests.text and "Pest\tMonth\nMoth\tJune" in pests.text
    assert "row 1   keep   spacing\nrow 2" in section_for(doc, "row 1").text
    pears = section_for(doc, "ripen off")
    assert pears.heading_path == ("Pears",) and "tree.\nPick them early." in pears.text


def test_legacy_charset_from_meta_tag(tmp_path: Path) -> None:
    html = (
        '<html><head><meta charset="windows-1252"></head><body><p>Café “déjà vu”</p></body></html>'
    )
    path = tmp_path / "old.htm"
    path.write_bytes(html.encode("cp1252"))
    assert "Café “déjà vu”" in extract_file(path).text


def test_unclosed_head_does_not_hide_the_body() -> None:
    parsed = parse_html("<html><head><title>T</title><body><p>Visible body</p></body></html>")
    assert parsed.text == "Visible body"


def test_optional_tags_left_out_are_read_as_a_browser_reads_them():
    """`</head>`, `<body>`, `</p>` and `</li>` are optional in HTML: a page that omits them
    is valid, and its text must be found (it was called "empty")."""
    page = (
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        "<title>Committee minutes</title>\n<link rel=stylesheet href=a.css>\n"
        "<h1>Minutes</h1>\n<p>The committee approved the new bicycle shed.\n"
        "<p>Budget: 4,200 euros, from the spring fund.\n<ul><li>Paint: green<li>Roof: tin</ul>\n"
    )
    parsed = parse_html(page)
    assert parsed.title == "Committee minutes"
    assert [line for line in parsed.text.splitlines() if line] == [
        "Minutes",
        "The committee approved the new bicycle shed.",
        "Budget: 4,200 euros, from the spring fund.",
        "Paint: green",
        "Roof: tin",
    ]
    assert parsed.sections[-1].heading_path == ("Minutes",)


def test_a_page_without_head_or_body_tags_and_deep_nesting():
    parsed = parse_html("<title>Bare</title>Just text <b>and bold</b>, no tags around it.")
    assert parsed.text == "Just text and bold, no tags around it." and parsed.title == "Bare"
    deep = parse_html("<div>" * 50_000 + "deep words" + "</div>" * 50_000)
    assert deep.text == "deep words"
