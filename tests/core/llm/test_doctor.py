import json

import pytest

from desktop_rag.core.cli import main as cli_main
from desktop_rag.core.llm.doctor import format_report
from desktop_rag.core.llm.gpu_fit import GIB


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
    assert "Model: LLaMA v2 13B (Q4_K_M, 7.0 GiB, 40 layers, chat template from gguf)" in text
    assert "GPU layers at context 4096: 22 of 41 (auto)" in text


@pytest.mark.slow
def test_doctor_json_on_this_machine(data_dir, capsys):
    assert cli_main(["--data-dir", str(data_dir), "doctor", "--json", "--ctx", "2048"]) == 0
    report = json.loads(capsys.readouterr().out)
    versions = report["versions"]
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
