"""Answer quality with the embedded model: facts, citations, sentence support, loops.

Indexes the bundled sample, the Rust book and the NTSB reports of ../shared/corpus into a
data folder of its own (kept between runs: a second run only checks for changes), then asks
every question of `answer_quality_questions.py` through the app's own `Answerer` at
temperature 0 and prints:

- facts: answers that state the fact;
- right file cited: answers whose citations include the file that holds the fact;
- supported sentences that hold: sentences the attribution marks supported whose span
  really holds them (every number of the sentence and most of its content words are in
  the passage span shown), out of all marked supported;
- planted false sentences flagged: for every answer, two sentences that are wrong on
  purpose (a number changed; a bare "The answer is: N." tail) are attributed against the
  same passages; each must come out unsupported;
- loops: answers whose shown text repeats a sentence, and answers the loop guard cut;
- mean answer length (words) and time (s), and the share of it spent on attribution.

    python benchmarks/answer_quality.py [--data-dir DIR] [--only N] [--verbose]
        [--set name=value ...]   # Settings fields, e.g. --set repeat_penalty=1.1
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

from _common import BENCH_DIR, REPO, SHARED, StderrProgress
from answer_quality_questions import QUESTIONS, Question, holds
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.llm.local.host import ModelHost
from desktop_rag.core.paths import app_paths
from desktop_rag.core.rag.answerer import Answerer
from desktop_rag.core.rag.citations import strip_citations
from desktop_rag.core.settings import Settings

FOLDERS = (
    REPO / "resources" / "sample",
    SHARED / "corpus" / "rust-book" / "src",
    SHARED / "corpus" / "pdf" / "docugami_ntsb",
)
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def check_question_set(kb: KnowledgeBase) -> None:
    """Every fact must be in its file as indexed: a wrong question set proves nothing."""
    table = kb.store.scan_chunks(["path", "text"]).to_pydict()
    by_file: dict[str, list[str]] = {}
    for path, text in zip(table["path"], table["text"], strict=True):
        by_file.setdefault(Path(path).name, []).append(text)
    bad = [
        f"{q.question!r}: fact not in {q.file}"
        for q in QUESTIONS
        if not holds(q, " ".join(by_file.get(q.file, ())))
    ]
    if bad:
        sys.exit("question set is wrong:\n  " + "\n  ".join(bad))


def repeats_a_sentence(text: str) -> bool:
    seen: set[str] = set()
    for sentence in _SENTENCE_END.split(text):
        key = " ".join(_WORD.findall(sentence.lower()))
        if len(key.split()) < 3:
            continue
        if key in seen:
            return True
        seen.add(key)
    return False


_COUNT_WORDS = "zero one two three four five six seven eight nine ten"
_COUNTS = {w: str(i) for i, w in enumerate(_COUNT_WORDS.split())}
_BOILERPLATE = {"answer", "question", "correct", "sources", "source", "passage"}


def span_holds(sentence: str, passage: str) -> bool:
    """Independent check of a 'supported' mark: the sentence's numbers are in the span, and
    most of its longer words (prefixes of 5 letters)."""
    low = " ".join(passage.lower().split())
    for word, digit in _COUNTS.items():  # "six hives" holds "6 hives"
        low = re.sub(rf"\b{word}\b", f"{word} {digit}", low)
    numbers = _NUMBER.findall(sentence)
    if any(n not in low and n.replace(",", "") not in low for n in numbers):
        return False
    words = [
        w
        for w in _WORD.findall(sentence.lower())
        if len(w) > 3 and w not in _BOILERPLATE and not w.isdigit()
    ]
    if not words:
        return True
    return sum(w[:5] in low for w in words) / len(words) >= 0.5


def planted(answer_text: str, question: Question) -> list[str]:
    """Two false sentences about this answer's passages: a bare number the passages do not
    give as the answer, and a sentence of the answer with its numbers changed (or, without
    numbers, a claim about something else)."""
    out = ["The answer is: 1234."]
    clean = strip_citations(answer_text)
    for sentence in _SENTENCE_END.split(clean):
        if _NUMBER.search(sentence):
            out.append(_NUMBER.sub(lambda m: str(int(re.sub(r"\D", "", m.group(0))) + 7), sentence))
            break
    else:
        out.append("It was designed by Queen Victoria and the Royal Navy.")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "answer_quality")
    parser.add_argument("--only", type=int, default=0, help="the first N questions")
    parser.add_argument("--verbose", action="store_true", help="print every answer")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--layout", help="a prompt layout of prompt.LAYOUTS (default: the app's)")
    parser.add_argument(
        "--margin", help="relevance margin (default: the app's; 'none' keeps every relevant hit)"
    )
    args = parser.parse_args()

    changes: dict[str, object] = {"temperature": 0.0}
    for item in args.set:
        name, _, value = item.partition("=")
        current = getattr(Settings(), name)
        changes[name] = type(current)(value) if current is not None else value
    settings = Settings().with_changes(**changes)
    missing = [str(f) for f in FOLDERS if not f.is_dir()]
    if missing:
        sys.exit("missing corpus folders: " + ", ".join(missing))
    paths = app_paths(args.data_dir)
    kb = KnowledgeBase(paths, settings)
    start = time.perf_counter()
    report = kb.index(list(FOLDERS), progress=StderrProgress("index"))
    print(
        f"index: {report.indexed} files indexed, {report.unchanged} unchanged "
        f"({time.perf_counter() - start:.0f} s)",
        file=sys.stderr,
    )
    check_question_set(kb)

    try:
        from desktop_rag.core.rag.attribution import attribute  # the feature under test
    except ImportError:
        attribute = None

    host = ModelHost(settings, log_dir=paths.logs_dir)
    embed = kb.embed_texts if hasattr(kb, "embed_texts") else None
    extra = {"embed": embed} if embed else {}
    if args.layout:
        extra["layout"] = args.layout
    if args.margin:
        extra["margin"] = None if args.margin == "none" else float(args.margin)
    answerer = Answerer(kb.search, host, settings, **extra)
    questions = QUESTIONS[: args.only] if args.only else QUESTIONS
    rows = []
    try:
        host.load()
        for i, q in enumerate(questions, 1):
            answer = answerer.ask(q.question)
            cited = {Path(s.path).name for s in answer.sources if s.cited}
            sentences = getattr(answer, "sentences", None)
            marked = [s for s in sentences or () if s.supported]
            by_number = {s.number: s for s in answer.provided}
            held = 0
            for s in marked:
                src = by_number.get(s.sources[0]) if s.sources else None
                span = src.text[s.span[0] : s.span[1]] if src and s.span else ""
                held += span_holds(s.text, span)
            flagged = total_planted = 0
            if sentences is not None and attribute is not None and answer.provided:
                for fake in planted(answer.text, q):
                    result = attribute(fake, answer.provided, question=q.question, embed=embed)
                    total_planted += len(result.sentences)
                    flagged += sum(not r.supported for r in result.sentences)
            rows.append(
                {
                    "fact": holds(q, answer.text),
                    "right": q.file in cited,
                    "marked": len(marked),
                    "held": held,
                    "planted": total_planted,
                    "flagged": flagged,
                    "loop": repeats_a_sentence(answer.text),
                    "cut": bool(getattr(answer, "loop_cut", False)),
                    "words": len(answer.text.split()),
                    "time": answer.timings.total_s,
                    "attribution": getattr(answer.timings, "attribution_s", 0.0),
                }
            )
            r = rows[-1]
            print(
                f"[{i}/{len(questions)}] fact={'y' if r['fact'] else 'n'} "
                f"cite={'y' if r['right'] else 'n'} {r['time']:.1f}s {q.question}",
                file=sys.stderr,
            )
            if args.verbose:
                print(f"    {answer.text!r}", file=sys.stderr)
                for s in sentences or ():
                    mark = "ok " if s.supported else "-- "
                    print(f"      {mark}{s.sources} {s.score:.2f} {s.text!r}", file=sys.stderr)
                print(f"    cited: {sorted(cited)}", file=sys.stderr)
                given = [f"[{s.number}] {Path(s.path).name}" for s in answer.provided]
                print(f"    given: {', '.join(given)}", file=sys.stderr)
    finally:
        host.close()
        kb.close()

    n = len(rows)
    marked = sum(r["marked"] for r in rows)
    planted_n = sum(r["planted"] for r in rows)
    total_time = sum(r["time"] for r in rows)
    print(f"questions:                      {n}")
    print(f"answers stating the fact:       {sum(r['fact'] for r in rows)}/{n}")
    print(f"answers citing the right file:  {sum(r['right'] for r in rows)}/{n}")
    if not marked and not planted_n:
        print("supported sentences that hold: n/a (no attribution)")
        print("planted false sentences flagged: n/a (no attribution)")
    else:
        print(f"supported sentences that hold:  {sum(r['held'] for r in rows)}/{marked}")
        print(f"planted false sentences flagged: {sum(r['flagged'] for r in rows)}/{planted_n}")
    print(f"looping answers shown:          {sum(r['loop'] for r in rows)}/{n}")
    print(f"answers cut by the loop guard:  {sum(r['cut'] for r in rows)}/{n}")
    print(f"mean answer length:             {statistics.mean(r['words'] for r in rows):.1f} words")
    print(f"mean answer time:               {total_time / n:.2f} s")
    share = sum(r["attribution"] for r in rows) / total_time if total_time else 0.0
    print(f"attribution share of the time:  {share:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
