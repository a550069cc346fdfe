"""Embedders: the fake one for unit tests, and the real MiniLM from its local folder."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_rag.core.embedding.embedder import (
    Embedder,
    FakeEmbedder,
    SentenceTransformerEmbedder,
    model_identity,
)
from desktop_rag.core.errors import ModelError
from desktop_rag.core.paths import default_embedder_dir


def test_fake_embedder_is_deterministic_normalized_and_topical():
    emb = FakeEmbedder(dim=32)
    assert isinstance(emb, Embedder)
    a, b, c = emb.embed(["red apples and pears", "pears and red apples", "tax return forms"])
    assert a.shape == (32,) and a.dtype == np.float32
    assert np.linalg.norm(a) == pytest.approx(1.0)
    np.testing.assert_allclose(a, b)
    assert float(a @ c) < float(a @ b)
    np.testing.assert_array_equal(FakeEmbedder(dim=32).embed(["tax"]), emb.embed(["tax"]))
    assert emb.embed([]).shape == (0, 32)


def test_fake_tokens_split_cjk_per_character():
    text = "Hello, 世界 ok"
    spans = FakeEmbedder().token_offsets(text)
    assert [text[s:e] for s, e in spans] == ["Hello", ",", "世", "界", "ok"]


def test_missing_model_folder_is_a_user_error(tmp_path):
    with pytest.raises(ModelError, match="no embedding model found"):
        SentenceTransformerEmbedder(tmp_path)


def test_identity_is_cheap_and_tracks_the_model(tmp_path):
    real = default_embedder_dir()
    name = model_identity(real)
    assert name.startswith("all-MiniLM-L6-v2#") and name == model_identity(real)
    copy = tmp_path / "my-model"
    copy.mkdir()
    for f in ("config.json", "modules.json", "tokenizer.json"):
        (copy / f).write_bytes((real / f).read_bytes())
    (copy / "model.safetensors").write_bytes(b"0" * 10)
    assert model_identity(copy).split("#")[1] != name.split("#")[1]
    assert SentenceTransformerEmbedder(real).name == name  # no weights loaded for the name


@pytest.mark.slow
def test_minilm_embeds_offline_and_tokenizes_with_offsets(no_network):
    emb = SentenceTransformerEmbedder(default_embedder_dir(), device="cpu")
    assert (emb.dim, emb.max_tokens) == (384, 256)
    text = "Chunking respects word pieces: tokenization."
    spans = emb.token_offsets(text)
    pieces = [text[s:e] for s, e in spans]
    assert pieces[:3] == ["Chunk", "ing", "respects"]  # word pieces, no special tokens
    assert "".join(pieces) == text.replace(" ", "")
    vectors = emb.embed(
        ["How do I renew a passport?", "Passport renewal steps", "Baking sourdough bread"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
