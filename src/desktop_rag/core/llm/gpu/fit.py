"""How many layers of a GGUF model to put on the GPU, and why. Pure: data in, `FitPlan` out.

llama.cpp's `n_gpu_layers` counts the model's repeating blocks plus the output layer
(so a 40-block model has 41 "layers"): n <= n_layer offloads the last n blocks, n_layer + 1
also offloads the output layer. The token embedding always stays in host memory. A block
on the GPU also keeps its slice of the KV cache there, and every GPU in use needs a compute
buffer. We add those up from the file's own tensor table and compare with free VRAM minus
a safety margin (llama.cpp's own fitting keeps 1 GiB free too).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, TypedDict

from desktop_rag.core.llm.gpu.probe import GpuProbe

GIB = 1 << 30
OFF_REASON = "GPU offload is turned off in Settings (0 layers): running on the CPU"
SAFETY_MARGIN = GIB
# Bytes per cache element for llama.cpp's cache types (block size / bytes per block).
KV_CACHE_BYTES = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
REINSTALL_HINT = (
    'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python'
)


@dataclass(frozen=True)
class ModelShape:
    """What the fit needs to know about a model, read from its GGUF header."""

    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim_k: int
    head_dim_v: int
    n_vocab: int
    layer_bytes: tuple[int, ...]  # weights of blk.N.*, index N
    output_bytes: int  # output.weight + output_norm (a copy of token_embd when tied)
    embd_bytes: int  # token_embd, kept in host memory


@dataclass(frozen=True)
class FitPlan:
    gpu_layers: int
    total_layers: int  # n_layer + 1 (the output layer)
    expected_vram_bytes: int
    reason: str  # one or two sentences for a person
    mode: Literal["auto", "manual", "cpu"] = "auto"
    full_offload_bytes: int | None = None  # what putting everything on the GPU would need
    free_vram_bytes: int | None = None
    gpu_name: str | None = None


class _GpuFacts(TypedDict):
    """What every plan made for a present GPU reports beside its layers."""

    full_offload_bytes: int
    free_vram_bytes: int
    gpu_name: str


def gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def kv_bytes_per_layer(shape: ModelShape, n_ctx: int, cache_type: str = "f16") -> int:
    per_token = shape.n_head_kv * (shape.head_dim_k + shape.head_dim_v)
    return int(n_ctx * per_token * KV_CACHE_BYTES[cache_type])


def compute_buffer_bytes(shape: ModelShape, n_ctx: int, n_ubatch: int = 512) -> int:
    """Rough size of llama.cpp's GPU compute buffer for one micro-batch.

    Dominated by the logits (n_vocab per token), the attention scores without flash
    attention (n_ctx x n_head per token) and a few n_embd-wide activations.
    """
    ubatch = min(n_ubatch, n_ctx)
    return ubatch * (shape.n_vocab + n_ctx * shape.n_head + 4 * shape.n_embd) * 4


def vram_needed(shape: ModelShape, gpu_layers: int, n_ctx: int, cache_type: str = "f16") -> int:
    """VRAM for `gpu_layers` (llama.cpp's counting), compute buffer included; 0 for none."""
    if gpu_layers <= 0:
        return 0
    blocks = min(gpu_layers, shape.n_layer)
    kv = kv_bytes_per_layer(shape, n_ctx, cache_type)
    total = sum(shape.layer_bytes[shape.n_layer - blocks :]) + blocks * kv
    if gpu_layers > shape.n_layer:
        total += shape.output_bytes
    return total + compute_buffer_bytes(shape, n_ctx)


def cpu_reason(probe: GpuProbe, offload_supported: bool) -> str | None:
    """Why the GPU cannot be used at all, or None when it can."""
    if not probe.gpus:
        return f"No NVIDIA GPU found ({probe.reason or 'none reported'}): running on the CPU"
    if not offload_supported:
        return (
            f"{_describe(probe)} is present, but this llama-cpp-python was built without GPU "
            f"support, so the model runs on the CPU. To use the GPU, reinstall it with: "
            f"{REINSTALL_HINT}"
        )
    return None


def cpu_plan(total_layers: int, reason: str) -> FitPlan:
    return FitPlan(0, total_layers, 0, reason, mode="cpu")


def plan_fit(
    shape: ModelShape,
    *,
    n_ctx: int,
    probe: GpuProbe,
    offload_supported: bool,
    requested: int | Literal["auto"] = "auto",
    cache_type: str = "f16",
    margin: int = SAFETY_MARGIN,
) -> FitPlan:
    total = shape.n_layer + 1
    full = vram_needed(shape, total, n_ctx, cache_type)
    if requested == 0:
        return cpu_plan(
            total, "GPU offload is turned off in Settings (0 layers): running on the CPU"
        )
    reason = cpu_reason(probe, offload_supported)
    if reason is not None:
        return replace(cpu_plan(total, reason), full_offload_bytes=full)
    free = sum(g.free_bytes for g in probe.gpus)
    name = _describe(probe)
    common: _GpuFacts = {"full_offload_bytes": full, "free_vram_bytes": free, "gpu_name": name}
    if requested != "auto":
        layers = total if requested < 0 else min(requested, total)
        need = vram_needed(shape, layers, n_ctx, cache_type)
        warning = "" if need + margin <= free else "; that is more than fits, loading may fail"
        text = (
            f"{layers} of {total} layers on {name} as set in Settings "
            f"(needs about {gib(need)} of {gib(free)} free VRAM{warning})"
        )
        return FitPlan(layers, total, need, text, mode="manual", **common)
    budget = free - margin * len(probe.gpus)
    if full <= budget:
        text = f"All {total} layers fit in {gib(free)} free VRAM on {name} (needs {gib(full)})"
        return FitPlan(total, total, full, text, **common)
    layers = _most_layers_within(shape, budget, n_ctx, cache_type)
    if layers == 0:
        text = (
            f"Not enough free VRAM on {name} ({gib(free)} free, keeping {gib(margin)} spare; "
            f"one layer needs {gib(vram_needed(shape, 1, n_ctx, cache_type))}): "
            "running on the CPU"
        )
        return FitPlan(0, total, 0, text, **common)
    need = vram_needed(shape, layers, n_ctx, cache_type)
    text = (
        f"{layers} of {total} layers fit in {gib(free)} free VRAM on {name} "
        f"(using {gib(need)}, keeping {gib(margin)} spare; all would need {gib(full)}); "
        f"the other {total - layers} run on the CPU"
    )
    return FitPlan(layers, total, need, text, **common)


def fewer_layers(
    plan: FitPlan, shape: ModelShape | None, n_ctx: int, cache_type: str = "f16"
) -> FitPlan | None:
    """The plan to retry with after loading failed, or None when already on the CPU."""
    if plan.gpu_layers <= 0:
        return None
    layers = plan.gpu_layers // 2
    need = vram_needed(shape, layers, n_ctx, cache_type) if shape else 0
    note = (
        f" Loading with {plan.gpu_layers} GPU layers failed (most likely out of memory); "
        f"retried with {layers}."
    )
    return replace(plan, gpu_layers=layers, expected_vram_bytes=need, reason=plan.reason + note)


def _most_layers_within(shape: ModelShape, budget: int, n_ctx: int, cache_type: str) -> int:
    best = 0
    for layers in range(1, shape.n_layer + 1):
        if vram_needed(shape, layers, n_ctx, cache_type) > budget:
            break
        best = layers
    return best


def _describe(probe: GpuProbe) -> str:
    names = [g.name for g in probe.gpus]
    if len(names) == 1:
        return names[0]
    return f"{len(names)} GPUs ({', '.join(names)})"
