"""Fakes for the engine, shaped like the real KnowledgeBase and chat engine (services.engine).

They register through the same seam as the real parts: `build_services(index_factory=...,
chat_factory=...)`.
"""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_rag.core.llm.gpu.fit import FitPlan
from desktop_rag.core.llm.model_info import ModelInfo, Timings
from desktop_rag.core.rag.answers import Answer, Source
from desktop_rag.core.records import FileRecord, Hit, IndexReport, Progress, SkippedFile
from desktop_rag.core.settings import Settings

if TYPE_CHECKING:
    from desktop_rag.core.knowledge_base import IndexStatus

READABLE = {".txt", ".md"}


class _NoStore:
    """What the sync engine's start-up consistency check sees: an index with no tables."""

    ready = False


class FakeKnowledgeBase:
    """Indexes .txt/.md files as one chunk each; files holding 'CORRUPT' fail to read, and so
    do files named in `locked` (as if another program held them open)."""

    store = _NoStore()

    def __init__(self, delay_s: float = 0.0):
        self.delay_s = delay_s
        self.records: dict[str, FileRecord] = {}
        self.texts: dict[str, str] = {}
        self.threads: set[int] = set()
        self.closed = False
        self.locked: set[str] = set()
        self.vector_index_requests = 0

    def schedule_vector_index(self) -> None:
        self.vector_index_requests += 1

    def _touch(self) -> None:
        self.threads.add(threading.get_ident())

    def index(self, targets, *, progress=None, cancel=None, retry_failed=False) -> IndexReport:
        self._touch()
        files: list[Path] = []
        for target in targets:
            target = Path(target)
            files.extend(
                sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
            )
        files = [f for f in files if f.suffix in READABLE]
        skipped, indexed = [], 0
        for done, path in enumerate(files):
            if cancel is not None and cancel.is_set():
                return IndexReport(indexed=indexed, cancelled=True, skipped=tuple(skipped))
            if progress:
                progress(
                    Progress(
                        done,
                        len(files),
                        str(path),
                        "extracting",
                        10.0,
                        (len(files) - done) * max(self.delay_s, 0.01),
                    )
                )
            time.sleep(self.delay_s)
            text = path.read_text(encoding="utf-8")
            key = str(path.resolve())
            st = path.stat()
            if "CORRUPT" in text or path.name in self.locked:
                reason = (
                    "locked by another program"
                    if path.name in self.locked
                    else "the file is damaged and cannot be read"
                )
                self.records[key] = FileRecord(key, st.st_size, st.st_mtime_ns, "", "error", reason)
                skipped.append(SkippedFile(key, reason))
                continue
            self.records[key] = FileRecord(
                key, st.st_size, st.st_mtime_ns, "h", "indexed", None, 1, "text"
            )
            self.texts[key] = text
            indexed += 1
        if progress:
            progress(Progress(len(files), len(files), "", "done"))
        return IndexReport(indexed=indexed, chunks_added=indexed, skipped=tuple(skipped))

    def remove(self, targets) -> int:
        self._touch()
        removed = 0
        for target in targets:
            root = str(Path(target).resolve())
            for key in [k for k in self.records if k == root or k.startswith(root + "/")]:
                self.records.pop(key)
                removed += self.texts.pop(key, None) is not None
        return removed

    def move(self, old, new) -> int:
        self._touch()
        old, new = str(Path(old).resolve()), str(Path(new).resolve())
        if old in self.records:
            self.records[new] = self.records.pop(old)
            self.texts[new] = self.texts.pop(old)
            return 1
        return 0

    def search(self, query: str, k: int = 10, folders=()) -> list[Hit]:
        words = {w.strip("?.,").lower() for w in query.split() if len(w) > 3}
        scored = []
        for path, text in self.texts.items():
            if folders and not any(path.startswith(f.rstrip("/") + "/") for f in folders):
                continue
            score = sum(w in text.lower() for w in words)
            if score:
                scored.append(Hit(f"{path}#0", path, text, 0, len(text), float(score)))
        return sorted(scored, key=lambda h: -h.score)[:k]

    def status(self) -> IndexStatus:
        # The real record; its module (LanceDB) is imported on the index thread by then.
        from desktop_rag.core.knowledge_base import IndexStatus

        self._touch()
        errors = tuple(
            SkippedFile(r.path, r.error or "") for r in self.records.values() if r.status == "error"
        )
        return IndexStatus(len(self.texts), len(self.texts), errors, "fake-embedder", 4096)

    def file_records(self, under=None) -> list[FileRecord]:
        root = None if under is None else str(Path(under).resolve())
        return [
            r
            for k, r in self.records.items()
            if root is None or k == root or k.startswith(root + "/")
        ]

    def close(self) -> None:
        self.closed = True


def fake_model_info() -> ModelInfo:
    plan = FitPlan(0, 31, 0, "no NVIDIA GPU found", mode="cpu")
    return ModelInfo("/models/fake.gguf", "FakeLM", 1000, "Q4_1", 30, 0, plan, "gguf", 2048)


class FakeChatEngine:
    """Answers from the fake index: 'Found in NAME [1].' then filler words, a token at a time."""

    def __init__(
        self,
        kb: FakeKnowledgeBase,
        *,
        token_delay_s: float = 0.002,
        filler_words: int = 20,
        fail_load: str | None = None,
    ):
        self.kb = kb
        self.token_delay_s = token_delay_s
        self.filler_words = filler_words
        self.fail_load = fail_load
        self.stop_event = threading.Event()
        self.loaded = False
        self.closed = False
        self.questions: list[tuple[str, tuple]] = []
        self.threads: set[int] = set()
        self.gc_enabled_during_load: list[bool] = []
        self.load_steps: tuple[float, ...] = (0.0, 1.0)
        self.reconfigured: list[object] = []
        self.folders_asked: list[tuple[str, ...]] = []
        self.load_step_s = 0.0
        # Set to stream these tokens instead, attributed like the real answerer does.
        self.reply: list[str] | None = None
        self.loop_cut = False  # the answer reports a loop cut, as the real answerer does
        self.partials = 0

    def load(self, cancel=None, on_progress=None) -> ModelInfo:
        self.threads.add(threading.get_ident())
        for fraction in self.load_steps:
            if cancel is not None and cancel.is_set():
                from desktop_rag.core.llm.hosts import Cancelled

                raise Cancelled()
            if on_progress is not None:
                on_progress(fraction)
            time.sleep(self.load_step_s)
        self.gc_enabled_during_load.append(gc.isenabled())
        if self.fail_load:
            from desktop_rag.core.errors import ModelError

            raise ModelError(self.fail_load, path="/models/broken.gguf")
        self.loaded = True
        return fake_model_info()

    def reconfigure(self, settings) -> None:
        self.reconfigured.append(settings)

    def ask(self, question, history, on_token, cancel, folders=(), on_attribution=None) -> Answer:
        self.threads.add(threading.get_ident())
        self.stop_event.clear()
        self.questions.append((question, tuple(history)))
        self.folders_asked.append(tuple(folders))
        hits = self.kb.search(question, 3, folders)
        sources = tuple(
            Source(i + 1, h.path, None, h.text, h.start, h.end, h.score, i == 0)
            for i, h in enumerate(hits)
        )
        if sources:
            tokens = [f"Found in {Path(hits[0].path).name} ", "[1]", "."]
        else:
            tokens = ["I", " could", " not", " find", " it", "."]
        if self.reply is None:
            tokens += [f" word{i}" for i in range(self.filler_words)]
        else:
            tokens = list(self.reply)
        sent: list[str] = []
        stopped = False
        for token in tokens:
            if cancel.is_set() or self.stop_event.is_set():
                stopped = True
                break
            time.sleep(self.token_delay_s)
            on_token(token)
            sent.append(token)
            if self.reply is not None and on_attribution is not None and token.endswith("."):
                from desktop_rag.core.rag.answers import PartialAttribution
                from desktop_rag.core.rag.attribution import attribute

                done = "".join(sent)
                partial = attribute(done, sources, question=question)
                on_attribution(PartialAttribution(partial.text, partial.sentences, len(done)))
                self.partials += 1
        text = "".join(sent)
        timings = Timings(0.01, len(sent), 100.0, 0.1, stopped)
        if self.reply is not None:
            from dataclasses import replace

            from desktop_rag.core.rag.attribution import attribute

            result = attribute(text, sources, question=question)
            cited = set(result.cited)
            provided = tuple(replace(s, cited=s.number in cited) for s in sources)
            shown = tuple(s for s in provided if s.cited) or provided
            return Answer(
                result.text,
                shown,
                "FakeLM",
                0,
                31,
                timings,
                True,
                provided,
                stopped,
                sentences=result.sentences,
                loop_cut=self.loop_cut,
            )
        return Answer(
            text,
            sources[:1] if sources else (),
            "FakeLM",
            0,
            31,
            timings,
            bool(sources),
            sources,
            stopped,
        )

    def stop(self) -> None:
        self.stop_event.set()

    def close(self) -> None:
        self.closed = True


def build_fake_services(
    data_dir: Path,
    kb: FakeKnowledgeBase,
    engine: FakeChatEngine | None,
    settings: Settings | None = None,
    timing=None,
):
    """The app's services on the fakes, through the same factories the real engine uses;
    the sync loop debounces for 0.2 s and checks folders every 0.3 s unless `timing` says."""
    from desktop_rag.core.paths import app_paths
    from desktop_rag.core.sync.loop import WatchTiming
    from desktop_rag.services.app_services import build_services

    FAST_TIMING = WatchTiming(quiet_s=0.2, max_delay_s=2.0, availability_s=0.3, poll_s=0.5)
    return build_services(
        app_paths(data_dir),
        settings or Settings(),
        index_factory_for=lambda _settings: lambda: kb,
        chat_factory_for=lambda _settings: lambda: engine,
        timing=FAST_TIMING if timing is None else timing,
    )
