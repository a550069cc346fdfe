"""Bytes of a text-like file to str: BOM, UTF-16 by its byte pattern, UTF-8 (strict, or
with a replacement character where a few bytes are damaged), a declared charset, then a
detected legacy code page. "Binary" is said only of bytes that are no text at all."""

from __future__ import annotations

import codecs
import re
import unicodedata

from desktop_rag.core.ingest.extract.base import Unreadable, clean

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
    damaged = _mostly_utf8(data)
    if damaged is not None:
        return damaged
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return _guess(data)


def _bomless_utf16(sample: bytes) -> str | None:
    """UTF-16 without a byte-order mark (what `iconv -t UTF-16LE` writes).

    Latin text shows as ASCII with a NUL in every other byte. Other scripts are told by
    decoding both byte orders: real text decodes cleanly into letters of one or two
    scripts with spaces and punctuation, while bytes of another kind give unpaired
    surrogates, unassigned code points or a scatter of scripts.
    """
    if len(sample) < 8:
        return None
    pairs = len(sample) // 2
    even_nuls = sample[0 : pairs * 2 : 2].count(0)
    odd_nuls = sample[1 : pairs * 2 : 2].count(0)
    if odd_nuls > 0.9 * pairs and even_nuls == 0:
        return "utf-16-le"
    if even_nuls > 0.9 * pairs and odd_nuls == 0:
        return "utf-16-be"
    if _plain_utf8(sample):
        return None  # ASCII and UTF-8 text read as UTF-16 looks like CJK: never guess that
    # Newlines, spaces, digits and ASCII punctuation put a NUL in the high byte (and so do
    # characters such as 一 U+4E00); legacy double-byte code pages (GBK, Shift-JIS) have no
    # NUL at all, so their text is never taken for UTF-16.
    if not odd_nuls and not even_nuls:
        return None
    scores = {}
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample[: pairs * 2].decode(encoding)
        except UnicodeDecodeError:  # unpaired surrogates (or one cut at the sample's end)
            try:
                text = sample[: pairs * 2 - 2].decode(encoding)
            except UnicodeDecodeError:
                continue
        scores[encoding] = _text_score(text)
    if not scores:
        return None
    best = max(scores, key=lambda e: scores[e])
    return best if scores[best] >= 0.95 else None


def _plain_utf8(sample: bytes) -> bool:
    """Valid UTF-8 (up to a character cut at the sample's end) without control codes."""
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:
            return False
        text = sample[: exc.start].decode("utf-8")
    return not _CONTROLS.search(text)


_GOOD = {"L", "M", "N", "P", "Z"}


def _text_score(text: str) -> float:
    """How much `text` looks like writing (0 to 1): letters, digits, punctuation and spaces,
    letters from at most a few scripts, and no unassigned or private-use code points."""
    if not text:
        return 0.0
    good: float = 0
    scripts: dict[str, int] = {}
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] in _GOOD or ch in "\t\n\r\f":
            good += 1
        elif category[0] == "S":
            good += 0.5
        if category[0] == "L":
            script = unicodedata.name(ch, "?").split(" ")[0]
            script = "CJK" if script in ("CJK", "HIRAGANA", "KATAKANA") else script
            scripts[script] = scripts.get(script, 0) + 1
    letters = sum(scripts.values())
    top_two = sum(sorted(scripts.values(), reverse=True)[:2])
    script_share = top_two / letters if letters else 0.0
    return min(good / len(text), script_share)


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few damaged bytes (a bad sector, a cut download): read as UTF-8 with a
    replacement character there, not as a legacy code page of mojibake ("crﾃｨme").

    Text in a legacy code page has no valid multi-byte sequences at all, so a handful of
    invalid bytes among many valid non-ASCII characters can only be damage.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    valid = sum(1 for ch in text if ord(ch) > 127) - text.count("\ufffd")
    if bad <= 0 or valid < 3 * bad or bad > max(2, valid // 20):
        return None
    return text


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
