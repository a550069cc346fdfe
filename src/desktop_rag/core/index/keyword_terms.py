"""Keyword-side text analysis that LanceDB's English tokenizer cannot do itself.

Chinese and Japanese are written without spaces, so the English full-text index sees a
whole sentence as one "word". We index them as overlapping character unigrams and
bigrams (the classic CJK approach of Lucene's CJKAnalyzer) in a separate column with a
whitespace tokenizer, and turn CJK queries into the same terms.
"""

from __future__ import annotations

import re
from pathlib import PurePath

# Han, Hiragana, Katakana, Hangul and their compatibility blocks.
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_HAS_CJK = re.compile(f"[{_CJK}]")
_NAME_SPLIT = re.compile(r"[\s_\-.()\[\]{}+,;]+|(?<=[a-z])(?=[A-Z])")


def has_cjk(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


def cjk_terms(text: str) -> str:
    """Space-separated unigrams and bigrams of every CJK run in `text` ("" if none).

    Unigrams let one-character queries match; bigrams make longer queries precise.
    """
    terms: list[str] = []
    for match in _CJK_RUN.finditer(text):
        run = match.group()
        terms.extend(run)
        terms.extend(run[i : i + 2] for i in range(len(run) - 1))
    return " ".join(terms)


def cjk_query_terms(query: str) -> str:
    """Query terms for the CJK column: bigrams, or the single character of a 1-char run.

    Unigrams of a longer run are left out: they match too much and drown the bigrams.
    """
    terms: list[str] = []
    for match in _CJK_RUN.finditer(query):
        run = match.group()
        if len(run) == 1:
            terms.append(run)
        else:
            terms.extend(run[i : i + 2] for i in range(len(run) - 1))
    return " ".join(terms)


def name_words(path: str) -> str:
    """A file name's words for the keyword index: `Q3_salesReport.pdf` -> `Q3 sales Report pdf`."""
    name = PurePath(path).name
    words = " ".join(w for w in _NAME_SPLIT.split(name) if w)
    cjk = cjk_terms(name)
    return f"{words} {cjk}".strip()
