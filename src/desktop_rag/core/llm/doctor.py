"""`desktop-rag doctor`: what is installed, whether the model runs here, the GPU and the plan.

Collecting never raises: every part that fails is reported as text in its place. llama.cpp
is never loaded in this process (a build for another CPU would kill it with SIGILL): a
one-token generation in the model's own child process tells whether it runs, and the
child's greeting says what the build was compiled for.
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from desktop_rag.core.errors import ModelError, UserFacingError
from desktop_rag.core.llm.gpu.fit import gib, plan_fit
from desktop_rag.core.llm.gpu.probe import probe_gpus
from desktop_rag.core.llm.local import worker
from desktop_rag.core.llm.local.cpu_features import build_features, cpu_features, describe
from desktop_rag.core.llm.model.gguf_info import read_gguf_info
from desktop_rag.core.llm.model.lora import check_adapter
from desktop_rag.core.paths import default_chat_model
from desktop_rag.core.settings import Settings

# Distribution names, first found wins (PySide6 may be the full or the essentials wheel).
PACKAGES = {
    "llama-cpp-python": ("llama_cpp_python", "llama-cpp-python"),
    "torch": ("torch",),
    "sentence-transformers": ("sentence-transformers",),
    "lancedb": ("lancedb",),
    "pyside6": ("PySide6", "PySide6_Essentials", "pyside6-essentials"),
    "gguf": ("gguf",),
    "nvidia-ml-py": ("nvidia-ml-py",),
}


def _version(names: tuple[str, ...]) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def run_one_token(settings: Settings, backend: str = worker.DEFAULT_BACKEND) -> dict[str, Any]:
    """Load the model in its child process and generate one token, as an answer would.

    Returns {"ok": bool, "load_s", "generate_s", "text" | "error", "cause", "runtime",
    "lora", "lora_error"} (the adapter applied, or why it was refused: see ModelInfo);
    `runtime` is the child's greeting (version, gpu_offload, system_info), `cause` the
    `ModelCrash` cause when the process died ("instructions", "memory" ...).
    """
    from desktop_rag.core.llm.local.host import ModelHost

    host = ModelHost(settings, backend=backend)
    result: dict[str, Any] = {"ok": False}
    try:
        host.start()
        start = time.perf_counter()
        info = host.load()
        result["load_s"] = round(time.perf_counter() - start, 2)
        result.update(lora=info.lora, lora_error=info.lora_error)
        pieces: list[str] = []
        start = time.perf_counter()
        host.generate(
            [{"role": "user", "content": "Say OK."}],
            on_token=pieces.append,
            max_tokens=1,
            temperature=0.0,
            seed=1,
        )
        result.update(ok=True, generate_s=round(time.perf_counter() - start, 2))
        result["text"] = "".join(pieces)
    except ModelError as exc:
        result.update(error=str(exc), cause=getattr(exc, "cause", None))
    finally:
        result["runtime"] = host.runtime
        host.close()
    return result


def lora_report(settings: Settings, test: dict[str, Any] | None) -> dict[str, Any] | None:
    """The adapter in Settings: its facts and whether it applies, or why it is refused.

    Checked here as the model host checks it; the model test (if it ran) adds what
    llama.cpp itself said. None when no adapter is chosen."""
    if not settings.lora_path:
        return None
    path = str(Path(settings.lora_path).expanduser().resolve())
    report: dict[str, Any] = {"path": path, "scale": settings.lora_scale, "error": None}
    try:
        model = str(Path(settings.chat_model) if settings.chat_model else default_chat_model())
        info = check_adapter(path, model)
    except (UserFacingError, FileNotFoundError) as exc:
        report["error"] = str(exc)
        return report
    report.update(name=info.name, architecture=info.architecture, alpha=info.alpha)
    report["n_tensors"] = info.n_tensors
    if test is not None and test.get("lora_error"):
        report["error"] = test["lora_error"]
    report["applied"] = None if test is None or not test.get("ok") else bool(test.get("lora"))
    return report


def cpu_report(system_info: str | None) -> dict[str, Any]:
    """The instruction features the build uses next to those this CPU reports."""
    cpu = cpu_features()
    build = build_features(system_info) if system_info else None
    return {
        "machine": platform.machine(),
        "processor": _processor_name(),
        "cpu_features": None if cpu is None else sorted(cpu),
        "build_features": None if build is None else sorted(build),
        "missing": None if cpu is None or build is None else sorted(build - cpu),
    }


def _processor_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def collect(
    settings: Settings, *, run_model: bool = True, backend: str = worker.DEFAULT_BACKEND
) -> dict[str, Any]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    versions.update({label: _version(names) for label, names in PACKAGES.items()})
    report: dict[str, Any] = {"versions": versions}
    test = run_one_token(settings, backend) if run_model else None
    runtime = (test or {}).get("runtime") or {}
    report["one_token"] = (
        None if test is None else {k: v for k, v in test.items() if k != "runtime"}
    )
    report["cpu"] = cpu_report(runtime.get("system_info"))
    offload = runtime.get("gpu_offload")
    report["llama_gpu_offload"] = None if offload is None else bool(offload)
    if offload is None:
        report["llama_error"] = (
            "not checked (--no-model)" if test is None else "the model process did not start"
        )
    report["lora"] = lora_report(settings, test)
    probe = probe_gpus()
    report["gpus"] = [asdict(g) for g in probe.gpus]
    report["gpu_reason"] = probe.reason
    report["driver_version"] = probe.driver_version
    try:
        path = Path(settings.chat_model) if settings.chat_model else default_chat_model()
        info = read_gguf_info(path)
    except (UserFacingError, FileNotFoundError) as exc:
        report["model"] = {"path": settings.chat_model, "error": str(exc)}
        return report
    report["model"] = {
        "path": info.path,
        "name": info.name,
        "architecture": info.architecture,
        "quantization": info.file_type,
        "size_bytes": info.size_bytes,
        "n_layers": info.n_layer,
        "n_ctx_train": info.n_ctx_train,
        "chat_template": "gguf" if info.chat_template else "fallback (chatml)",
    }
    plan = plan_fit(
        info.shape(),
        n_ctx=settings.context_size,
        probe=probe,
        offload_supported=bool(offload),
        requested=settings.n_gpu_layers,
    )
    report["fit"] = {**asdict(plan), "context_size": settings.context_size}
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = ["Versions:"]
    for name, version in report["versions"].items():
        lines.append(f"  {name:<22} {version or 'not installed'}")
    lines.extend(_cpu_lines(report.get("cpu")))
    test = report.get("one_token")
    if test is not None:
        if test["ok"]:
            lines.append(
                f"Model test: OK, one token generated in a child process (load "
                f"{test['load_s']:.1f} s, first token {test['generate_s']:.1f} s)"
            )
        else:
            lines.append(f"Model test: FAILED: {test['error']}")
    lines.extend(_lora_lines(report.get("lora")))
    offload = report["llama_gpu_offload"]
    if offload is None:
        lines.append(f"llama.cpp GPU offload: unknown ({report.get('llama_error')})")
    else:
        lines.append(f"llama.cpp GPU offload: {'yes' if offload else 'no (CPU-only build)'}")
    if report["gpus"]:
        lines.append(f"GPUs (driver {report['driver_version'] or '?'}):")
        for g in report["gpus"]:
            lines.append(
                f"  [{g['index']}] {g['name']}: {gib(g['free_bytes'])} free "
                f"of {gib(g['total_bytes'])}"
            )
    else:
        lines.append(f"GPUs: none ({report['gpu_reason']})")
    model = report["model"]
    if "error" in model:
        lines.append(f"Model: {model['error']}")
        return "\n".join(lines)
    lines.append(
        f"Model: {model['name']} ({model['quantization']}, {gib(model['size_bytes'])}, "
        f"{model['n_layers']} blocks, chat template from {model['chat_template']})"
    )
    lines.append(f"  {model['path']}")
    fit = report["fit"]
    lines.append(
        f"GPU layers at context {fit['context_size']}: {fit['gpu_layers']} of "
        f"{fit['total_layers']} (the blocks and the output layer; {fit['mode']})"
    )
    lines.append(f"  {fit['reason']}")
    return "\n".join(lines)


def _lora_lines(lora: dict[str, Any] | None) -> list[str]:
    if not lora:
        return []
    if lora["error"]:
        return [f"LoRA adapter: REFUSED, the model answers without it: {lora['error']}"]
    alpha = f"alpha {lora['alpha']:g}, " if lora["alpha"] else ""
    applied = "; applied in the model test" if lora["applied"] else ""
    return [
        f"LoRA adapter: {lora['name']} ({lora['architecture']}, {alpha}"
        f"{lora['n_tensors']} tensors) at scale {lora['scale']:g}{applied}",
        f"  {lora['path']}",
    ]


def _cpu_lines(cpu: dict[str, Any] | None) -> list[str]:
    if not cpu:
        return []
    lines = [f"CPU: {cpu['processor'] or '?'} ({cpu['machine']})"]
    build, have = cpu["build_features"], cpu["cpu_features"]
    if build is None:
        lines.append("  llama.cpp build uses: unknown (its process did not start)")
    else:
        lines.append(f"  llama.cpp build uses: {describe(set(build)) or 'no SIMD extensions'}")
    if have is None:
        lines.append("  this CPU has: unknown (the operating system does not say)")
    else:
        lines.append(f"  this CPU has: {describe(set(have)) or 'none of them'}")
    if cpu["missing"]:
        lines.append(f"  MISSING on this CPU: {describe(set(cpu['missing']))}")
    elif cpu["missing"] is not None:
        lines.append("  every instruction the build uses is present")
    return lines
