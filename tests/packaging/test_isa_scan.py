"""The installer's portability gate: llama.cpp libraries with AVX-512/VNNI/AMX are refused."""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
x86_only = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="x86-64 baseline"
)


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "packaging" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


isa_scan = _load("isa_scan")
inputs = _load("bundle_inputs")

OBJDUMP = """\
0000000000001100 <dot>:
    1100:\tvfmadd231ps %ymm1,%ymm2,%ymm0
    1105:\tvpbroadcastd %xmm0,%ymm0
    110a:\tvcvtph2ps (%rdi),%ymm3
    110f:\tvaddps %zmm1,%zmm2,%zmm3
    1115:\tvmovups %ymm0,(%rsi){%k1}
    111b:\t{vex} vpdpbusd %ymm1,%ymm2,%ymm3
    1120:\ttileloadd (%rsi,%rdx,1),%tmm0
    1128:\ttdpbssd %tmm2,%tmm1,%tmm0
    1130:\tpopcnt %rax,%rbx
    1131:\tvaesenc %ymm1,%ymm2,%ymm3
    1131:\tsha256rnds2 %xmm0,%xmm1,%xmm2
    1132:\tvpaddd %ymm17,%ymm1,%ymm2
    1134:\tvpaddd %ymm15,%ymm1,%ymm2
    1135:\tret
"""


def test_the_scan_names_each_extension_beyond_x86_64_v3():
    result = isa_scan.scan_disassembly(OBJDUMP.splitlines(), Path("libggml-cpu.so"))
    assert result.found == {"AVX-512": 3, "AVX-VNNI": 1, "AMX": 2, "AES/SHA/ADX/GFNI": 2}
    assert result.examples["AMX"] == ["tileloadd (%rsi,%rdx,1),%tmm0", "tdpbssd %tmm2,%tmm1,%tmm0"]
    assert "AMX (2 instructions, e.g. tileloadd" in result.summary()
    clean = isa_scan.scan_disassembly([*OBJDUMP.splitlines()[:4], "    1135:\tret"])
    assert clean.portable


def _compile(tmp_path: Path, name: str, body: str) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or shutil.which("objdump") is None:
        pytest.skip("needs a C compiler and objdump")
    src = tmp_path / f"{name}.c"
    src.write_text(body)
    out = tmp_path / name
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return out


NATIVE_LIKE = """
void sum16(float *a) { __asm__ volatile("vaddps %%zmm1, %%zmm2, %%zmm3" ::: "memory"); }
void tiles(void) { __asm__ volatile("tilerelease"); }
"""
BASELINE = """
#include <immintrin.h>
__attribute__((target("avx2,fma,f16c")))
void fma8(float *a, const float *b) {
    __m256 x = _mm256_loadu_ps(a), y = _mm256_loadu_ps(b);
    _mm256_storeu_ps(a, _mm256_fmadd_ps(x, y, y));
}
"""


@x86_only
def test_a_native_like_library_is_refused_and_a_baseline_one_passes(tmp_path):
    native = isa_scan.scan_library(_compile(tmp_path, "libnative.so", NATIVE_LIKE))
    assert set(native.found) == {"AVX-512", "AMX"}
    assert isa_scan.scan_library(_compile(tmp_path, "libv3.so", BASELINE)).portable


@x86_only
def test_the_spec_refuses_to_bundle_a_native_llama_cpp(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.move(_compile(tmp_path, "libllama.so", NATIVE_LIKE), lib / "libllama.so")
    shutil.move(_compile(tmp_path, "libggml-base.so", BASELINE), lib / "libggml-base.so")
    monkeypatch.setattr(inputs, "package_dir", lambda name: tmp_path)
    with pytest.raises(SystemExit) as err:
        inputs.llama_cpp_binaries()
    text = str(err.value)
    assert "built for this computer's CPU" in text and "libllama.so: uses AMX" in text
    assert "libggml-base.so" not in text


@x86_only
@pytest.mark.skipif(os.environ.get("LLAMA_NATIVE") == "1", reason="a native build was asked for")
def test_the_installed_llama_cpp_is_the_portable_build():
    """make setup's default wheel: nothing beyond x86-64-v3 in any of its libraries."""
    if shutil.which("objdump") is None:
        pytest.skip("needs objdump")
    libs = [Path(src) for src, _dest in inputs.llama_cpp_binaries()]  # runs the gate itself
    assert any(p.name.startswith("libggml-cpu") for p in libs)
    for path in libs:
        assert isa_scan.scan_library(path).portable, isa_scan.scan_library(path).summary()
