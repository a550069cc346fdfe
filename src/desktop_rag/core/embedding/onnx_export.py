"""Exporting a sentence-transformers folder's transformer to ONNX, once, into the cache.

sentence-transformers' own `backend="onnx"` loads through `optimum-onnx`, whose only
release (0.1.0) requires transformers<4.58; we pin 5.x. So the transformer is exported
here with torch's TorchScript exporter (`dynamo=False`: the dynamo exporter needs
onnxscript, another dependency, for the same graph) and run with onnxruntime directly.
Pooling and normalisation stay outside the graph (onnx_embedder.py), following the folder's
own module configuration; `unsupported_reason` refuses folders with modules we do not
reproduce.

The cache key holds everything that shapes the graph: the model's identity, the torch,
transformers and onnxruntime versions, the variant and this module's EXPORT_VERSION. A
file is written to a temporary name and renamed, and a small `export.json` beside it
records its size: a file killed mid-write or cut short is exported again.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

log = logging.getLogger(__name__)

# Bump when the exported graph changes (inputs, outputs, opset), so caches are rebuilt.
EXPORT_VERSION = 1
OPSET = 17
FP32 = "onnx-fp32"
# int8 dynamic quantisation (per-channel): 1.1-1.7x torch's speed here, but cosine to the
# torch vectors as low as 0.95-0.98 on the corpus (per-tensor: 0.90); below the 0.99 bar,
# so benchmarks/embedder_backends.py measures it and the app does not use it.
INT8 = "onnx-int8"
# fp32 with onnxruntime's transformer fusions (one Attention node per layer, fused
# embedding and skip layer norms, BiasGelu), for BERT-type models; others stay plain.
FUSED = "onnx-fused"
VARIANTS = (FP32, INT8, FUSED)
_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
_OTHER_POOLING_MODES = (
    "pooling_mode_cls_token",
    "pooling_mode_max_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
    "pooling_mode_lasttoken",
)


def unsupported_reason(model_dir: Path) -> str | None:
    """Why this folder cannot run through ONNX here, or None when it can.

    Supported: modules Transformer (at the folder's root), mean Pooling, then optionally
    Normalize, with a fast tokenizer (tokenizer.json). Reads only small JSON files.
    """
    model_dir = Path(model_dir)
    try:
        modules = json.loads((model_dir / "modules.json").read_text("utf-8"))
        types = [m["type"] for m in modules]
        paths = [m.get("path", "") for m in modules]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"no readable modules.json ({exc})"
    if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
        short = ", ".join(t.rsplit(".", 1)[-1] for t in types)
        return f"modules {short} (supported: Transformer, Pooling, Normalize)"
    if paths[0] not in ("", "."):
        return f"the transformer lives in a subfolder ({paths[0]})"
    try:
        pooling = json.loads((model_dir / paths[1] / "config.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        return f"no readable pooling configuration ({exc})"
    mode = pooling.get("pooling_mode")
    mean = mode == "mean" if mode is not None else pooling.get("pooling_mode_mean_tokens")
    if not mean or any(pooling.get(key) for key in _OTHER_POOLING_MODES):
        return "pooling is not plain mean pooling"
    if pooling.get("include_prompt", True) is not True:
        return "pooling excludes a prompt"
    if not (model_dir / "tokenizer.json").is_file():
        return "no tokenizer.json (fast tokenizer)"
    if not (model_dir / "config.json").is_file():
        return "no config.json"
    return None


def _versions() -> str:
    parts = []
    for package in ("torch", "transformers", "onnxruntime"):
        try:
            parts.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package}=none")
    return ";".join(parts)


def cache_key(identity: str, variant: str) -> str:
    """A folder name for one export: 16 hex digits of everything that shapes the graph."""
    text = f"{identity}|{variant}|{_versions()}|export={EXPORT_VERSION}|opset={OPSET}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_model(cache_dir: Path, identity: str, variant: str) -> Path:
    """Where this export lives: `<cache_dir>/onnx/<key>/model.onnx` (may not exist yet)."""
    return Path(cache_dir) / "onnx" / cache_key(identity, variant) / "model.onnx"


def is_complete(model_file: Path) -> bool:
    """Whether `model_file` is a finished export: its record exists and sizes agree."""
    try:
        record = json.loads((model_file.parent / "export.json").read_text("utf-8"))
        return int(record["bytes"]) == model_file.stat().st_size
    except (OSError, ValueError, KeyError, TypeError):
        return False


def discard(model_file: Path) -> None:
    """Remove an export (a corrupt one, before exporting again)."""
    for path in (model_file.parent / "export.json", model_file):
        path.unlink(missing_ok=True)


def export(model_dir: Path, model_file: Path, identity: str, variant: str = FP32) -> Path:
    """Write `model_file`: the folder's transformer as ONNX, inputs `input_ids`,
    `attention_mask` (and `token_type_ids` when the model takes them), each int64
    (batch, sequence); output `last_hidden_state` float32 (batch, sequence, hidden).

    Takes about 10 s for MiniLM on two cores (plus 2 s to quantise for INT8). Raises
    whatever torch's exporter or the quantiser raise; nothing is left at `model_file`
    then.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}")
    model_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model_file.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        _export_fp32(Path(model_dir), fp32)
        result = fp32
        if variant == FUSED:
            result = _fuse(Path(model_dir), fp32, Path(tmp) / "fused.onnx")
        if variant == INT8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            result = Path(tmp) / "int8.onnx"
            quantize_dynamic(fp32, result, weight_type=QuantType.QInt8, per_channel=True)
        record = {
            "identity": identity,
            "variant": variant,
            "versions": _versions(),
            "export_version": EXPORT_VERSION,
            "bytes": result.stat().st_size,
        }
        (Path(tmp) / "export.json").write_text(json.dumps(record, indent=2), "utf-8")
        # The model first, its record last: a record always describes a whole file.
        os.replace(result, model_file)
        os.replace(Path(tmp) / "export.json", model_file.parent / "export.json")
    return model_file


def _export_fp32(model_dir: Path, target: Path) -> None:
    import torch
    import transformers
    from transformers import AutoModel

    transformers.utils.logging.disable_progress_bar()
    # Eager attention: a plain graph of MatMul/Softmax that every onnxruntime fuses.
    model = AutoModel.from_pretrained(model_dir, local_files_only=True, attn_implementation="eager")
    model.eval()
    takes_types = "token_type_ids" in inspect.signature(model.forward).parameters
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if takes_types else [])

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad(), _quiet_tracer():
        torch.onnx.export(
            LastHidden(model),
            sample,
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={name: axes for name in [*names, "last_hidden_state"]},
            opset_version=OPSET,
            dynamo=False,
        )


def _fuse(model_dir: Path, source: Path, target: Path) -> Path:
    """`source` with onnxruntime's BERT fusions saved at `target`; `source` itself for
    another architecture (the fusion patterns are BERT's)."""
    config = json.loads((model_dir / "config.json").read_text("utf-8"))
    if config.get("model_type") != "bert":
        return source
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=1,
    )
    fused.save_model_to_file(str(target))
    return target


@contextlib.contextmanager
def _quiet_tracer():
    """The tracer warns about Python conditions in transformers' masking code; they test
    padding that our inputs never have (the mask always spans the whole sequence)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
