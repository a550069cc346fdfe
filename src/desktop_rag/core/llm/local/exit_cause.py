"""Why the model failed to load or its child process died, in words a person can act on
(pure, no I/O).

How the process ended (its exit code or signal), what the kernel's out-of-memory killer did
meanwhile, the last lines llama.cpp wrote to the model log, and the instruction features of
the build and of the CPU together tell the cause apart:

- SIGILL: the llama.cpp build uses processor instructions this computer lacks (a build
  compiled with -march=native on another CPU, or a CPU that reports AMX/AVX-512 but traps it);
- the OOM killer, an allocation failure in the log, or Windows' "no memory": memory;
- SIGSEGV, SIGABRT, SIGBUS ...: a crash, quoting the model log;
- SIGKILL with no OOM kill counted: another program killed it.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from desktop_rag.core.errors import ModelError
from desktop_rag.core.llm.local.cpu_features import X86_64_V3, describe, missing_features
from desktop_rag.core.llm.model.gguf_info import CORRUPT_HINT

# Windows reports a crash as an NTSTATUS exit code, not a signal.
_WIN_ILLEGAL_INSTRUCTION = 0xC000001D
_WIN_NO_MEMORY = 0xC0000017
_WIN_CRASHES = {
    0xC0000005: "access violation",
    0xC0000409: "stack buffer overrun or abort",
    0xC00000FD: "stack overflow",
}
_SIGNAL_MEANING = {
    "SIGSEGV": "invalid memory access",
    "SIGBUS": "bus error",
    "SIGABRT": "llama.cpp aborted",
    "SIGFPE": "arithmetic error",
    "SIGTRAP": "trap",
}
_ALLOC_WORDS = (
    "out of memory",
    "failed to allocate",
    "unable to allocate",
    "cannot allocate memory",
    "insufficient memory",
    "bad_alloc",
    "cudamalloc failed",
    "erroroutofdevicememory",
)
_ERROR_WORDS = ("error", "fail", "abort", "assert", "out of memory", "unable", "invalid")
RELOAD_NOTE = "the model is loaded again on the next question"
MEMORY_HINT = f"try fewer GPU layers, a smaller context or a smaller model; {RELOAD_NOTE}"


class ModelCrash(ModelError):
    """The model's process died. `cause`: "instructions", "memory", "killed", "crash" or
    "exit"; `log_tail`: the last lines of the model log (oldest first)."""

    def __init__(self, message: str, *, cause: str, hint: str, log_tail: tuple[str, ...]):
        self.cause = cause
        self.log_tail = log_tail
        super().__init__(message, hint=hint)


@dataclass(frozen=True)
class ChildExit:
    """What is known about one dead model process.

    exitcode: `multiprocessing`'s (negative = killed by that signal on POSIX; None = unknown).
    oom_killed: the system's OOM-kill count rose while it ran (None = cannot tell here).
    build_features / cpu_features: ggml feature names (None = unknown).
    """

    exitcode: int | None
    during: str
    log_tail: tuple[str, ...] = ()
    oom_killed: bool | None = None
    build_features: frozenset[str] | None = None
    cpu_features: frozenset[str] | None = None
    frozen: bool = False
    log_path: str = ""


def error_lines(lines: list[str] | tuple[str, ...]) -> list[str]:
    """The log lines worth quoting to a person; llama.cpp's chatter is left out."""
    return [line for line in lines if any(w in line.lower() for w in _ERROR_WORDS)]


def signal_name(exitcode: int | None) -> str | None:
    if exitcode is None or exitcode >= 0:
        return None
    try:
        return signal.Signals(-exitcode).name
    except ValueError:
        return f"signal {-exitcode}"


def explain_exit(facts: ChildExit) -> ModelCrash:
    """The error to show for a model process that ended while it was needed."""
    sig = signal_name(facts.exitcode)
    code = facts.exitcode
    tail = facts.log_tail
    if sig == "SIGILL" or code == _WIN_ILLEGAL_INSTRUCTION:
        return _illegal_instruction(facts)
    alloc = [line for line in tail if any(w in line.lower() for w in _ALLOC_WORDS)]
    sure_oom = bool(facts.oom_killed) or code == _WIN_NO_MEMORY
    if sure_oom or (sig == "SIGKILL" and facts.oom_killed is None):
        how = (
            "the system stopped it because memory ran out"
            if sure_oom
            else "it was killed (SIGKILL), most likely because memory ran out"
        )
        message = f"The model process ran out of memory while {facts.during}: {how}."
        return _crash(message, "memory", MEMORY_HINT, tail)
    if alloc and (sig is not None or (code or 0) != 0):
        return _crash(
            f"The model process ran out of memory while {facts.during}. "
            f"llama.cpp said: {_clip(alloc[-1])}",
            "memory",
            MEMORY_HINT,
            tail,
        )
    if sig == "SIGKILL":
        return _crash(
            f"The model process was killed (SIGKILL) by another program while {facts.during}; "
            "the system's out-of-memory killer did not stop it.",
            "killed",
            RELOAD_NOTE,
            tail,
        )
    quote = _quote(tail)
    log_note = f"; the whole log is {facts.log_path}" if facts.log_path else ""
    if sig is not None or (code is not None and code in _WIN_CRASHES):
        what = sig if sig is not None else f"exit code {code:#x}"
        meaning = _SIGNAL_MEANING.get(sig or "") or _WIN_CRASHES.get(code or 0, "")
        return _crash(
            f"The model process crashed ({what}{': ' + meaning if meaning else ''}) while "
            f"{facts.during}.{quote}",
            "crash",
            f"{RELOAD_NOTE}{log_note}",
            tail,
        )
    return _crash(
        f"The model process exited with code {code} while {facts.during}.{quote}",
        "exit",
        f"{RELOAD_NOTE}{log_note}",
        tail,
    )


def _illegal_instruction(facts: ChildExit) -> ModelCrash:
    message = (
        "The model process stopped on a processor instruction this computer does not have "
        f"(SIGILL) while {facts.during}."
    )
    build, cpu = facts.build_features, facts.cpu_features
    lacks_baseline = missing_features(X86_64_V3, cpu) if cpu and "SSE3" in cpu else frozenset()
    missing = missing_features(build, cpu) if build is not None else lacks_baseline
    if missing:
        message += f" The llama.cpp build uses {describe(missing)}, which this processor lacks."
    elif build and cpu is not None:
        message += (
            f" The processor reports every feature the build uses ({describe(build)}) but "
            "refused one of them: some virtual machines report AMX or AVX-512 without "
            "enabling it, and a build made with -march=native on another computer uses them."
        )
    hint = instructions_hint(frozen=facts.frozen, old_cpu=bool(lacks_baseline))
    return ModelCrash(message, cause="instructions", hint=hint, log_tail=facts.log_tail)


def unsupported_cpu(
    build: frozenset[str], cpu: frozenset[str] | None, *, frozen: bool
) -> ModelError | None:
    """The error for a build that uses instructions this CPU does not report, found before
    anything runs them (None: nothing missing, or the CPU is unknown)."""
    missing = missing_features(build, cpu)
    if not missing:
        return None
    old_cpu = bool(cpu) and "SSE3" in (cpu or ()) and bool(missing_features(X86_64_V3, cpu))
    return ModelError(
        f"the llama.cpp build uses {describe(missing)}, which this processor lacks, so the "
        "model cannot run on this computer",
        hint=instructions_hint(frozen=frozen, old_cpu=old_cpu),
    )


def instructions_hint(*, frozen: bool, old_cpu: bool) -> str:
    if frozen:
        return (
            "this copy of Desktop RAG needs an x86-64-v3 processor (AVX2, FMA: Intel Haswell "
            "or AMD Excavator and later); install it from source with `make run` to build "
            "llama.cpp for this computer"
        )
    if old_cpu:
        return (
            "this processor is older than the default build's x86-64-v3 baseline; build "
            "llama.cpp for it with `make reinstall-llama LLAMA_NATIVE=1` in the Desktop RAG folder"
        )
    return (
        "rebuild llama.cpp with the portable default: `make reinstall-llama LLAMA_NATIVE=` in "
        "the Desktop RAG folder; `desktop-rag doctor` shows the details"
    )


def _crash(message: str, cause: str, hint: str, tail: tuple[str, ...]) -> ModelCrash:
    return ModelCrash(message, cause=cause, hint=hint, log_tail=tail)


def _quote(tail: tuple[str, ...], lines: int = 3) -> str:
    """The log's last words: its error lines if it has any, else its last lines."""
    chosen = error_lines(tail)[-lines:] or list(tail[-lines:])
    if not chosen:
        return " The model log is empty."
    return " Last lines of the model log: " + " / ".join(_clip(line) for line in chosen)


def _clip(line: str, width: int = 200) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def load_error(path: str, exc: Exception, log_tail: list[str]) -> ModelError:
    """The error for a load that failed, quoting llama.cpp's own reason from its log."""
    if isinstance(exc, ModelError):
        exc.path = exc.path or path
        return exc
    tail = error_lines(log_tail)
    # "error loading model: <why>" is llama.cpp's own explanation; prefer it.
    best = next((line for line in tail if "error loading model" in line), None)
    best = best or (tail[-1] if tail else "")
    said = f" llama.cpp said: {best.split(': ', 1)[-1]}" if best else ""
    if any("out of memory" in line.lower() or "alloc" in line.lower() for line in tail):
        return ModelError(
            f"not enough memory to load the model.{said}",
            path=path,
            hint="choose a smaller model or context, or fewer GPU layers",
        )
    return ModelError(
        "could not be loaded: the file is damaged, incomplete, or a model architecture "
        f"this llama.cpp does not support.{said}",
        path=path,
        hint=CORRUPT_HINT,
    )
