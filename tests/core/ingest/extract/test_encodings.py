"""Text encodings as files have them: damaged UTF-8, UTF-16 without a byte-order mark,
legacy code pages; "binary" only for bytes that are no text."""

from __future__ import annotations

import random
import zlib

import pytest

from desktop_rag.core.ingest.extract.base import Unreadable
from desktop_rag.core.ingest.extract.decode import BINARY, decode_text

FRENCH = "Une crème brûlée, s’il vous plaît. Où est la bibliothèque ? Très bien, à demain.\n" * 6
CHINESE = "这是一个关于图书馆的中文段落，里面有很多汉字。我们在这里测试解码。\n" * 6
RUSSIAN = "Это русский текст о библиотеке и погоде. Сегодня идёт снег, завтра дождь.\n" * 6
JAPANESE = "これは日本語のテキストです。図書館で本を読みます。\n" * 6
KOREAN = "이것은 한국어 텍스트입니다. 도서관에서 책을 읽습니다.\n" * 6


def _damage(text: str, at: str) -> bytes:
    """UTF-8 of `text` with the second byte of the first `at` replaced by an ASCII letter."""
    data = bytearray(text.encode("utf-8"))
    i = data.index(at.encode("utf-8"))
    data[i + 1] = ord("A")
    return bytes(data)


@pytest.mark.parametrize(("text", "at"), [(FRENCH, "è"), (CHINESE, "馆"), (RUSSIAN, "ё")])
def test_utf8_with_a_damaged_byte_is_utf8_with_a_replacement_there(text, at):
    decoded = decode_text(_damage(text, at))
    assert 1 <= decoded.count("\ufffd") <= 2  # the damaged character, and its orphaned byte
    # Everything else is read as written (not as a legacy code page of mojibake).
    first_line, rest = text.split("\n", 1)
    assert decoded.split("\n", 1)[1] == rest
    assert len(decoded.split("\n", 1)[0]) >= len(first_line) - 1


@pytest.mark.parametrize("text", [RUSSIAN, CHINESE, JAPANESE, KOREAN, "Ein schöner Tag.\n" * 3])
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_recognised(text, encoding):
    assert decode_text(text.encode(encoding)) == text


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(FRENCH, "cp1252"), (CHINESE, "gbk"), (JAPANESE, "shift_jis"), (JAPANESE, "euc-jp"),
     (KOREAN, "euc-kr"), (RUSSIAN, "cp1251")],
)  # fmt: skip
def test_legacy_code_pages_are_never_taken_for_utf16(text, encoding):
    assert decode_text(text.encode(encoding)) == text


@pytest.mark.parametrize(
    "data",
    [
        random.Random(1).randbytes(6000),
        bytes(range(256)) * 30,
        random.Random(2).randbytes(6000).replace(b"\x00", b""),
        zlib.compress(FRENCH.encode() * 20),
    ],
    ids=["random", "all-bytes", "random-without-nul", "zlib"],
)
def test_only_bytes_that_are_no_text_are_binary(data):
    with pytest.raises(Unreadable, match=BINARY):
        decode_text(data)
