"""Which runtime embeds, the setting that chooses it, and the variant the index records."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from desktop_rag.core import paths
from desktop_rag.core import settings as settings_mod
from desktop_rag.core.embedding import backend as embedder_backend
from desktop_rag.core.embedding.backend import make_embedder
from desktop_rag.core.embedding.embedder import (
    FakeEmbedder,
    SentenceTransformerEmbedder,
    embedder_variant,
)
from desktop_rag.core.embedding.onnx_embedder import OnnxEmbedder
from desktop_rag.core.index.schema import MANIFEST, read_manifest
from desktop_rag.core.index.store import Store
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.paths import AppPaths, default_embedder_dir
from desktop_rag.core.records import Document, Section
from desktop_rag.core.settings import Settings


def test_backends_pick_their_runtime_without_loading(tmp_path, monkeypatch):
    monkeypatch.setattr(embedder_backend, "_cuda_available", lambda: False)
    folder = default_embedder_dir()
    assert type(make_embedder(folder, "torch", tmp_path)) is SentenceTransformerEmbedder
    auto = make_embedder(folder, "auto", tmp_path)
    assert type(auto) is OnnxEmbedder and auto._session is None
    assert type(make_embedder(folder, "onnx", tmp_path)) is OnnxEmbedder
    assert not list(tmp_path.iterdir())  # nothing exported before the first use


def test_a_cuda_gpu_keeps_torch_unless_onnx_is_asked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(embedder_backend, "_cuda_available", lambda: True)
    folder = default_embedder_dir()
    assert type(make_embedder(folder, "auto", tmp_path)) is SentenceTransformerEmbedder
    assert type(make_embedder(folder, "onnx", tmp_path)) is OnnxEmbedder


def test_an_unsupported_folder_embeds_with_torch_and_says_why(tmp_path, caplog):
    folder = tmp_path / "model"
    shutil.copytree(default_embedder_dir(), folder, ignore=shutil.ignore_patterns("*.safetensors"))
    config = json.loads((folder / "1_Pooling" / "config.json").read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(config))
    with caplog.at_level(logging.INFO, logger="desktop_rag.core.embedding.backend"):
        chosen = make_embedder(folder, "onnx", tmp_path / "cache")
    assert type(chosen) is SentenceTransformerEmbedder and chosen.variant == "torch"
    assert "not plain mean pooling" in caplog.text


def test_the_backend_setting_is_validated():
    loaded, problems = settings_mod.from_dict({"embedder_backend": "onnx"})
    assert loaded.embedder_backend == "onnx" and problems == []
    loaded, problems = settings_mod.from_dict({"embedder_backend": "tensorflow"})
    assert loaded.embedder_backend == "auto"  # the default
    assert problems and "auto, onnx, torch" in problems[0]


def test_cache_dir_follows_the_data_folder_unless_moved(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.CACHE_ENV, raising=False)
    assert AppPaths(tmp_path).cache_dir == tmp_path / "cache"
    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert AppPaths(tmp_path).cache_dir == (tmp_path / "elsewhere").resolve()


def test_an_old_manifest_reads_as_torch(tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps({"embedder": "m#1", "dim": 8, "schema": 1}))
    assert read_manifest(tmp_path).variant == "torch"


def text_document(path: str, text: str) -> Document:
    return Document(path=path, kind="text", text=text, sections=(Section(text, 0),))


class VariantEmbedder(FakeEmbedder):
    variant = "onnx-fp32"


def test_the_index_records_the_variant_that_created_it(tmp_path):
    assert embedder_variant(FakeEmbedder()) == "torch"  # embedders that do not say
    kb = KnowledgeBase(AppPaths(tmp_path), Settings(), embedder=VariantEmbedder(dim=8))
    doc = text_document("/notes/a", "alpha beta")
    kb.index_documents([doc], total=1)
    manifest = read_manifest(kb.paths.index_dir)
    assert (manifest.embedder, manifest.dim, manifest.variant) == ("fake-embedder", 8, "onnx-fp32")
    assert kb.status().embedder_variant == "onnx-fp32"
    kb.close()
    # The same model through another runtime keeps working with the index, and the
    # manifest keeps naming the runtime that created it.
    torch_kb = KnowledgeBase(AppPaths(tmp_path), Settings(), embedder=FakeEmbedder(dim=8))
    doc_b = text_document("/notes/b", "gamma")
    assert torch_kb.index_documents([doc_b], total=1).chunks_added == 1
    assert [h.path for h in torch_kb.search("alpha", 1)] == ["/notes/a"]
    assert read_manifest(torch_kb.paths.index_dir).variant == "onnx-fp32"
    torch_kb.close()


def test_store_records_a_given_variant(tmp_path: Path):
    store = Store(tmp_path / "index")
    store.ensure_tables("m#1", 8, "onnx-fp32")
    assert Store(tmp_path / "index").manifest.variant == "onnx-fp32"
    plain = Store(tmp_path / "other")
    plain.ensure_tables("m#1", 8)
    assert plain.manifest.variant == "torch"


@pytest.mark.slow
def test_knowledge_base_embeds_with_onnx_when_auto_on_cpu(tmp_path, monkeypatch):
    monkeypatch.setattr(embedder_backend, "_cuda_available", lambda: False)
    kb = KnowledgeBase(AppPaths(tmp_path), Settings(embedder_backend="auto"))
    doc = text_document("/n/a", "Rust ownership rules")
    kb.index_documents([doc], total=1)
    assert read_manifest(kb.paths.index_dir).variant == "onnx-fp32"
    assert [h.path for h in kb.search("who owns a value in Rust?", 1)] == ["/n/a"]
    kb.close()
