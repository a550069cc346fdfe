"""The ONNX Runtime embedder: pooling by hand, and the real MiniLM against torch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_rag.core.embedding import onnx_export
from desktop_rag.core.embedding.embedder import Embedder, FakeEmbedder, SentenceTransformerEmbedder
from desktop_rag.core.embedding.onnx_embedder import OnnxEmbedder, mean_pool
from desktop_rag.core.errors import ModelError
from desktop_rag.core.paths import default_embedder_dir


def test_mean_pool_leaves_padding_out_and_normalises():
    hidden = np.array(
        [
            [[3.0, 0.0], [1.0, 4.0], [100.0, 100.0]],  # last position is padding
            [[0.0, 2.0], [0.0, 2.0], [0.0, 2.0]],
        ]
    )
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    pooled = mean_pool(hidden, mask)
    assert pooled.dtype == np.float32 and pooled.shape == (2, 2)
    np.testing.assert_allclose(pooled[0], np.array([2.0, 2.0]) / np.sqrt(8), rtol=1e-6)
    np.testing.assert_allclose(pooled[1], [0.0, 1.0], rtol=1e-6)


def test_mean_pool_of_no_tokens_is_zero_not_nan():
    pooled = mean_pool(np.ones((1, 2, 3)), np.zeros((1, 2), dtype=np.int64))
    assert np.isfinite(pooled).all() and not pooled.any()


def _copy_model(tmp_path: Path, name: str = "copy") -> Path:
    """The small files of the real model folder, weights left out (nothing loads them)."""
    real = default_embedder_dir()
    copy = tmp_path / name
    shutil.copytree(real, copy, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    return copy


def test_real_minilm_folder_is_supported():
    assert onnx_export.unsupported_reason(default_embedder_dir()) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("dense", "modules Transformer, Pooling, Dense, Normalize"),
        ("cls", "not plain mean pooling"),
        ("no-tokenizer", "no tokenizer.json"),
        ("no-modules", "no readable modules.json"),
    ],
)
def test_folders_it_cannot_reproduce_are_refused_with_a_reason(tmp_path, change, reason):
    folder = _copy_model(tmp_path)
    if change == "dense":
        modules = json.loads((folder / "modules.json").read_text())
        modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense",
                           "type": "sentence_transformers.models.Dense"})  # fmt: skip
        (folder / "modules.json").write_text(json.dumps(modules))
    elif change == "cls":
        config = json.loads((folder / "1_Pooling" / "config.json").read_text())
        config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
        (folder / "1_Pooling" / "config.json").write_text(json.dumps(config))
    elif change == "no-tokenizer":
        (folder / "tokenizer.json").unlink()
    else:
        (folder / "modules.json").unlink()
    assert reason in onnx_export.unsupported_reason(folder)


def test_cache_key_separates_models_and_variants():
    a = onnx_export.cache_key("model-a#1", onnx_export.FP32)
    assert a == onnx_export.cache_key("model-a#1", onnx_export.FP32)
    assert a != onnx_export.cache_key("model-b#2", onnx_export.FP32)
    assert a != onnx_export.cache_key("model-a#1", onnx_export.INT8)


def test_a_failed_export_falls_back_to_the_torch_embedder(tmp_path, monkeypatch, caplog):
    def broken_export(*args, **kwargs):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_export, "export", broken_export)
    fallback = FakeEmbedder(dim=8)
    emb = OnnxEmbedder(default_embedder_dir(), tmp_path, fallback=lambda: fallback)
    assert isinstance(emb, Embedder)
    vectors = emb.embed(["some words"])
    assert (emb.variant, emb.dim, vectors.shape) == ("torch", 8, (1, 8))
    assert fallback.embedded_texts == ["some words"]
    assert "exporter exploded" in caplog.text


def test_a_failed_export_without_fallback_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_export, "export", lambda *a, **k: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(ModelError, match="ONNX Runtime"):
        OnnxEmbedder(default_embedder_dir(), tmp_path).embed(["a"])


# Short, long (truncated at 256 tokens), CJK, code, whitespace, an empty text.
TEXTS = [
    "hello",
    "Ownership is Rust's most unique feature.",
    "  surrounding whitespace is stripped  ",
    "",
    "所有权是 Rust 最独特的功能，它让 Rust 无需垃圾回收即可保证内存安全。",
    "東京は日本の首都です。",
    "한국어 문장도 임베딩됩니다.",
    'fn main() {\n    let s = String::from("hello");\n    println!("{s}");\n}',
    "SELECT id, path FROM chunks WHERE path = 'a''b' ORDER BY ordinal;",
    "def mean_pool(hidden, mask):\n    return (hidden * mask).sum(1) / mask.sum(1)",
    "The borrow checker compares scopes to determine whether all borrows are valid. " * 30,
    "Patients received 10 mg/kg of the drug twice daily for 12 weeks (n = 240).",
    "ÉLAN vital — naïve café résumé",
    "🙂 emoji and symbols ∑ ∫ √",
] + [f"Chapter {i}: section {i * 7} of the book, about topic number {i}." for i in range(20)]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return SentenceTransformerEmbedder(default_embedder_dir(), device="cpu").embed(TEXTS)


@pytest.mark.slow
@pytest.mark.parametrize("variant", [onnx_export.FP32, onnx_export.FUSED])
def test_onnx_vectors_match_torch_vectors(shared_cache_dir, torch_vectors, no_network, variant):
    emb = OnnxEmbedder(default_embedder_dir(), shared_cache_dir, variant=variant)
    assert emb.name == SentenceTransformerEmbedder(default_embedder_dir()).name
    assert (emb.dim, emb.max_tokens, emb.variant) == (384, 256, variant)
    vectors = emb.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(vectors * torch_vectors, axis=1)
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(4), strict=True))
    # One at a time gives what a batch gives: padding never leaks into a vector.
    np.testing.assert_allclose(emb.embed([TEXTS[1]])[0], vectors[1], atol=1e-5)
    assert emb.embed([]).shape == (0, 384)
    assert emb.token_offsets("Hello world") == [(0, 5), (6, 11)]


@pytest.mark.slow
def test_the_cached_export_is_reused(shared_cache_dir):
    first = OnnxEmbedder(default_embedder_dir(), shared_cache_dir)
    first.embed(["load"])
    assert onnx_export.is_complete(first.model_file)
    second = OnnxEmbedder(default_embedder_dir(), shared_cache_dir)
    second.embed(["load"])
    assert not second.exported and second.model_file == first.model_file
    # Its threads sleep between operators: a question's embedding runs beside the keyword
    # search, and busy-waiting threads slowed that search (onnx_embedder._open_session).
    options = second._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_cached_export_is_exported_again(
    tmp_path, shared_cache_dir, torch_vectors, damage
):
    good = OnnxEmbedder(default_embedder_dir(), shared_cache_dir)
    good.embed(["load"])
    emb = OnnxEmbedder(default_embedder_dir(), tmp_path)
    emb.model_file.parent.mkdir(parents=True)
    shutil.copy(good.model_file.parent / "export.json", emb.model_file.parent)
    if damage == "truncated":  # a copy cut short: its size disagrees with the record
        emb.model_file.write_bytes(good.model_file.read_bytes()[:1_000_000])
    else:  # the right size but not a model: onnxruntime refuses it
        emb.model_file.write_bytes(b"\0" * good.model_file.stat().st_size)
    vectors = emb.embed(TEXTS[:3])
    assert emb.exported and onnx_export.is_complete(emb.model_file)
    assert np.sum(vectors * torch_vectors[:3], axis=1).min() >= 0.999
    assert not list(emb.model_file.parent.glob(".export-*"))  # no temporary left behind
