"""File names that are not valid UTF-8: kept exact on disk, storable, and readable. Pure.

On Linux a file name is bytes. Python lists a name that is not valid UTF-8 (a legacy code
page on an old USB stick or in an archive: `caf\\xe9.txt`) with each undecodable byte as a
lone surrogate (`caf\\udce9.txt`), which opens the file again but cannot be encoded as
UTF-8: LanceDB, Arrow and SQLite refuse it, and a terminal or a Qt label cannot show it.

- `to_storage` / `from_storage`: a reversible spelling for the index and the folder list,
  each lone surrogate U+DC80+b moved to the private-use code point U+10FE80+b (no real name
  uses that plane), and back.
- `display_path`: the name a person can read, the bytes decoded with the likeliest legacy
  code page (`café.txt`), for the window, the command line and the keyword index.
"""

from __future__ import annotations

import os
import re
import unicodedata

_SURROGATES = re.compile("[\udc80-\udcff]")
_STORED = re.compile("[\U0010fe80-\U0010feff]")
_SHIFT = 0x10FE80 - 0xDC80
# Legacy code pages a name's bytes may come from; on a tie the first wins.
_LEGACY = ("cp1252", "cp1251", "cp932", "gbk", "cp949", "big5", "cp1253")
_GROUPS = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HALFWIDTH": "CJK", "HANGUL": "HANGUL"}


def to_storage(path: str) -> str:
    """`path` as it can be stored (identity for every valid name)."""
    if not _SURROGATES.search(path):
        return path
    return _SURROGATES.sub(lambda m: chr(ord(m.group()) + _SHIFT), path)


def from_storage(key: str) -> str:
    """The path a stored key stands for: opens the same file again."""
    if not _STORED.search(key):
        return key
    return _STORED.sub(lambda m: chr(ord(m.group()) - _SHIFT), key)


def has_undecodable(path: str) -> bool:
    return bool(_SURROGATES.search(path))


def display_path(path: str) -> str:
    """A readable spelling of `path` (identity for every valid name)."""
    if not has_undecodable(path):
        return path
    raw = path.encode("utf-8", "surrogateescape")
    parts = raw.split(os.sep.encode())
    return os.sep.join(_readable(part) for part in parts)


def _readable(part: bytes) -> str:
    try:
        return part.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best, best_score = part.decode("utf-8", "replace"), 0.0
    for encoding in _LEGACY:
        try:
            text = part.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if score and len(text.encode(encoding)) - len(text) == sum(ord(c) > 127 for c in text):
            # Every non-ASCII character took two bytes: a double-byte code page fits these
            # bytes exactly, which a single-byte reading of a Chinese name cannot tell.
            score += 0.01
        if score > best_score:
            best, best_score = text, score
    return best


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    first = name.split(" ")[0]
    if first == "CJK":
        return "CJK"
    return _GROUPS.get(first, first)


def _plausibility(text: str) -> float:
    """How much `text` looks like a name in one writing system (0 to 1). Each word should
    keep to one script, and a Latin word is mostly plain ASCII letters with a few accents
    ("Müller"; "Ïðèâåò" is Russian read as Windows-1252)."""
    if not text.isprintable():
        return 0.0
    words = re.findall(r"[^\W\d_]+", text)
    if not words:
        return 0.5
    good = 0.0
    for word in words:
        scripts = {_script(c) for c in word if ord(c) > 127}
        if len(scripts) > 1 or (scripts and not scripts <= {"LATIN"} and not word.isascii()
                                and any(c.isascii() for c in word)):  # fmt: skip
            continue  # one word in two scripts: "cafй"
        accented = sum(1 for c in word if ord(c) > 127)
        if scripts == {"LATIN"} and accented > len(word) / 3:
            continue
        good += 1
    return good / len(words)
