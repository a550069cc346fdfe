"""ModelHost and LoRA adapters, with the fake model in a real child: the adapter and its
scale reach the model; a refused adapter (by our checks or by llama.cpp) leaves the model
answering without it, with the reason in ModelInfo."""

from __future__ import annotations

import pytest

from desktop_rag.core.llm.gpu.probe import GpuProbe
from desktop_rag.core.llm.local.host import ModelHost
from desktop_rag.core.settings import Settings
from tests.core.llm.lora_files import N_EMBD, lora_pair, write_base, write_gguf

BACKEND = "tests.core.llm.fake_llm_backend:FakeBackend"
NO_GPU = GpuProbe(reason="NVML unavailable: test")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("lora")
    pair = lora_pair("blk.0.attn_q.weight", N_EMBD, N_EMBD)
    return {
        "base": str(write_base(d / "tiny.gguf")),
        "good": str(write_gguf(d / "good.gguf", pair)),
        "llama_refuses": str(write_gguf(d / "llama_refuses.gguf", pair)),
        "other_arch": str(write_gguf(d / "qwen.gguf", pair, arch="qwen2")),
    }


def answer(host: ModelHost) -> str:
    pieces: list[str] = []
    host.generate([{"role": "user", "content": "one two"}], on_token=pieces.append)
    return "".join(pieces)


def make_host(files, **settings) -> ModelHost:
    return ModelHost(
        Settings(chat_model=files["base"], **settings), backend=BACKEND, probe=lambda: NO_GPU
    )


def test_the_adapter_and_its_scale_reach_the_model(files):
    host = make_host(files, lora_path=files["good"], lora_scale=0.5)
    try:
        info = host.load()
        assert (info.lora, info.lora_scale, info.lora_error) == (files["good"], 0.5, None)
        assert answer(host) == "one+lora0.5 two+lora0.5 "
        host.reconfigure(host.settings.with_changes(lora_scale=-1.0))
        assert host.info is None  # a new scale loads the model again
        assert answer(host) == "one+lora-1.0 two+lora-1.0 "
        host.reconfigure(host.settings.with_changes(lora_path=None))
        assert answer(host) == "one two "
        assert host.info.lora is None and host.info.lora_error is None
    finally:
        host.close()


def test_an_adapter_our_checks_refuse_leaves_the_model_answering(files):
    host = make_host(files, lora_path=files["other_arch"])
    try:
        info = host.load()
        assert info.lora is None
        assert info.lora_error.startswith(files["other_arch"])
        assert "made for the 'qwen2' architecture, but the chat model is 'llama'" in info.lora_error
        assert answer(host) == "one two "
    finally:
        host.close()


def test_a_model_file_given_as_adapter_is_refused_with_that_reason(files):
    host = make_host(files, lora_path=files["base"])
    try:
        assert "not a LoRA adapter (general.type is 'model'" in host.load().lora_error
        assert answer(host) == "one two "
    finally:
        host.close()


def test_an_adapter_llama_cpp_refuses_leaves_the_model_answering(files):
    host = make_host(files, lora_path=files["llama_refuses"])
    try:
        info = host.load()
        assert info.lora is None
        assert (
            "llama.cpp could not apply the adapter: tensor 'blk.0.attn_q.weight' has "
            "incorrect shape" in info.lora_error
        )
        assert answer(host) == "one two "
    finally:
        host.close()
