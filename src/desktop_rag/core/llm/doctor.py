"""`desktop-rag doctor`: what is installed, whether the GPU can be used, and the layer plan.

Collecting never raises: every part that fails is reported as text in its place.
"""

from __future__ import annotations

import platform
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.llm.gguf_info import read_gguf_info
from desktop_rag.core.llm.gpu_fit import gib, plan_fit
from desktop_rag.core.llm.gpu_probe import llama_gpu_offload_supported, probe_gpus
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


def collect(settings: Settings) -> dict[str, Any]:
    versions = {"python": platform.python_version()}
    versions.update({label: _version(names) for label, names in PACKAGES.items()})
    report: dict[str, Any] = {"versions": versions}
    try:
        offload: bool | None = llama_gpu_offload_supported()
        report["llama_gpu_offload"] = offload
    except Exception as exc:  # not installed, or its shared library does not load
        offload = None
        report["llama_gpu_offload"] = None
        report["llama_error"] = f"llama-cpp-python cannot be imported: {exc}"
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
        f"{model['n_layers']} layers, chat template from {model['chat_template']})"
    )
    lines.append(f"  {model['path']}")
    fit = report["fit"]
    lines.append(
        f"GPU layers at context {fit['context_size']}: {fit['gpu_layers']} of "
        f"{fit['total_layers']} ({fit['mode']})"
    )
    lines.append(f"  {fit['reason']}")
    return "\n".join(lines)
