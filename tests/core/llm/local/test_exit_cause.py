"""The cause of a dead model process, from its exit code, log and CPU facts (pure)."""

from __future__ import annotations

import signal

import pytest

from desktop_rag.core.llm.local.cpu_features import (
    X86_64_V3,
    build_features,
    describe,
    parse_proc_cpuinfo,
)
from desktop_rag.core.llm.local.exit_cause import ChildExit, explain_exit, unsupported_cpu

V3_BUILD = build_features(
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
)
SANDY_BRIDGE = frozenset({"SSE3", "SSSE3", "AVX"})


def test_build_features_read_only_the_cpu_backend_and_only_instructions():
    info = (
        "CUDA : ARCHS = 860,890 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | "
        "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
        "AVX512 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
    )
    assert build_features(info) == X86_64_V3 | {"AVX512", "AMX_INT8"}
    assert V3_BUILD == X86_64_V3


def test_proc_cpuinfo_flags_become_ggml_names():
    text = (
        "processor\t: 0\nvendor_id\t: GenuineIntel\n"
        "flags\t\t: fpu sse2 pni ssse3 fma sse4_2 avx f16c avx2 bmi2 avx512f avx512_vnni amx_tile "
        "amx_int8\nprocessor\t: 1\nflags\t\t: fpu\n"
    )
    assert parse_proc_cpuinfo(text) == X86_64_V3 | {"AVX512", "AVX512_VNNI", "AMX_INT8"}
    arm = "processor\t: 0\nFeatures\t: fp asimd asimdhp asimddp sve i8mm\n"
    assert {"NEON", "DOTPROD", "SVE", "MATMUL_INT8", "FP16_VA"} <= parse_proc_cpuinfo(arm)


def test_sigill_without_a_greeting_names_what_an_old_cpu_lacks():
    err = explain_exit(ChildExit(-signal.SIGILL, "starting", cpu_features=SANDY_BRIDGE))
    assert err.cause == "instructions"
    assert "uses AVX2, F16C, FMA and BMI2, which this processor lacks" in str(err)
    assert "make reinstall-llama LLAMA_NATIVE=1" in str(err)
    assert "memory" not in str(err)


def test_sigill_in_the_frozen_app_says_which_processors_it_supports():
    err = explain_exit(
        ChildExit(-signal.SIGILL, "loading the model", None, None, V3_BUILD, SANDY_BRIDGE, True)
    )
    assert "needs an x86-64-v3 processor" in str(err) and "Haswell" in str(err)


def test_windows_exit_codes_are_read_like_signals():
    assert explain_exit(ChildExit(0xC000001D, "starting")).cause == "instructions"
    assert explain_exit(ChildExit(0xC0000017, "loading the model")).cause == "memory"
    crash = explain_exit(ChildExit(0xC0000005, "generating an answer", ("last words",)))
    assert (
        crash.cause == "crash" and "access violation" in str(crash) and "last words" in str(crash)
    )


def test_sigkill_where_oom_kills_cannot_be_counted_is_taken_for_memory():
    err = explain_exit(ChildExit(-signal.SIGKILL, "loading the model", oom_killed=None))
    assert err.cause == "memory" and "most likely because memory ran out" in str(err)


@pytest.mark.parametrize("code", [-signal.SIGABRT, -signal.SIGSEGV, 1])
def test_an_allocation_failure_in_the_log_is_memory_whatever_the_signal(code):
    tail = ("llama_model_load: loading tensors", "CUDA error: out of memory")
    err = explain_exit(ChildExit(code, "loading the model", tail, oom_killed=False))
    assert err.cause == "memory" and "llama.cpp said: CUDA error: out of memory" in str(err)


def test_an_exit_quotes_the_error_lines_else_the_last_lines():
    tail = ("a", "b", "GGML_ASSERT(n > 0) failed", "c", "d")
    err = explain_exit(
        ChildExit(3, "counting tokens", tail, oom_killed=False, log_path="/l/model.log")
    )
    assert err.cause == "exit" and "exited with code 3 while counting tokens" in str(err)
    assert "Last lines of the model log: GGML_ASSERT(n > 0) failed" in str(err)
    assert "/l/model.log" in str(err)
    empty = explain_exit(ChildExit(-signal.SIGBUS, "starting", (), oom_killed=False))
    assert "bus error" in str(empty) and "The model log is empty" in str(empty)


def test_unsupported_cpu_is_none_when_nothing_is_missing_or_the_cpu_is_unknown():
    assert unsupported_cpu(V3_BUILD, X86_64_V3, frozen=False) is None
    assert unsupported_cpu(V3_BUILD, None, frozen=False) is None
    err = unsupported_cpu(V3_BUILD | {"AVX512"}, X86_64_V3, frozen=False)
    assert "uses AVX512, which this processor lacks" in str(err) and "make reinstall-llama" in str(
        err
    )
    assert describe({"FMA", "AVX"}) == "AVX and FMA"
