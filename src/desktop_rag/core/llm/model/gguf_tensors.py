"""A GGUF model's architecture and tensor shapes, read quickly.

`gguf.GGUFReader` turns every array in the header into numpy parts; for SmolLM2's
49k-token vocabulary that took 4 s here, and checking a LoRA adapter needs none of it.
This walks the header with `struct` over a memory map and steps over arrays (strings one
length at a time, numbers in one jump), which takes milliseconds. Little-endian GGUF v2
and v3 only: the versions llama.cpp writes; anything else is a ValueError.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

# gguf.GGUFValueType's ids (the GGUF spec's), written out so that importing this module
# (the CLI's parser does, through lora.py) does not import gguf and numpy.
_STRING, _ARRAY = 8, 9
_FIXED = {0: 1, 1: 1, 7: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 10: 8, 11: 8, 12: 8}


def read_tensor_shapes(path: str | Path) -> tuple[str, dict[str, tuple[int, ...]]]:
    """(general.architecture, {tensor name: shape in GGUF order, ne[0] first})."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        try:
            return _walk(mm)
        except (struct.error, IndexError, KeyError) as exc:
            raise ValueError(f"the GGUF header is cut short or damaged ({exc})") from exc


def _walk(mm: mmap.mmap) -> tuple[str, dict[str, tuple[int, ...]]]:
    magic, version, n_tensors, n_kv = struct.unpack_from("<4sIQQ", mm, 0)
    if magic != b"GGUF":
        raise ValueError("not a GGUF file")
    if version not in (2, 3):
        raise ValueError(f"GGUF version {version} is not supported (2 and 3 are)")
    offset = 24
    arch = ""
    for _ in range(n_kv):
        key, offset = _string(mm, offset)
        (kind,) = struct.unpack_from("<I", mm, offset)
        offset += 4
        if key == "general.architecture" and kind == _STRING:
            arch, offset = _string(mm, offset)
        else:
            offset = _skip(mm, offset, kind)
    shapes: dict[str, tuple[int, ...]] = {}
    for _ in range(n_tensors):
        name, offset = _string(mm, offset)
        (n_dims,) = struct.unpack_from("<I", mm, offset)
        shapes[name] = struct.unpack_from(f"<{n_dims}Q", mm, offset + 4)
        offset += 4 + 8 * n_dims + 4 + 8  # the dims, the ggml type, the data offset
    return arch, shapes


def _string(mm: mmap.mmap, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("<Q", mm, offset)
    end = offset + 8 + length
    if end > len(mm):
        raise ValueError("a string runs past the end of the file")
    return mm[offset + 8 : end].decode("utf-8", "replace"), end


def _skip(mm: mmap.mmap, offset: int, kind: int) -> int:
    """The offset after one value of GGUF type `kind` starting at `offset`."""
    if kind in _FIXED:
        return offset + _FIXED[kind]
    if kind == _STRING:
        (length,) = struct.unpack_from("<Q", mm, offset)
        return offset + 8 + length
    if kind == _ARRAY:
        item, count = struct.unpack_from("<IQ", mm, offset)
        offset += 12
        if item in _FIXED:
            return offset + count * _FIXED[item]
        for _ in range(count):
            offset = _skip(mm, offset, item)
        return offset
    raise ValueError(f"unknown GGUF value type {kind}")
