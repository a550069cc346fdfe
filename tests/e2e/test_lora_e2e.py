"""LoRA adapters on the real runtime: SmolLM2 GGUF in its child, llama.cpp applying an
adapter this test writes with the `gguf` package.

The adapter is random low-rank noise on a few attention weights, strong enough that greedy
decoding changes at scale 1; at scale 0 llama.cpp adds exactly zero, so the tokens must be
the base model's. One host serves the module; it reloads SmolLM2 (about a second) for
each adapter setting.
"""

from __future__ import annotations

import pytest

from desktop_rag.core.llm.local.host import ModelHost
from desktop_rag.core.paths import default_chat_model
from desktop_rag.core.settings import Settings
from tests.core.llm.lora_files import lora_pair, write_gguf

pytestmark = pytest.mark.slow

N_EMBD, N_KV = 576, 192  # SmolLM2-135M: attn_q is 576 x 576, attn_v 192 x 576 (numpy)
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
SETTINGS = Settings(n_gpu_layers=0, context_size=512, temperature=0.0, max_tokens=12)


def smollm2_adapter(path, *, n_out_v: int = N_KV):
    tensors = {}
    for layer in range(6):
        tensors |= lora_pair(f"blk.{layer}.attn_q.weight", N_EMBD, N_EMBD, 4, std=0.2, seed=layer)
        tensors |= lora_pair(f"blk.{layer}.attn_v.weight", n_out_v, N_EMBD, 4, std=0.2, seed=layer)
    return str(write_gguf(path, tensors, alpha=4.0, name="Noise"))


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    d = tmp_path_factory.mktemp("lora_e2e")
    return {
        "good": smollm2_adapter(d / "noise.gguf"),
        # Made for a model whose attn_v is as wide as attn_q: not SmolLM2's.
        "mismatched": smollm2_adapter(d / "wide_v.gguf", n_out_v=N_EMBD),
    }


@pytest.fixture(scope="module")
def host():
    h = ModelHost(SETTINGS)
    yield h
    h.close()


def greedy(host: ModelHost, **changes) -> tuple[str, object]:
    host.reconfigure(SETTINGS.with_changes(**changes))
    pieces: list[str] = []
    host.generate(QUESTION, on_token=pieces.append, seed=7)
    return "".join(pieces), host.info


def test_scale_zero_is_the_base_model_and_scale_one_changes_it(host, adapters):
    base, info = greedy(host)
    assert base.strip() and info.lora is None and info.lora_error is None
    at_zero, info = greedy(host, lora_path=adapters["good"], lora_scale=0.0)
    assert (info.lora, info.lora_scale, info.lora_error) == (adapters["good"], 0.0, None)
    assert at_zero == base
    at_one, info = greedy(host, lora_path=adapters["good"], lora_scale=1.0)
    assert info.lora == adapters["good"] and info.lora_scale == 1.0
    assert at_one != base


def test_a_mismatched_adapter_is_refused_and_the_base_model_answers(host, adapters):
    base, _ = greedy(host)
    text, info = greedy(host, lora_path=adapters["mismatched"])
    assert info.lora is None
    assert info.lora_error.startswith(adapters["mismatched"])
    assert "'blk.0.attn_v.weight' has shape [576, 192] in the chat model" in info.lora_error
    assert text == base


def test_the_model_file_as_adapter_is_refused_and_the_base_model_answers(host):
    base, _ = greedy(host)
    text, info = greedy(host, lora_path=str(default_chat_model()))
    assert "not a LoRA adapter (general.type is 'model'" in info.lora_error
    assert text == base


def test_an_adapter_llama_cpp_refuses_is_explained_from_its_log(host, adapters, monkeypatch):
    """Our checks mirror llama.cpp's; skipping them shows llama.cpp's own refusal reaches
    the person too, read from the model log, and the model still answers."""
    base, _ = greedy(host)

    def passes(*_args):
        return None

    monkeypatch.setattr("desktop_rag.core.llm.local.host.check_adapter", passes)
    text, info = greedy(host, lora_path=adapters["mismatched"])
    assert info.lora is None
    assert (
        "llama.cpp could not apply the adapter: tensor 'blk.0.attn_v.weight' has incorrect "
        "shape" in info.lora_error
    )
    assert text == base


def test_the_window_applies_an_adapter_from_settings_and_shows_a_refusal(
    qtbot, adapters, data_dir, no_network
):
    """Through the app's services and the real engine: choosing an adapter in Settings
    reloads the model with it (the status bar says so), and a mismatched one leaves the
    base model loaded with the reason shown."""
    from desktop_rag.core.paths import app_paths
    from desktop_rag.services.app_services import build_services
    from desktop_rag.ui.main_window import MainWindow

    services = build_services(app_paths(data_dir), SETTINGS)
    window = MainWindow(services, SETTINGS)
    qtbot.addWidget(window)
    window.show()
    chat = services.chat
    try:
        with qtbot.waitSignal(chat.model_loaded, timeout=120_000):
            services.start()
        assert not window.status.lora_label.isVisible()
        with qtbot.waitSignal(chat.model_loaded, timeout=120_000) as loaded:
            window.apply_settings(SETTINGS.with_changes(lora_path=adapters["good"], lora_scale=0.5))
        assert (loaded.args[0].lora, loaded.args[0].lora_scale) == (adapters["good"], 0.5)
        assert window.status.lora_label.text() == "LoRA: noise ×0.5"
        with qtbot.waitSignal(chat.model_loaded, timeout=120_000) as loaded:
            window.apply_settings(SETTINGS.with_changes(lora_path=adapters["mismatched"]))
        assert loaded.args[0].lora is None
        assert window.status.lora_label.text() == "⚠ LoRA adapter not applied"
        assert "has shape [576, 192] in the chat model" in window.status.lora_label.toolTip()
    finally:
        window._quitting = True
        window.close()
