"""Bytes of a text-like file to str: BOM, then strict UTF-8, then a detected legacy code page."""

from __future__ import annotations

import codecs
import re

from desktop_rag.core.extract.base import Unreadable, clean

# UTF-32 first: its little-endian BOM begins with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 64 * 1024
# C0 and C1 controls other than tab, newlines, form feed and escape (ANSI colours in logs).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_MAX_CONTROL_RATIO = 0.05
BINARY = "binary content, not text"


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode, normalise newlines to "\\n", and reject content that is not text.

    `declared` is an encoding named by the file itself (an HTML meta charset); it is tried
    after the BOM and UTF-8 but before guessing.
    """
    text = _decode(data, declared)
    if _looks_binary(text):
        raise Unreadable(BINARY)
    text = clean(text)
    if not text.strip():
        raise Unreadable("the file is empty")
    return text


def _decode(data: bytes, declared: str | None) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    bomless_utf16 = _bomless_utf16(data[:_SAMPLE])
    if bomless_utf16:
        return data.decode(bomless_utf16, errors="replace")
    if b"\x00" in data[:_SAMPLE]:
        raise Unreadable(BINARY)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return _guess(data)


def _bomless_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM shows as ASCII with a NUL in every other byte."""
    if len(sample) < 8:
        return None
    pairs = len(sample) // 2
    even_nuls = sample[0 : pairs * 2 : 2].count(0)
    odd_nuls = sample[1 : pairs * 2 : 2].count(0)
    if odd_nuls > 0.9 * pairs and even_nuls == 0:
        return "utf-16-le"
    if even_nuls > 0.9 * pairs and odd_nuls == 0:
        return "utf-16-be"
    return None


def _guess(data: bytes) -> str:
    from charset_normalizer import from_bytes  # imported late: only legacy files pay for it

    matches = list(from_bytes(data))
    if not matches:
        raise Unreadable(BINARY)
    best = matches[0]
    # Short Western text fits several single-byte code pages equally well, and the detector
    # then often names a Central European one ("crème" becomes "crčme"). Among equally good
    # candidates prefer Windows-1252, the legacy code page most files in the wild use.
    tied = [
        m for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01
    ]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return str(best)


def _looks_binary(text: str) -> bool:
    sample = text[:_SAMPLE]
    if not sample:
        return False
    return len(_CONTROLS.findall(sample)) / len(sample) > _MAX_CONTROL_RATIO


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def declared_html_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None
