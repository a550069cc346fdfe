"""A fake model for ModelHost tests, run in the real child process through the same seam
(`ModelHost(backend="fake_llm_backend:FakeBackend")`) as llama.cpp's `LlamaBackend`.

- every word of the last message is one token; tokens come every 10 ms
- "SLOW_PROMPT" in the prompt: sleeps 30 s before the first token without checking the
  stop flag, like llama.cpp inside prompt evaluation
- a model path containing "corrupt" fails to load like a damaged GGUF
- a model path containing "oom" fails to load with more than 10 GPU layers, like a GPU
  running out of memory
- "notemplate" in the path: a GGUF without tokenizer.chat_template
- it claims a GPU-enabled build; tests choose what the NVML probe finds
- its build features (`llama_print_system_info()`) are FAKE_LLM_SYSTEM_INFO's, if set
- FAKE_LLM_DIE=SIGILL (any signal name): the process dies by that signal when it generates
- a LoRA adapter path containing "llama_refuses" is refused as llama.cpp refuses one: a log
  line, then llama-cpp-python's ValueError; any other adapter is "applied": each token
  then ends with "+lora<scale>" (so a test sees the adapter and its scale reach the child)
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any


class FakeBackend:
    def __init__(self) -> None:
        self.loaded: str | None = None
        self.lora_suffix = ""

    def hello(self) -> dict[str, Any]:
        hello: dict[str, Any] = {"version": "fake", "gpu_offload": True}
        if "FAKE_LLM_SYSTEM_INFO" in os.environ:
            hello["system_info"] = os.environ["FAKE_LLM_SYSTEM_INFO"]
        return hello

    def load(self, req: dict[str, Any], on_progress=None) -> dict[str, Any]:
        if on_progress is not None:
            for percent in (0, 50, 100):
                on_progress(percent / 100)
        if self.loaded is not None:
            raise RuntimeError(f"load without unloading {self.loaded} first")
        if "corrupt" in req["path"]:
            print(
                "llama_model_load: error loading model: tensor data is not within the file bounds"
            )
            raise ValueError(f"Failed to load model from file: {req['path']}")
        if "oom" in req["path"] and req["n_gpu_layers"] > 10:
            print("ggml_backend_cuda_buffer_type_alloc_buffer: allocating: out of memory")
            raise ValueError(f"Failed to load model from file: {req['path']}")
        lora = req.get("lora_path")
        if lora and "llama_refuses" in lora:
            print(
                "llama_adapter_lora_init: failed to apply lora adapter: tensor "
                "'blk.0.attn_q.weight' has incorrect shape (hint: maybe wrong base model?)"
            )
            raise ValueError(f"Failed to initialize LoRA adapter from lora path: {lora}")
        self.lora_suffix = f"+lora{req.get('lora_scale', 1.0)}" if lora else ""
        self.loaded = req["path"]
        self.gpu_layers = req["n_gpu_layers"]
        meta = {"general.architecture": "llama", "llama.block_count": "4", "general.name": "Fake"}
        template = "fallback" if "notemplate" in req["path"] else "gguf"
        return {"metadata": meta, "chat_template_source": template, "n_ctx": req["n_ctx"]}

    def unload(self) -> None:
        self.loaded = None

    def count(self, texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def stream(self, req: dict[str, Any]) -> Iterator[str]:
        if "FAKE_LLM_DIE" in os.environ:
            os.kill(os.getpid(), signal.Signals[os.environ["FAKE_LLM_DIE"]])
        prompt = req["messages"][-1]["content"]
        if "SLOW_PROMPT" in prompt:
            time.sleep(30)
        for word in prompt.split()[: req["max_tokens"]]:
            time.sleep(0.01)
            yield word + self.lora_suffix + " "
