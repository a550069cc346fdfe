"""The status bar shows the LoRA adapter in use, or a warning that it was refused."""

from __future__ import annotations

from dataclasses import replace

from desktop_rag.ui.status_bar import StatusBar
from tests.app_fakes import fake_model_info


def test_the_adapter_in_use_and_a_refused_one(qtbot):
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.show()
    info = fake_model_info()
    bar.model_loaded(info)
    assert not bar.lora_label.isVisible()
    bar.model_loaded(replace(info, lora="/ft/legal-tone.gguf", lora_scale=0.5))
    assert bar.lora_label.isVisible()
    assert bar.lora_label.text() == "LoRA: legal-tone ×0.5"
    assert bar.lora_label.toolTip() == "/ft/legal-tone.gguf"
    refusal = "/ft/qwen.gguf: made for the 'qwen2' architecture, but the chat model is 'llama'"
    bar.model_loaded(replace(info, lora_error=refusal))
    assert bar.lora_label.text() == "⚠ LoRA adapter not applied"
    assert bar.lora_label.toolTip() == refusal
    assert "The LoRA adapter was not applied: /ft/qwen.gguf: made for" in bar.currentMessage()
    bar.model_loading()
    assert not bar.lora_label.isVisible()
