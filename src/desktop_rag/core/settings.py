"""Settings, declared once with types and defaults.

Loading never crashes: unknown keys are kept (a newer version may have written them) and
bad values fall back to their default with a problem reported for the UI and CLI.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

GpuLayers = int | Literal["auto"]
MODEL_LOCATIONS = ("local", "server")
EMBEDDER_BACKENDS = ("auto", "onnx", "torch")


# Settings whose change needs the chat model loaded again (`ModelHost`), or the server
# asked again (`RemoteHost`); the app reopens its chat engine on either.
LOCAL_MODEL_FIELDS = (
    "chat_model",
    "lora_path",
    "lora_scale",
    "n_gpu_layers",
    "context_size",
    "threads",
)
SERVER_MODEL_FIELDS = ("server_url", "server_model", "lora_path", "lora_scale")


@dataclass(frozen=True)
class Settings:
    # Models: None means the embedded default.
    chat_model: str | None = None
    embedder: str | None = None
    # Runtime of the embedding model: "auto" (ONNX Runtime unless a CUDA GPU is there);
    # "onnx"; "torch". ONNX Runtime gives the same vectors (cosine 1.0000) and SciFact score,
    # embeds a batch as fast as torch on 2 cores, but a question 10x faster under load (no
    # per-module Python overhead), loads in about a second without importing torch, and
    # takes 300 MB less memory (benchmarks/embedder_backends.py).
    embedder_backend: str = "auto"
    lora_path: str | None = None
    # How strongly the adapter applies: 1.0 as trained, 0.0 not at all; llama.cpp takes any
    # number (negative subtracts it), so only a finite number is asked for.
    lora_scale: float = 1.0
    n_gpu_layers: GpuLayers = "auto"
    # Where the model runs: "local" (a child process here) or "server" (an OpenAI-compatible
    # server such as llama-server at `server_url`; `server_model` "" = the one it lists
    # first). The server's API key is not a setting: it lives in the system keyring.
    model_location: str = "local"
    server_url: str = ""
    server_model: str = ""
    context_size: int = 4096
    temperature: float = 0.2
    # llama.cpp's penalty on tokens of the last 64 (1.0: none). Measured with
    # benchmarks/answer_quality.py on the embedded model; see the closing note of issue 13.
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    threads: int | None = None
    instructions: str = ""  # the user's own words, added to the system prompt
    # Retrieval and chunking.
    chunk_tokens: int = 200
    chunk_overlap: int = 32
    top_k: int = 6
    # Ingestion limits: one hostile file must not hang or exhaust the indexer.
    max_file_mb: int = 100
    pdf_timeout_s: float = 120.0
    pdf_memory_mb: int = 2048
    ignore_patterns: tuple[str, ...] = ()
    # UI.
    tray_icon: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_FIELDS = {f.name: f for f in fields(Settings) if f.name != "extra"}
_DEFAULTS = Settings()


def _check(name: str, value: Any) -> Any:
    """Return the value coerced to the field's type, or raise ValueError with a reason."""
    default = getattr(_DEFAULTS, name)
    if name == "n_gpu_layers":
        if value == "auto":
            return "auto"
        if isinstance(value, int) and not isinstance(value, bool) and value >= -1:
            return value
        raise ValueError("must be 'auto' or a number of layers (-1 for all)")
    if name in {"chat_model", "embedder", "lora_path"}:
        if value is None or isinstance(value, str):
            return value or None
        raise ValueError("must be a path or empty")
    if name == "model_location":
        if value in MODEL_LOCATIONS:
            return value
        raise ValueError(f"must be one of {', '.join(MODEL_LOCATIONS)}")
    if name == "embedder_backend":
        if value in EMBEDDER_BACKENDS:
            return value
        raise ValueError(f"must be one of {', '.join(EMBEDDER_BACKENDS)}")
    if name == "lora_scale":
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise ValueError("must be a number")
    if name == "threads":
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            return value
        raise ValueError("must be empty (automatic) or a positive number")
    if name == "ignore_patterns":
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ValueError("must be a list of patterns")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ValueError("must be true or false")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        raise ValueError("must be a whole number, 0 or more")
    if isinstance(default, float):
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
        raise ValueError("must be a number, 0 or more")
    if isinstance(default, str):
        if isinstance(value, str):
            return value
        raise ValueError("must be text")
    return value


def validate(settings: Settings) -> list[str]:
    """Cross-field problems, as messages for a person."""
    problems = []
    if settings.chunk_overlap >= settings.chunk_tokens:
        problems.append("chunk_overlap must be smaller than chunk_tokens")
    if settings.context_size < 512:
        problems.append("context_size must be at least 512 tokens")
    return problems


def from_dict(data: dict[str, Any]) -> tuple[Settings, list[str]]:
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in data.items():
        if key not in _FIELDS:
            extra[key] = value
            continue
        try:
            values[key] = _check(key, value)
        except ValueError as exc:
            problems.append(f"setting '{key}' {exc}; using the default {getattr(_DEFAULTS, key)!r}")
    settings = Settings(**values, extra=extra)
    if settings.model_location == "server" and not settings.server_url.strip():
        problems.append("model_location is 'server' but server_url is empty; using this computer")
        settings = replace(settings, model_location="local")
    cross = validate(settings)
    if cross:
        problems.extend(f"{p}; using the defaults for chunking" for p in cross)
        settings = replace(
            settings,
            chunk_tokens=_DEFAULTS.chunk_tokens,
            chunk_overlap=_DEFAULTS.chunk_overlap,
            context_size=max(settings.context_size, 512),
        )
    return settings, problems


def to_dict(settings: Settings) -> dict[str, Any]:
    data = asdict(settings)
    extra = data.pop("extra")
    data["ignore_patterns"] = list(settings.ignore_patterns)
    return {**extra, **data}


def load(path: Path) -> tuple[Settings, list[str]]:
    """Read settings; a missing file gives the defaults, a broken one the defaults and a problem."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), []
    except OSError as exc:
        return Settings(), [f"could not read {path}: {exc.strerror}; using defaults"]
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Settings(), [f"{path} is not valid JSON ({exc.msg}); using defaults"]
    if not isinstance(data, dict):
        return Settings(), [f"{path} does not hold a settings object; using defaults"]
    return from_dict(data)


def save(path: Path, settings: Settings) -> None:
    """Write atomically so a kill mid-save never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(to_dict(settings), fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
