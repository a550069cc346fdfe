"""ModelHost with a fake model in a real spawned child: streaming, stop, crash, restart."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

import pytest

from desktop_rag.core.errors import ModelError
from desktop_rag.core.llm.gpu.fit import GIB
from desktop_rag.core.llm.gpu.probe import GpuInfo, GpuProbe
from desktop_rag.core.llm.local.exit_cause import ModelCrash
from desktop_rag.core.llm.local.host import ModelHost
from desktop_rag.core.settings import Settings
from tests.core.llm.llama13b import write_llama13b_header

BACKEND = "tests.core.llm.fake_llm_backend:FakeBackend"
NO_GPU = GpuProbe(reason="NVML unavailable: test")
RTX_3090 = GpuProbe((GpuInfo(0, "NVIDIA GeForce RTX 3090", int(23.1 * GIB), 24 * GIB),))


def fake_gguf(directory: Path, name: str) -> str:
    path = directory / name
    path.write_bytes(b"GGUF" + bytes(64))
    return str(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("models")
    return {n: fake_gguf(d, f"{n}.gguf") for n in ("one", "two", "corrupt", "notemplate")}


@pytest.fixture(scope="module")
def host(models):
    settings = Settings(chat_model=models["one"], max_tokens=500)
    h = ModelHost(settings, backend=BACKEND, probe=lambda: NO_GPU)
    yield h
    h.close()


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def stop_after(seconds: float, action) -> dict[str, float]:
    marks: dict[str, float] = {}

    def run():
        time.sleep(seconds)
        marks["stop"] = time.perf_counter()
        action()

    threading.Thread(target=run, daemon=True).start()
    return marks


def test_tokens_stream_in_order_and_are_timed(host, models):
    pieces: list[str] = []
    timings = host.generate(user("alpha beta gamma delta"), on_token=pieces.append)
    assert pieces == ["alpha ", "beta ", "gamma ", "delta "]
    assert timings.tokens == 4 and not timings.stopped
    assert 0 < timings.first_token_s <= timings.total_s
    assert host.info.path == models["one"] and host.info.name == "Fake"
    assert host.info.plan.gpu_layers == 0 and host.info.plan.total_layers == 5
    assert host.count_tokens_batch(["a b c", "d"]) == [3, 1]


def test_stop_between_tokens_returns_quickly_and_keeps_the_model(host):
    pid = host.child_pid
    pieces: list[str] = []
    marks = stop_after(0.3, host.stop)
    timings = host.generate(user("word " * 400), on_token=pieces.append)
    took = time.perf_counter() - marks["stop"]
    assert timings.stopped and 5 < len(pieces) < 400
    assert took < 0.5
    assert host.child_pid == pid and host.info is not None  # answered the stop: no restart


def test_cancel_during_prompt_processing_kills_and_restarts(host, models):
    cancel = threading.Event()
    pid = host.child_pid
    marks = stop_after(0.3, cancel.set)
    timings = host.generate(user("SLOW_PROMPT x"), on_token=lambda t: None, cancel=cancel)
    took = time.perf_counter() - marks["stop"]
    assert timings.stopped and timings.tokens == 0
    assert took < 0.5
    assert host.info is None and host.child_pid is None  # killed; reloaded on next use
    pieces: list[str] = []
    host.generate(user("back again"), on_token=pieces.append)
    assert pieces == ["back ", "again "]
    assert host.child_pid not in (None, pid) and host.info.path == models["one"]


def test_a_crash_becomes_a_model_error_and_the_next_call_works(host):
    host.arm_crash_for_test()
    with pytest.raises(
        ModelError, match=r"crashed \(SIGABRT: llama.cpp aborted\) while generating"
    ):
        host.generate(user("one two three"), on_token=lambda t: None)
    pieces: list[str] = []
    host.generate(user("still alive"), on_token=pieces.append)
    assert pieces == ["still ", "alive "]


class OomCounter:
    """Stands in for /proc/vmstat's oom_kill: `bump()` is what the kernel's OOM killer does."""

    def __init__(self) -> None:
        self.value = 7

    def __call__(self) -> int:
        return self.value


AVX2_BUILD = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
AVX512_CPU = frozenset({"SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "BMI2", "AVX512"})
SEGV_LOG = ("llama_decode: evaluating batch", "ggml_graph_compute: thread 1 exiting")
ALLOC_LOG = (
    "ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 8589934592",
)
OOM_LOG = ("llama_kv_cache: CPU KV buffer size = 64.00 MiB",)


@pytest.mark.parametrize(
    ("sig", "log", "oom_kill", "cause", "words"),
    [
        (signal.SIGILL, (), False, "instructions",
         ["instruction this computer does not have (SIGILL)", "reports every feature the build "
          "uses (SSE3, SSSE3, AVX, AVX2, F16C, FMA and BMI2) but refused one",
          "make reinstall-llama LLAMA_NATIVE="]),
        (signal.SIGKILL, OOM_LOG, True, "memory",
         ["ran out of memory while generating an answer", "the system stopped it",
          "fewer GPU layers, a smaller context"]),
        (signal.SIGKILL, (), False, "killed", ["killed (SIGKILL) by another program"]),
        (signal.SIGABRT, ALLOC_LOG, False, "memory",
         ["ran out of memory", "failed to allocate buffer of size 8589934592"]),
        (signal.SIGSEGV, SEGV_LOG, False, "crash",
         ["crashed (SIGSEGV: invalid memory access) while generating an answer",
          "Last lines of the model log: llama_decode: evaluating batch / "
          "ggml_graph_compute: thread 1 exiting", "model.log"]),
    ],
)  # fmt: skip
def test_each_way_the_child_dies_is_explained_and_the_next_question_restarts_it(
    models, tmp_path, monkeypatch, sig, log, oom_kill, cause, words
):
    monkeypatch.setenv("FAKE_LLM_SYSTEM_INFO", AVX2_BUILD)
    oom = OomCounter()
    h = ModelHost(
        Settings(chat_model=models["one"]),
        log_dir=tmp_path,
        backend=BACKEND,
        probe=lambda: NO_GPU,
        cpu=lambda: AVX512_CPU,
        oom_kills=oom,
    )
    try:
        h.arm_crash_for_test(sig, log)
        pid = h.child_pid
        if oom_kill:
            oom.value += 1
        with pytest.raises(ModelCrash) as err:
            h.generate(user("one two three"), on_token=lambda t: None)
        assert err.value.cause == cause
        for text in words:
            assert text in str(err.value)
        if cause != "instructions":
            assert "instruction" not in str(err.value)
        if cause != "memory":
            assert "memory ran out" not in str(err.value)
        pieces: list[str] = []
        h.generate(user("back again"), on_token=pieces.append)
        assert pieces == ["back ", "again "]
        assert h.child_pid not in (None, pid)
    finally:
        h.close()


def test_a_build_using_instructions_the_cpu_lacks_is_refused_before_it_runs(models, monkeypatch):
    monkeypatch.setenv("FAKE_LLM_SYSTEM_INFO", AVX2_BUILD + "AVX512 = 1 | AVX512_VNNI = 1 |")
    old_cpu = frozenset({"SSE3", "SSSE3", "AVX"})  # a 2012 Ivy Bridge: no AVX2, FMA, F16C
    h = ModelHost(
        Settings(chat_model=models["one"]), backend=BACKEND, probe=lambda: NO_GPU,
        cpu=lambda: old_cpu,
    )  # fmt: skip
    try:
        with pytest.raises(ModelError) as err:
            h.load()
        text = str(err.value)
        assert "uses AVX2, F16C, FMA, BMI2, AVX512 and AVX512_VNNI, which this processor lacks" in (
            text
        )
        assert "make reinstall-llama LLAMA_NATIVE=1" in text
        assert h.child_pid is None and h.info is None
    finally:
        h.close()


def test_an_error_in_the_callback_stops_generation_and_propagates(host):
    def boom(_text: str) -> None:
        raise KeyError("ui went away")

    with pytest.raises(KeyError):
        host.generate(user("word " * 300), on_token=boom)
    pieces: list[str] = []
    host.generate(user("fine"), on_token=pieces.append)
    assert pieces == ["fine "]


def test_switching_models_unloads_the_old_one_in_the_same_child(host, models):
    host.load()
    pid = host.child_pid
    info = host.load(models["two"])  # the fake refuses a load without an unload first
    assert info.path == models["two"] and host.child_pid == pid
    assert host.load(models["one"]).path == models["one"]


def test_loading_reports_the_childs_progress(host, models):
    seen: list[float] = []
    host.load(models["one"])
    host.load(models["two"], on_progress=seen.append)
    assert seen == [0.0, 0.5, 1.0]
    seen.clear()
    host.load(models["two"], on_progress=seen.append)  # already loaded: nothing to report
    assert seen == []


def test_corrupt_and_missing_models_are_clear_errors(host, models):
    with pytest.raises(ModelError) as err:
        host.load(models["corrupt"])
    assert err.value.path == models["corrupt"]
    assert "damaged" in str(err.value) and "not within the file" in str(err.value)
    with pytest.raises(ModelError, match="model file not found"):
        host.load(str(Path(models["one"]).with_name("nope.gguf")))
    host.load(models["one"])
    assert host.info.path == models["one"]


def test_loading_out_of_gpu_memory_retries_with_half_the_layers(tmp_path):
    path = write_llama13b_header(tmp_path / "llama-2-13b-oom.Q4_K_M.gguf", "Q4_K_M")
    h = ModelHost(Settings(), backend=BACKEND, probe=lambda: RTX_3090)
    try:
        info = h.load(str(path))
    finally:
        h.close()
    assert info.gpu_layers == info.plan.gpu_layers == 10  # 41 -> 20 -> 10
    assert info.plan.reason.startswith("All 41 layers fit in 23.1 GiB free VRAM")
    assert "Loading with 41 GPU layers failed (most likely out of memory); retried with 20." in (
        info.plan.reason
    )
    assert "retried with 10." in info.plan.reason


def test_a_model_without_chat_template_is_loaded_with_a_warning(host, models, caplog):
    with caplog.at_level(logging.WARNING, logger="desktop_rag.core.llm.local.host"):
        info = host.load(models["notemplate"])
    assert info.chat_template_source == "fallback"
    assert f"{models['notemplate']} has no chat template" in caplog.text
    assert "using the ChatML template" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="desktop_rag.core.llm.local.host"):
        assert host.load(models["one"]).chat_template_source == "gguf"
    assert caplog.text == ""
