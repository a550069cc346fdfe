"""Turning model files and llama.cpp's answers into facts and errors a person can read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from desktop_rag.core.errors import ModelError
from desktop_rag.core.llm.gpu.fit import FitPlan, cpu_plan
from desktop_rag.core.llm.model.gguf_info import file_type_name
from desktop_rag.core.llm.model_info import ModelInfo


def gguf_file_problem(path: str, kind: str) -> tuple[str, str] | None:
    """Why `path` cannot be a GGUF `kind` ("model", "adapter"), or None: (reason, which)
    with which = "missing", "unreadable" or "signature", for the caller's hint."""
    if not os.path.isfile(path):
        return f"{kind} file not found", "missing"
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        return f"cannot read the {kind} file ({exc.strerror})", "unreadable"
    if magic != b"GGUF":
        return f"not a GGUF {kind} file (it does not start with the GGUF signature)", "signature"
    return None


def check_model_file(path: str) -> None:
    """Fail early, in plain words, for the common cases; llama.cpp judges the rest."""
    problem = gguf_file_problem(path, "model")
    if problem is not None:
        hint = {
            "missing": "choose a GGUF model file in Settings",
            "signature": "choose a .gguf file; other formats must be converted with llama.cpp "
            "first",
        }.get(problem[1])
        raise ModelError(problem[0], path=path, hint=hint)


def model_info(
    path: str, result: dict[str, Any], plan: FitPlan | str, hello: dict[str, Any]
) -> ModelInfo:
    meta = result["metadata"]
    arch = meta.get("general.architecture", "")
    n_layers = int(meta.get(f"{arch}.block_count", 0) or 0)
    if isinstance(plan, str):
        plan = cpu_plan(n_layers + 1, plan)
    file_type = meta.get("general.file_type")
    return ModelInfo(
        path=path,
        name=meta.get("general.name") or Path(path).stem,
        size_bytes=os.path.getsize(path),
        quantization=file_type_name(int(file_type) if file_type is not None else None),
        n_layers=n_layers,
        gpu_layers=plan.gpu_layers,
        plan=plan,
        chat_template_source=result["chat_template_source"],
        n_ctx=int(result.get("n_ctx", 0)),
        chat_format=str(result.get("chat_format", "")),
        llama_cpp_version=str(hello.get("version", "")),
    )
