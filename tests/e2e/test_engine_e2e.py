"""The engine on real parts: MiniLM from its local folder, LanceDB on disk, real files.

One module-scoped embedder and one indexed folder are shared by the tests that only read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_rag.core import cli
from desktop_rag.core.cli import index as index_cmd
from desktop_rag.core.embedding.embedder import FakeEmbedder, SentenceTransformerEmbedder
from desktop_rag.core.errors import IndexMismatchError
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths, default_embedder_dir
from desktop_rag.core.settings import Settings
from tests.core.ingest.extract.badfiles import (
    BAD_FILES_LIMITS,
    GBK_NAME,
    GBK_PHRASE,
    GOOD_PDF_NAME,
    GOOD_PDF_PAGES,
    make_bad_files,
    make_good_files,
)

pytestmark = pytest.mark.slow

ZH_NAME = "实验记录.txt"
ZH_TEXT = (
    "第三次实验记录。\n\n"
    "我们在培养皿中观察到了大肠杆菌的快速增殖，温度保持在三十七摄氏度。"
    "下一步计划是测试新型抗生素对细菌生长的抑制效果。\n\n"
    "附录：实验室的离心机需要在周五之前完成维修。\n"
)


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(default_embedder_dir(), device="cpu")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], dict[str, str]]:
    root = tmp_path_factory.mktemp("e2e") / "folder"
    phrases = make_good_files(root)
    reasons = make_bad_files(root / "bad")
    (root / ZH_NAME).write_text(ZH_TEXT, encoding="utf-8")
    return root, phrases, reasons


@pytest.fixture(scope="module")
def kb(embedder, corpus, tmp_path_factory) -> KnowledgeBase:
    data = tmp_path_factory.mktemp("e2e-data")
    base = KnowledgeBase(
        AppPaths(data), Settings(), embedder=embedder, extract_limits=BAD_FILES_LIMITS
    )
    report = base.index([corpus[0]])
    assert report.indexed >= 7 and not report.cancelled
    yield base
    base.close()


def test_pdf_hit_carries_its_page(kb: KnowledgeBase):
    hits = kb.search("How much meltwater was discharged in July?", k=3)
    top = hits[0]
    assert Path(top.path).name == GOOD_PDF_NAME
    assert top.page == 2 and GOOD_PDF_PAGES[2] in top.text
    other = kb.search("weather stations recommended for next year", k=3)[0]
    assert (Path(other.path).name, other.page) == (GOOD_PDF_NAME, 3)


def test_chinese_query_finds_chinese_files(kb: KnowledgeBase):
    top = kb.search("离心机维修", k=3)[0]
    assert Path(top.path).name == ZH_NAME
    assert "离心机" in top.text
    assert Path(kb.search_keyword("抗生素", 3)[0].path).name == ZH_NAME
    gbk = kb.search(GBK_PHRASE, k=3)[0]
    assert Path(gbk.path).name == GBK_NAME and GBK_PHRASE in gbk.text


def test_good_files_searchable_and_bad_files_reported(kb: KnowledgeBase, corpus):
    _root, phrases, reasons = corpus
    for name, phrase in phrases.items():
        hits = kb.search(phrase, k=3)
        assert hits and Path(hits[0].path).name == name, (name, [h.path for h in hits])
        text_of_hit = hits[0].text
        assert phrase.split()[1] in text_of_hit
    errors = {Path(e.path).name: e.reason for e in kb.status().errors}
    for name, reason in reasons.items():
        assert name in errors, f"{name} not reported; errors: {errors}"
        assert reason in errors[name], (name, errors[name])
    assert GBK_NAME not in errors
    assert set(errors) == set(reasons)


def test_hit_offsets_point_into_the_file(kb: KnowledgeBase, corpus):
    hit = kb.search("feed the starter with rye flour", k=1)[0]
    text = (corpus[0] / "recipe.txt").read_text(encoding="utf-8")
    assert text[hit.start : hit.end] == hit.text


def test_reindex_of_unchanged_folder_embeds_nothing(kb: KnowledgeBase, corpus, embedder):
    calls: list[int] = []
    real_embed = embedder.embed

    def counting(texts):
        calls.append(len(texts))
        return real_embed(texts)

    embedder.embed = counting
    try:
        report = kb.index([corpus[0]])
    finally:
        del embedder.embed
    assert calls == [] and report.indexed == 0 and report.chunks_embedded == 0
    assert report.unchanged == len(kb.file_records())


def test_cli_index_search_status(embedder, corpus, tmp_path, monkeypatch, capsys):
    def real_kb(data_dir):
        return KnowledgeBase.open(data_dir, embedder=embedder)

    monkeypatch.setattr(index_cmd, "open_knowledge_base", real_kb)
    data = tmp_path / "cli-data"
    root = corpus[0]
    assert (
        cli.main(["--data-dir", str(data), "index", str(root / "notes.md"), str(root / ZH_NAME)])
        == 0
    )
    assert "indexed 2 files" in capsys.readouterr().out

    assert (
        cli.main(["--data-dir", str(data), "search", "how do bees keep warm in winter", "--json"])
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["path"] == str(root / "notes.md")
    assert "shiver" in rows[0]["text"] and rows[0]["page"] is None
    assert rows[0]["score"] > 0 and rows[0]["end"] > rows[0]["start"]

    assert cli.main(["--data-dir", str(data), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["files"] == 2 and status["chunks"] >= 2
    assert status["embedder"] == embedder.name and status["errors"] == []


def test_another_embedder_is_refused(kb: KnowledgeBase, monkeypatch, capsys):
    other = KnowledgeBase(kb.paths, Settings(), embedder=FakeEmbedder(dim=384))
    with pytest.raises(IndexMismatchError, match="all-MiniLM-L6-v2"):
        other.search("glacier", 3)

    monkeypatch.setattr(index_cmd, "open_knowledge_base", lambda d: other)
    assert cli.main(["--data-dir", str(kb.paths.data_dir), "search", "glacier"]) == 2
    err = capsys.readouterr().err
    assert "built with the embedding model 'all-MiniLM-L6-v2" in err and "re-index" in err


def test_offline_index_and_search(no_network, tmp_path: Path):
    """Model loading, LanceDB and search with every network connection failing."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "trip.md").write_text(
        "# Lisbon\n\nThe tram number 28 climbs through Alfama to the castle.\n", encoding="utf-8"
    )
    (folder / "tax.txt").write_text("Submit the tax return before the end of June.\n", "utf-8")
    fresh = SentenceTransformerEmbedder(default_embedder_dir(), device="cpu")
    base = KnowledgeBase(AppPaths(tmp_path / "data"), Settings(), embedder=fresh)
    assert base.index([folder]).indexed == 2
    assert Path(base.search("which tram goes to the castle", k=1)[0].path).name == "trip.md"
    assert Path(base.search_dense("deadline for taxes", k=1)[0].path).name == "tax.txt"
    base.close()
    assert no_network == []
