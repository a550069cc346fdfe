"""LoRA adapters: the --lora argument, and the checks made before llama.cpp sees a file."""

from __future__ import annotations

import gguf
import numpy as np
import pytest

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.llm.model.gguf_tensors import read_tensor_shapes
from desktop_rag.core.llm.model.lora import (
    LoraChoice,
    LoraError,
    check_adapter,
    llama_refusal,
    parse_lora_arg,
)
from tests.core.llm.lora_files import N_EMBD, N_KV, N_VOCAB, lora_pair, write_base, write_gguf


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("style.gguf", LoraChoice("style.gguf", 1.0)),
        ("style.gguf:0.5", LoraChoice("style.gguf", 0.5)),
        ("style.gguf:2", LoraChoice("style.gguf", 2.0)),
        ("style.gguf:-1.5", LoraChoice("style.gguf", -1.5)),
        ("style.gguf:.25", LoraChoice("style.gguf", 0.25)),
        ("style.gguf:1e-1", LoraChoice("style.gguf", 0.1)),
        ("C:\\adapters\\style.gguf", LoraChoice("C:\\adapters\\style.gguf", 1.0)),
        ("C:\\adapters\\style.gguf:0.75", LoraChoice("C:\\adapters\\style.gguf", 0.75)),
        ("/data/run:3/style.gguf", LoraChoice("/data/run:3/style.gguf", 1.0)),
        ("/data/run:3/style.gguf:3", LoraChoice("/data/run:3/style.gguf", 3.0)),
        ("notes:v2.gguf", LoraChoice("notes:v2.gguf", 1.0)),
        ("style.gguf:nan", LoraChoice("style.gguf:nan", 1.0)),  # not a number we take
    ],
)
def test_parse_lora_arg_takes_only_a_trailing_number_as_the_scale(text, expected):
    assert parse_lora_arg(text) == expected


@pytest.mark.parametrize("text", ["", "  ", ":0.5"])
def test_parse_lora_arg_needs_a_file(text):
    with pytest.raises(ValueError, match="PATH or PATH:SCALE"):
        parse_lora_arg(text)


@pytest.fixture
def base(tmp_path):
    return str(write_base(tmp_path / "tiny.gguf"))


def adapter(tmp_path, tensors=None, name="adapter.gguf", **kwargs) -> str:
    if tensors is None:
        tensors = {
            **lora_pair("blk.0.attn_q.weight", N_EMBD, N_EMBD),
            **lora_pair("blk.0.attn_v.weight", N_KV, N_EMBD),
        }
    return str(write_gguf(tmp_path / name, tensors, **kwargs))


def refusal(adapter_path: str, base_path: str) -> str:
    with pytest.raises(LoraError) as caught:
        check_adapter(adapter_path, base_path)
    assert isinstance(caught.value, UserFacingError)
    message = str(caught.value)
    assert "convert_lora_to_gguf" in message or "Settings" in message or "again" in message
    return message


def test_the_fast_header_scan_agrees_with_gguf_reader(base):
    arch, shapes = read_tensor_shapes(base)
    reader = gguf.GGUFReader(base)
    assert arch == "llama"
    assert shapes == {t.name: tuple(int(n) for n in t.shape) for t in reader.tensors}
    assert shapes["token_embd.weight"] == (N_EMBD, N_VOCAB)  # GGUF order: ne[0] first
    assert shapes["blk.0.attn_v.weight"] == (N_EMBD, N_KV)


def test_a_matching_adapter_is_accepted_with_its_facts(tmp_path, base):
    path = adapter(tmp_path, name="style.gguf", alpha=16.0)
    info = check_adapter(path, base)
    assert (info.path, info.name, info.architecture) == (path, "style", "llama")
    assert (info.alpha, info.n_tensors) == (16.0, 4)
    # llama.cpp accepts an adapter without tensors (it changes nothing); so do we.
    named = check_adapter(str(write_gguf(tmp_path / "n.gguf", {}, name="Legal tone")), base)
    assert named.name == "Legal tone" and named.n_tensors == 0


def test_norm_vectors_are_ignored_as_llama_cpp_does(tmp_path, base):
    tensors = {
        **lora_pair("blk.0.attn_q.weight", N_EMBD, N_EMBD),
        "blk.0.attn_norm.weight": np.ones(N_EMBD, dtype=np.float32),
    }
    assert check_adapter(adapter(tmp_path, tensors), base).n_tensors == 3


def test_the_embedding_adapter_is_checked_with_a_and_b_swapped(tmp_path, base):
    # llama.cpp applies the token embedding's pair the other way round (llm_build_inp_embd):
    # B's ne[1] is the embedding width, A's ne[1] the vocabulary.
    swapped = {
        "token_embd.weight.lora_a": np.zeros((N_VOCAB, 2), dtype=np.float32),
        "token_embd.weight.lora_b": np.zeros((N_EMBD, 2), dtype=np.float32),
    }
    assert check_adapter(adapter(tmp_path, swapped, name="ok.gguf"), base).n_tensors == 2
    as_other_weights = lora_pair("token_embd.weight", N_VOCAB, N_EMBD)
    message = refusal(adapter(tmp_path, as_other_weights, name="bad.gguf"), base)
    assert "'token_embd.weight' has shape" in message


def test_a_plain_model_given_as_adapter_is_refused(tmp_path, base):
    message = refusal(base, base)
    assert "not a LoRA adapter" in message and "general.type is 'model'" in message
    untyped = adapter(tmp_path, general_type=None, adapter_type=None)
    assert "it has no general.type" in refusal(untyped, base)


def test_an_adapter_of_another_kind_is_refused(tmp_path, base):
    message = refusal(adapter(tmp_path, adapter_type="control_vector"), base)
    assert "of type 'control_vector', not a LoRA adapter" in message


def test_an_adapter_for_another_architecture_is_refused(tmp_path, base):
    message = refusal(adapter(tmp_path, arch="qwen2"), base)
    assert "made for the 'qwen2' architecture, but the chat model is 'llama'" in message


def test_an_adapter_for_a_weight_the_model_lacks_is_refused(tmp_path, base):
    tensors = {
        **lora_pair("blk.0.attn_q.weight", N_EMBD, N_EMBD),
        **lora_pair("blk.5.attn_q.weight", N_EMBD, N_EMBD),
    }
    message = refusal(adapter(tmp_path, tensors), base)
    assert "'blk.5.attn_q.weight' is not a weight of the chat model" in message


def test_a_shape_mismatch_is_refused_with_both_shapes(tmp_path, base):
    # attn_v is (N_KV, N_EMBD); an adapter made for a wider model's attn_v does not fit.
    tensors = lora_pair("blk.0.attn_v.weight", N_EMBD, N_EMBD)
    message = refusal(adapter(tmp_path, tensors), base)
    assert f"'blk.0.attn_v.weight' has shape [{N_EMBD}, {N_KV}] in the chat model" in message
    assert f"lora_b [2, {N_EMBD}]" in message


def test_a_rank_that_differs_between_a_and_b_is_refused(tmp_path, base):
    tensors = {
        "blk.0.attn_q.weight.lora_a": np.zeros((2, N_EMBD), dtype=np.float32),
        "blk.0.attn_q.weight.lora_b": np.zeros((N_EMBD, 3), dtype=np.float32),
    }
    assert "'blk.0.attn_q.weight' has shape" in refusal(adapter(tmp_path, tensors), base)


def test_a_half_pair_and_a_stray_tensor_are_refused(tmp_path, base):
    half = {"blk.0.attn_q.weight.lora_a": np.zeros((2, N_EMBD), dtype=np.float32)}
    assert "'blk.0.attn_q.weight' has no lora_b tensor" in refusal(
        adapter(tmp_path, half, name="half.gguf"), base
    )
    stray = {
        **lora_pair("blk.0.attn_q.weight", N_EMBD, N_EMBD),
        "blk.0.attn_q.weight": np.zeros((N_EMBD, N_EMBD), dtype=np.float32),
    }
    message = refusal(adapter(tmp_path, stray, name="stray.gguf"), base)
    assert "tensor 'blk.0.attn_q.weight' is not a lora_a/lora_b tensor" in message


def test_alora_invocation_tokens_of_the_wrong_type_are_refused(tmp_path, base):
    bad = adapter(tmp_path, extra={"adapter.alora.invocation_tokens": "<start>"})
    assert "adapter.alora.invocation_tokens must be a list of token ids" in refusal(bad, base)


def test_missing_and_non_gguf_files_are_refused(tmp_path, base):
    assert "adapter file not found" in refusal(str(tmp_path / "nope.gguf"), base)
    text = tmp_path / "adapter_model.safetensors"
    text.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    assert "not a GGUF adapter file" in refusal(str(text), base)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert "not a valid GGUF file" in refusal(str(cut), base)


def test_llama_refusal_quotes_llama_cpp_log_line():
    tail = [
        "llama_adapter_lora_init_impl: loading lora adapter from 'x.gguf' ...",
        "llama_adapter_lora_init: failed to apply lora adapter: model arch and LoRA arch mismatch",
        "something after",
    ]
    error = llama_refusal("/a/x.gguf", "Failed to initialize LoRA adapter", tail)
    assert str(error).startswith(
        "/a/x.gguf: llama.cpp could not apply the adapter: model arch and LoRA arch mismatch"
    )
    bare = llama_refusal("/a/x.gguf", "Failed to initialize LoRA adapter", [])
    assert "could not apply the adapter: Failed to initialize LoRA adapter" in str(bare)


@pytest.mark.parametrize("command", [["ask", "what?"], ["doctor"]])
def test_cli_lora_option_sets_the_adapter_and_scale(command, data_dir):
    from desktop_rag.core import cli
    from desktop_rag.core.cli.answer import _settings

    parser = cli.build_parser()
    args = parser.parse_args(
        ["--data-dir", str(data_dir), *command, "--lora", "C:\\ft\\legal.gguf:0.5"]
    )
    settings = _settings(args)
    assert (settings.lora_path, settings.lora_scale) == ("C:\\ft\\legal.gguf", 0.5)
    plain = _settings(parser.parse_args(["--data-dir", str(data_dir), *command]))
    assert (plain.lora_path, plain.lora_scale) == (None, 1.0)


def test_cli_lora_option_without_a_file_is_a_usage_error(data_dir, capsys):
    from desktop_rag.core import cli

    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--data-dir", str(data_dir), "doctor", "--lora", ":2"])
    assert "--lora: needs an adapter file: PATH or PATH:SCALE" in capsys.readouterr().err


def test_doctor_shows_the_adapter_or_why_it_is_refused(tmp_path, base):
    from desktop_rag.core.llm.doctor import collect, format_report
    from desktop_rag.core.settings import Settings

    fake = "tests.core.llm.fake_llm_backend:FakeBackend"
    good = adapter(tmp_path, name="legal.gguf", alpha=16.0)
    report = collect(Settings(chat_model=base, lora_path=good, lora_scale=0.5), backend=fake)
    assert report["lora"]["applied"] is True and report["lora"]["error"] is None
    text = format_report(report)
    assert "LoRA adapter: legal (llama, alpha 16, 4 tensors) at scale 0.5; applied" in text
    refused = collect(Settings(chat_model=base, lora_path=base), run_model=False)
    text = format_report(refused)
    assert "LoRA adapter: REFUSED, the model answers without it: " in text
    assert "not a LoRA adapter (general.type is 'model'" in text
