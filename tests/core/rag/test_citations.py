from desktop_rag.core.rag.answers import Source
from desktop_rag.core.rag.citations import (
    attach_sources,
    cited_numbers,
    clean_citations,
    strip_citations,
)


def source(n: int) -> Source:
    return Source(n, f"/docs/file{n}.md", None, f"text {n}", 0, 6, 1.0 / n, cited=False)


def test_cited_numbers_in_order_of_appearance_without_repeats():
    text = "Purple quartz [2]. It glows [1, 3] and hums [Source 2][4]; see [2 and 5]."
    assert cited_numbers(text) == [2, 1, 3, 4, 5]


def test_numbers_in_plain_text_are_not_citations():
    assert cited_numbers("In 2024 there were 3 reactors (see page 7) and a[i] index.") == []


def test_invalid_citations_are_removed_from_the_text():
    text = "It runs on purple quartz [7]. Cooled by water [1, 9]. Built in 2101 [Source 2]."
    assert clean_citations(text, {1, 2}) == (
        "It runs on purple quartz. Cooled by water [1]. Built in 2101 [2]."
    )


def test_strip_citations_removes_them_all():
    assert strip_citations("Purple quartz [1][2], mostly [3].") == "Purple quartz, mostly."


def test_sources_are_the_cited_ones_when_the_model_cites():
    provided = (source(1), source(2), source(3))
    text, shown, flagged = attach_sources("Quartz [3] and water [1] but not [8].", provided)
    assert text == "Quartz [3] and water [1] but not."
    assert [s.number for s in shown] == [1, 3]
    assert all(s.cited for s in shown)
    assert [(s.number, s.cited) for s in flagged] == [(1, True), (2, False), (3, True)]


def test_all_sources_are_shown_uncited_when_the_model_cites_none():
    provided = (source(1), source(2))
    text, shown, flagged = attach_sources("Purple quartz [5].", provided)
    assert text == "Purple quartz."
    assert [s.number for s in shown] == [1, 2]
    assert not any(s.cited for s in shown)
    assert shown == flagged
