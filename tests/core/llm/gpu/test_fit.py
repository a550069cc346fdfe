"""GPU layer fit on real model shapes (LLaMA-2-13B tensor tables, the real SmolLM2 file)."""

from __future__ import annotations

import pytest

from desktop_rag.core.llm.gpu.fit import (
    GIB,
    REINSTALL_HINT,
    ModelShape,
    fewer_layers,
    kv_bytes_per_layer,
    plan_fit,
    vram_needed,
)
from desktop_rag.core.llm.gpu.probe import GpuInfo, GpuProbe, probe_gpus
from desktop_rag.core.llm.model.gguf_info import GgufInfo, read_gguf_info
from tests.core.llm.llama13b import (
    N_EMBD,
    N_HEAD,
    N_LAYER,
    N_VOCAB,
    llama13b_table,
    write_llama13b_header,
)

RTX_3090 = GpuProbe((GpuInfo(0, "NVIDIA GeForce RTX 3090", int(23.1 * GIB), 24 * GIB),))
RTX_3070 = GpuProbe((GpuInfo(0, "NVIDIA GeForce RTX 3070", int(7.6 * GIB), 8 * GIB),))
NO_GPU = GpuProbe(reason="NVML unavailable: NVML Shared Library Not Found")


def llama13b(kind: str) -> ModelShape:
    info = GgufInfo(
        path="llama-2-13b.gguf",
        size_bytes=0,
        architecture="llama",
        name="LLaMA v2 13B",
        file_type=kind,
        n_layer=N_LAYER,
        n_ctx_train=4096,
        n_embd=N_EMBD,
        n_head=N_HEAD,
        n_head_kv=N_HEAD,
        head_dim_k=N_EMBD // N_HEAD,
        head_dim_v=N_EMBD // N_HEAD,
        n_vocab=N_VOCAB,
        chat_template=None,
        tensors=llama13b_table(kind),
    )
    return info.shape()


def test_kv_cache_size_of_13b_at_4k_is_3_2_gib():
    shape = llama13b("Q4_K_M")
    # 40 layers x 4096 ctx x 40 kv heads x 128 dims x (K+V) x 2 bytes (f16)
    assert kv_bytes_per_layer(shape, 4096) * 40 == 40 * 4096 * 40 * 128 * 2 * 2
    assert kv_bytes_per_layer(shape, 4096, "q8_0") < kv_bytes_per_layer(shape, 4096)


def test_13b_q4_k_m_fits_entirely_on_a_24_gb_rtx_3090():
    plan = plan_fit(llama13b("Q4_K_M"), n_ctx=4096, probe=RTX_3090, offload_supported=True)
    assert plan.gpu_layers == plan.total_layers == 41
    # 7.3 GiB of weights (token_embd stays on the CPU) + 3.1 GiB KV + compute buffer
    assert 10 * GIB < plan.expected_vram_bytes < 12 * GIB
    assert plan.reason.startswith("All 41 layers fit in 23.1 GiB free VRAM on NVIDIA GeForce")
    assert f"(needs {plan.expected_vram_bytes / GIB:.1f} GiB)" in plan.reason


def test_13b_f16_is_split_between_a_3090_and_the_cpu():
    plan = plan_fit(llama13b("F16"), n_ctx=4096, probe=RTX_3090, offload_supported=True)
    # 0.59 GiB of weights + 0.08 GiB KV per block: about 32 of 40 blocks in 22 GiB
    assert 28 <= plan.gpu_layers <= 34
    assert plan.expected_vram_bytes <= 22.1 * GIB
    assert plan.full_offload_bytes > 26 * GIB
    assert f"{plan.gpu_layers} of 41 layers fit in 23.1 GiB free VRAM" in plan.reason
    assert f"the other {41 - plan.gpu_layers} run on the CPU" in plan.reason
    # one more block would break the 1 GiB safety margin
    shape = llama13b("F16")
    assert vram_needed(shape, plan.gpu_layers + 1, 4096) > 23.1 * GIB - GIB


def test_13b_q4_k_m_on_an_8_gb_card_is_partial():
    plan = plan_fit(llama13b("Q4_K_M"), n_ctx=4096, probe=RTX_3070, offload_supported=True)
    assert 18 <= plan.gpu_layers <= 26
    assert plan.expected_vram_bytes <= 6.6 * GIB
    assert "NVIDIA GeForce RTX 3070" in plan.reason and "run on the CPU" in plan.reason


def test_longer_context_means_fewer_layers():
    short = plan_fit(llama13b("Q4_K_M"), n_ctx=2048, probe=RTX_3070, offload_supported=True)
    long = plan_fit(llama13b("Q4_K_M"), n_ctx=8192, probe=RTX_3070, offload_supported=True)
    assert long.gpu_layers < short.gpu_layers


def test_no_gpu_means_zero_layers_and_says_why():
    plan = plan_fit(llama13b("Q4_K_M"), n_ctx=4096, probe=NO_GPU, offload_supported=True)
    assert plan.gpu_layers == 0 and plan.total_layers == 41
    assert plan.reason == (
        "No NVIDIA GPU found (NVML unavailable: NVML Shared Library Not Found): running on the CPU"
    )


def test_cpu_only_build_with_a_gpu_present_gives_the_reinstall_command():
    plan = plan_fit(llama13b("Q4_K_M"), n_ctx=4096, probe=RTX_3090, offload_supported=False)
    assert plan.gpu_layers == 0
    assert "NVIDIA GeForce RTX 3090 is present" in plan.reason
    assert "built without GPU support" in plan.reason
    assert REINSTALL_HINT in plan.reason


def test_a_card_too_small_for_one_layer_runs_on_the_cpu():
    tiny = GpuProbe((GpuInfo(0, "NVIDIA GeForce GT 710", int(1.2 * GIB), 2 * GIB),))
    plan = plan_fit(llama13b("F16"), n_ctx=4096, probe=tiny, offload_supported=True)
    assert plan.gpu_layers == 0
    assert plan.reason.startswith("Not enough free VRAM on NVIDIA GeForce GT 710")


@pytest.mark.parametrize(("requested", "expected"), [(10, 10), (-1, 41), (99, 41), (0, 0)])
def test_a_manual_number_overrides_auto(requested, expected):
    plan = plan_fit(
        llama13b("F16"), n_ctx=4096, probe=RTX_3070, offload_supported=True, requested=requested
    )
    assert plan.gpu_layers == expected
    if requested == 0:
        assert plan.mode == "cpu" and "turned off" in plan.reason
    else:
        assert plan.mode == "manual"
    if expected == 41:
        assert "loading may fail" in plan.reason  # 26 GB of F16 on an 8 GB card


def test_retry_halves_the_layers_and_says_so():
    shape = llama13b("Q4_K_M")
    plan = plan_fit(shape, n_ctx=4096, probe=RTX_3090, offload_supported=True)
    retry = fewer_layers(plan, shape, 4096)
    assert retry is not None and retry.gpu_layers == 20
    assert retry.expected_vram_bytes == vram_needed(shape, 20, 4096)
    assert "failed" in retry.reason and "retried with 20" in retry.reason
    cpu = plan_fit(shape, n_ctx=4096, probe=NO_GPU, offload_supported=True)
    assert fewer_layers(cpu, shape, 4096) is None


def test_two_gpus_pool_their_free_memory():
    two = GpuProbe(
        (
            GpuInfo(0, "NVIDIA GeForce RTX 3070", int(7.6 * GIB), 8 * GIB),
            GpuInfo(1, "NVIDIA GeForce RTX 3070", int(7.6 * GIB), 8 * GIB),
        )
    )
    plan = plan_fit(llama13b("Q4_K_M"), n_ctx=4096, probe=two, offload_supported=True)
    assert plan.gpu_layers == 41
    assert "2 GPUs (NVIDIA GeForce RTX 3070, NVIDIA GeForce RTX 3070)" in plan.reason


def test_header_written_with_ggufwriter_gives_the_same_plan(tmp_path):
    path = write_llama13b_header(tmp_path / "llama-2-13b.Q4_K_M.gguf", "Q4_K_M")
    assert path.stat().st_size > 7 * GIB  # a sparse file: the data is a hole
    info = read_gguf_info(path)
    assert (info.n_layer, info.n_embd, info.n_head_kv, info.n_vocab) == (40, 5120, 40, 32000)
    assert info.file_type == "Q4_K_M"
    assert info.tensors == llama13b_table("Q4_K_M")
    from_file = plan_fit(info.shape(), n_ctx=4096, probe=RTX_3070, offload_supported=True)
    computed = plan_fit(llama13b("Q4_K_M"), n_ctx=4096, probe=RTX_3070, offload_supported=True)
    assert from_file == computed


def test_nvml_probe_never_raises():
    probe = probe_gpus()
    assert probe.gpus or probe.reason  # here: no driver, so a reason


@pytest.mark.slow
def test_fit_on_the_real_smollm2_file():
    from desktop_rag.core.paths import default_chat_model

    info = read_gguf_info(default_chat_model())
    shape = info.shape()
    assert (info.n_layer, info.n_head, info.n_head_kv, info.file_type) == (30, 9, 3, "Q4_1")
    # tied embeddings: no output.weight, so offloading the output layer copies token_embd
    assert shape.output_bytes >= shape.embd_bytes > 0
    assert sum(shape.layer_bytes) + shape.embd_bytes < info.size_bytes
    plan = plan_fit(shape, n_ctx=4096, probe=RTX_3070, offload_supported=True)
    assert plan.gpu_layers == 31
    assert plan.expected_vram_bytes < 0.5 * GIB
    assert plan_fit(shape, n_ctx=4096, probe=NO_GPU, offload_supported=True).gpu_layers == 0
