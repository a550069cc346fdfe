"""What a loaded chat model is (`ModelInfo`) and how fast it generated (`Timings`). Frozen."""

from __future__ import annotations

import time
from dataclasses import dataclass

from desktop_rag.core.llm.gpu.fit import FitPlan


@dataclass(frozen=True)
class Timings:
    first_token_s: float | None  # from the start of the call to the first token
    tokens: int
    tokens_per_s: float | None  # generation speed after the first token
    total_s: float
    stopped: bool = False  # stop() or cancel ended it early
    attribution_s: float = 0.0  # of total_s: tracing sentences to passages
    # Why the answer ended before the model finished, when not stopped: "the connection to
    # gpu-box:8080 was closed by the server after 41 tokens" (the tokens that came are kept).
    interrupted: str = ""

    @classmethod
    def streamed(
        cls,
        start: float,
        first: float | None,
        last: float | None,
        tokens: int,
        *,
        stopped: bool,
        interrupted: str = "",
    ) -> Timings:
        """The timings of a streamed generation from `time.perf_counter()` readings: the
        call's `start`, the `first` and `last` token's arrival (None when none came)."""
        total = time.perf_counter() - start
        spread = last - first if first is not None and last is not None else 0.0
        speed = (tokens - 1) / spread if tokens > 1 and spread > 0 else None
        first_s = None if first is None else first - start
        return cls(first_s, tokens, speed, total, stopped, interrupted=interrupted)


@dataclass(frozen=True)
class ModelInfo:
    path: str
    name: str
    size_bytes: int
    quantization: str  # "Q4_K_M", "F16", ...
    n_layers: int  # repeating blocks (the plan counts one more: the output layer)
    gpu_layers: int
    plan: FitPlan
    chat_template_source: str  # "gguf" | "fallback"
    n_ctx: int = 0
    # llama-cpp-python's handler: "chat_template.default" runs the GGUF's own Jinja template
    # (or a built-in name such as "chatml" when it recognises the template, or our fallback).
    chat_format: str = ""
    llama_cpp_version: str = ""
    # The API root of the chat server the model runs on ("http://gpu-box:8080/v1"); empty
    # when it runs on this computer. Questions and passages are sent there.
    server: str = ""
    # The LoRA adapter applied (its resolved path) and its scale; None when there is none.
    lora: str | None = None
    lora_scale: float = 1.0
    # Why the adapter in Settings was refused (the model then runs without it); None if not.
    lora_error: str | None = None
