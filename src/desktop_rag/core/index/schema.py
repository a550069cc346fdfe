"""What the index looks like on disk: table schemas, the manifest, SQL predicates."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa

from desktop_rag.core.path_keys import to_storage

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1
IN_BATCH = 400  # values per IN (...) list, to keep predicates small
# Columns returned by searches (everything but the vector and the keyword-only columns).
RESULT_COLUMNS = [
    "id", "path", "ordinal", "text", "start", "end", "page",
    "heading_path", "content_hash", "file_hash",
]  # fmt: skip


def sql_str(value: str) -> str:
    """A SQL string literal: single quotes doubled, a path in its stored spelling."""
    return "'" + to_storage(value).replace("'", "''") + "'"


def in_list(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(sql_str(v) for v in values)})"


def batches(values: Sequence[str], size: int = IN_BATCH) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def within_folders(folders: Sequence[str]) -> str | None:
    """Rows under any of these folders; None (no filter) for none."""
    if not folders:
        return None
    return " OR ".join(under_predicate(f) for f in folders)


def under_predicate(folder: str) -> str:
    """Rows at `folder` or below it; `/a/b` never matches `/a/bc`."""
    prefix = folder.rstrip("/\\") + os.sep
    return f"(path = {sql_str(folder)} OR starts_with(path, {sql_str(prefix)}))"


@dataclass(frozen=True)
class Manifest:
    """Which embedder built the index: vectors of two models must never mix.

    `variant` is the runtime that created the index ("torch", "onnx-fp32"); manifests
    written before it existed read as "torch". It is a record, not a check: both runtimes
    give the same model's vectors (cosine 0.9999), so an index created by one is searched
    and extended by the other, and the variant keeps saying who created it.
    """

    embedder: str
    dim: int
    schema: int = SCHEMA_VERSION
    variant: str = "torch"


def read_manifest(index_dir: Path) -> Manifest | None:
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(
            str(data["embedder"]),
            int(data["dim"]),
            int(data.get("schema", 1)),
            str(data.get("variant", "torch")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_manifest(index_dir: Path, manifest: Manifest) -> None:
    tmp = index_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(asdict(manifest)), encoding="utf-8")
    os.replace(tmp, index_dir / MANIFEST)


def chunk_schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.string()),
            ("path", pa.string()),
            ("ordinal", pa.int32()),
            ("text", pa.string()),
            ("context", pa.string()),  # words of the file name, for keyword search
            ("cjk", pa.string()),  # CJK unigrams+bigrams of text and name (keyword_terms.py)
            ("vector", pa.list_(pa.float32(), dim)),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("page", pa.int32()),
            ("heading_path", pa.list_(pa.string())),
            ("content_hash", pa.string()),
            ("file_hash", pa.string()),  # content hash of the whole file
            ("batch", pa.int64()),  # write generation: older ones of a path are stale
        ]
    )


FILE_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("content_hash", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("chunk_count", pa.int32()),
        ("kind", pa.string()),
        ("indexed_at", pa.float64()),
    ]
)
