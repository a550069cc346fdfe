import json
import platform
from pathlib import Path

import pytest

from desktop_rag.core.cli import main as cli_main
from desktop_rag.core.llm.doctor import collect, format_report
from desktop_rag.core.llm.gpu.fit import GIB
from desktop_rag.core.settings import Settings

FAKE = "tests.core.llm.fake_llm_backend:FakeBackend"


def test_report_text_with_a_gpu_and_a_split_plan():
    report = {
        "versions": {"python": "3.11.7", "llama-cpp-python": "0.3.36", "torch": None},
        "llama_gpu_offload": True,
        "gpus": [
            {
                "index": 0,
                "name": "NVIDIA GeForce RTX 3070",
                "free_bytes": 7 * GIB,
                "total_bytes": 8 * GIB,
            }
        ],
        "gpu_reason": None,
        "driver_version": "550.54",
        "model": {
            "path": "/m/13b.gguf",
            "name": "LLaMA v2 13B",
            "quantization": "Q4_K_M",
            "size_bytes": 7 * GIB,
            "n_layers": 40,
            "n_ctx_train": 4096,
            "chat_template": "gguf",
        },
        "fit": {
            "gpu_layers": 22,
            "total_layers": 41,
            "mode": "auto",
            "context_size": 4096,
            "reason": "22 of 41 layers fit in 7.0 GiB free VRAM on NVIDIA GeForce RTX 3070",
        },
    }
    text = format_report(report)
    assert "  torch                  not installed" in text
    assert "llama.cpp GPU offload: yes" in text
    assert "GPUs (driver 550.54):\n  [0] NVIDIA GeForce RTX 3070: 7.0 GiB free of 8.0 GiB" in text
    assert "Model: LLaMA v2 13B (Q4_K_M, 7.0 GiB, 40 blocks, chat template from gguf)" in text
    assert "GPU layers at context 4096: 22 of 41 (the blocks and the output layer; auto)" in text


@pytest.mark.slow
def test_doctor_json_on_this_machine(data_dir, capsys):
    assert cli_main(["--data-dir", str(data_dir), "doctor", "--json", "--ctx", "2048"]) == 0
    report = json.loads(capsys.readouterr().out)
    versions = report["versions"]
    # The model ran one token in its child process, and the build fits this CPU.
    assert report["one_token"]["ok"], report["one_token"]
    cpu = report["cpu"]
    assert cpu["missing"] == []
    if platform.machine() == "x86_64":
        assert {"AVX2", "FMA", "F16C"} <= set(cpu["build_features"]) <= set(cpu["cpu_features"])
    assert {
        "python",
        "llama-cpp-python",
        "torch",
        "sentence-transformers",
        "lancedb",
        "pyside6",
    } <= set(versions)
    assert versions["llama-cpp-python"] == "0.3.36"
    import llama_cpp

    assert report["llama_gpu_offload"] is bool(llama_cpp.llama_supports_gpu_offload())
    text = format_report(report)
    assert "Model test: OK, one token generated in a child process" in text
    assert "every instruction the build uses is present" in text
    assert report["model"]["name"].startswith("Smollm2 135M")
    assert report["model"]["chat_template"] == "gguf"
    fit = report["fit"]
    assert (fit["total_layers"], fit["context_size"]) == (31, 2048)
    if not report["gpus"]:
        assert fit["gpu_layers"] == 0
        assert fit["reason"].startswith("No NVIDIA GPU found (NVML unavailable")


def test_doctor_names_a_missing_model(data_dir, capsys):
    missing = str(data_dir / "nope.gguf")
    assert cli_main(["--data-dir", str(data_dir), "doctor", "--model", missing]) == 0
    assert f"Model: {missing}: model file not found" in capsys.readouterr().out


def test_doctor_explains_a_model_process_that_dies_on_an_illegal_instruction(tmp_path, monkeypatch):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(64))
    """The issue's VM: the CPU reports AMX, the build uses it, and the CPU traps it."""
    monkeypatch.setenv(
        "FAKE_LLM_SYSTEM_INFO", "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AMX_INT8 = 1 | "
    )
    monkeypatch.setenv("FAKE_LLM_DIE", "SIGILL")
    reported = frozenset({"SSE3", "AVX", "AVX2", "AMX_INT8", "AVX512"})
    monkeypatch.setattr("desktop_rag.core.llm.doctor.cpu_features", lambda: reported)
    monkeypatch.setattr("desktop_rag.core.llm.local.host.cpu_features", lambda: reported)
    report = collect(Settings(chat_model=str(model), n_gpu_layers=0), backend=FAKE)
    test = report["one_token"]
    assert not test["ok"] and test["cause"] == "instructions"
    assert report["cpu"]["build_features"] == ["AMX_INT8", "AVX", "AVX2", "SSE3"]
    text = format_report(report)
    assert "Model test: FAILED: The model process stopped on a processor instruction" in text
    assert "reports every feature the build uses (SSE3, AVX, AVX2 and AMX_INT8) but refused" in text
    assert "  llama.cpp build uses: SSE3, AVX, AVX2 and AMX_INT8" in text
    assert "  every instruction the build uses is present" in text
    assert json.dumps(report)  # --json prints the same report


def test_doctor_without_the_model_test(data_dir, capsys):
    assert cli_main(["--data-dir", str(data_dir), "doctor", "--no-model"]) == 0
    out = capsys.readouterr().out
    assert "Model test" not in out and "llama.cpp build uses: unknown" in out
    assert Path(data_dir).exists()
