"""Which processor instructions the llama.cpp build uses, and which this CPU has.

The build's side comes from `llama_print_system_info()` (ggml's compile-time feature list,
e.g. "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | ..."): it reports what the library was compiled
for without running any of it. The CPU's side comes from the operating system (Linux
`/proc/cpuinfo` flags, macOS `sysctl`). Names on both sides are ggml's (`AVX2`, `AVX512`,
`AMX_INT8`, `DOTPROD` ...), so the two sets compare directly.

A CPU can report a feature it then refuses: some virtual machines report AMX or AVX-512
without enabling it, and the first such instruction stops the process with SIGILL. That is
why a clean comparison here does not prove a build runs; `doctor` also runs one token.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from pathlib import Path

# ggml feature name -> Linux /proc/cpuinfo flag(s); any of them means the CPU has it.
_LINUX_FLAGS: dict[str, tuple[str, ...]] = {
    "SSE3": ("pni", "sse3"),
    "SSSE3": ("ssse3",),
    "AVX": ("avx",),
    "AVX_VNNI": ("avx_vnni",),
    "AVX2": ("avx2",),
    "F16C": ("f16c",),
    "FMA": ("fma",),
    "BMI2": ("bmi2",),
    "AVX512": ("avx512f",),
    "AVX512_VBMI": ("avx512vbmi",),
    "AVX512_VNNI": ("avx512_vnni",),
    "AVX512_BF16": ("avx512_bf16",),
    "AMX_INT8": ("amx_int8",),
    "NEON": ("asimd", "neon"),
    "ARM_FMA": ("asimd", "vfpv4"),
    "FP16_VA": ("asimdhp",),
    "MATMUL_INT8": ("i8mm",),
    "SVE": ("sve",),
    "DOTPROD": ("asimddp",),
    "SME": ("sme",),
    "SME2": ("sme2",),
}
# macOS (Intel) spells them in `machdep.cpu.features` / `leaf7_features`.
_MACOS_FLAGS: dict[str, tuple[str, ...]] = {
    "SSE3": ("SSE3",),
    "SSSE3": ("SSSE3",),
    "AVX": ("AVX1.0",),
    "AVX2": ("AVX2",),
    "F16C": ("F16C",),
    "FMA": ("FMA",),
    "BMI2": ("BMI2",),
    "AVX512": ("AVX512F",),
    "AVX512_VBMI": ("AVX512VBMI",),
    "AVX512_VNNI": ("AVX512VNNI",),
    "AVX512_BF16": ("AVX512BF16",),
    "AMX_INT8": ("AMXINT8",),
}
INSTRUCTION_FEATURES = frozenset(_LINUX_FLAGS)
"""ggml's features that are processor instructions (not LLAMAFILE, OPENMP, REPACK ...)."""

X86_64_V3 = frozenset({"SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "BMI2"})
"""The default build's baseline on x86-64 (the Makefile's flags): Intel Haswell (2013),
AMD Excavator (2015) and every later desktop CPU."""

_FEATURE = re.compile(r"([A-Z0-9_]+) = 1\b")


def build_features(system_info: str) -> frozenset[str]:
    """The instruction features in `llama_print_system_info()`'s text (CPU backend only).

    >>> sorted(build_features("CPU : SSE3 = 1 | AVX2 = 1 | OPENMP = 1 | "))
    ['AVX2', 'SSE3']
    """
    cpu_part = system_info
    for part in re.split(r"(?=\b[A-Za-z][\w-]* : )", system_info):
        if part.startswith("CPU : "):
            cpu_part = part
    return frozenset(f for f in _FEATURE.findall(cpu_part) if f in INSTRUCTION_FEATURES)


def features_from_flags(
    flags: set[str] | frozenset[str], table: dict[str, tuple[str, ...]]
) -> frozenset[str]:
    return frozenset(f for f, names in table.items() if any(n in flags for n in names))


def parse_proc_cpuinfo(text: str) -> frozenset[str]:
    """ggml feature names of the first processor listed in Linux's `/proc/cpuinfo`."""
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
            break
    return features_from_flags(flags, _LINUX_FLAGS)


def cpu_features() -> frozenset[str] | None:
    """This CPU's instruction features in ggml's names; None where the OS does not say."""
    try:
        if sys.platform.startswith("linux"):
            return parse_proc_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"))
        if sys.platform == "darwin" and platform.machine() == "x86_64":
            out = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.features", "machdep.cpu.leaf7_features"],
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            ).stdout
            return features_from_flags(set(out.split()), _MACOS_FLAGS)
    except (OSError, subprocess.SubprocessError):
        return None
    return None


def missing_features(build: frozenset[str], cpu: frozenset[str] | None) -> frozenset[str]:
    """What the build uses that the CPU does not report (empty when the CPU is unknown)."""
    return frozenset() if cpu is None else build - cpu


def describe(features: frozenset[str] | set[str]) -> str:
    """'AVX2, FMA and F16C' in a stable order (the table's), for messages."""
    names = [f for f in _LINUX_FLAGS if f in features]
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
