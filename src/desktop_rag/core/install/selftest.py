"""The self-test: proves that this installation, frozen or not, works end to end and offline.

It indexes a copy of the bundled sample folder plus a one-page PDF it writes itself (so PDF
extraction's child process runs too) into a throwaway data folder, searches it, and answers a
question with the chat model in its own child process, checking that the right file, page and
citation come back. Each step prints one line; the last line is `SELFTEST OK` or
`SELFTEST FAILED: <reason>`, and the return code says the same.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import desktop_rag
from desktop_rag.core.install import network_guard
from desktop_rag.core.install.tiny_pdf import tiny_pdf
from desktop_rag.core.paths import (
    bundle_dir,
    default_chat_model,
    default_embedder_dir,
    resources_dir,
)
from desktop_rag.core.settings import Settings

if TYPE_CHECKING:
    from desktop_rag.core.knowledge_base import KnowledgeBase

PROBE_FILE = "selftest-probe.pdf"
PROBE_LINES = (
    "Skerry Holm Lighthouse Log",
    "The keeper of the Skerry Holm lighthouse is Ingrid Vasquez-Oduya.",
    "She lights forty-one brass lanterns every evening at dusk.",
)
PROBE_QUERY = "Skerry Holm lighthouse keeper"
QUESTION = "Who is the keeper of the Skerry Holm lighthouse?"
# Short and greedy: the self-test checks the pipeline, not the prose.
ANSWER_SETTINGS = Settings(max_tokens=64, temperature=0.0, context_size=2048)

Out = Callable[[str], None]


class SelfTestFailed(Exception):
    """A check failed; the message says which and what it found."""


class SelfTest:
    def __init__(self, work_dir: Path, out: Out = print):
        self.work_dir = work_dir
        self.out = out
        self.sample_dir = work_dir / "sample"
        self.data_dir = work_dir / "data"
        self.expected_files = 0
        self.kb: KnowledgeBase | None = None  # opened by the index step

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("environment", self.environment),
            ("models", self.models),
            ("native libraries", self.native_libraries),
            ("sample folder", self.sample),
            ("index", self.index),
            ("search", self.search),
            ("answer", self.answer),
        ]

    def environment(self) -> str:
        if os.environ.get("HF_HUB_OFFLINE") != "1":
            raise SelfTestFailed("HF_HUB_OFFLINE is not 1: the app could try to reach a model hub")
        where = f"frozen, bundle {bundle_dir()}" if bundle_dir() else "from source"
        return (
            f"desktop-rag {desktop_rag.__version__}, Python {platform.python_version()} "
            f"on {platform.system()} {platform.machine()}, {where}"
        )

    def models(self) -> str:
        embedder = default_embedder_dir()
        chat = default_chat_model()
        if not (embedder / "config.json").is_file():
            raise SelfTestFailed(f"the embedding model is missing: no config.json in {embedder}")
        if not chat.is_file() or chat.read_bytes()[:4] != b"GGUF":
            raise SelfTestFailed(f"the chat model {chat} is missing or not a GGUF file")
        bundled = bundle_dir()
        inside = bundled is None or all(p.is_relative_to(bundled) for p in (embedder, chat))
        if not inside:
            raise SelfTestFailed(f"models were found outside the bundle: {embedder}, {chat}")
        return f"embedder {embedder}, chat model {chat.name} ({chat.stat().st_size >> 20} MB)"

    def native_libraries(self) -> str:
        import lancedb
        import pyarrow
        import torch

        from desktop_rag.core.llm.local.cpu_features import build_features, describe
        from desktop_rag.core.llm.local.host import ModelHost

        # llama.cpp loads in the model's own process (as in the app): a library that was not
        # bundled, or one built for another CPU, fails there with its reason, not here.
        host = ModelHost(ANSWER_SETTINGS, log_dir=self.data_dir / "logs")
        try:
            runtime = host.start()
        finally:
            host.close()
        gpu = "GPU offload" if runtime.get("gpu_offload") else "CPU only"
        features = describe(build_features(runtime.get("system_info", ""))) or "no SIMD"
        return (
            f"llama-cpp-python {runtime.get('version')} ({gpu}; built for {features}), "
            f"lancedb {lancedb.__version__}, pyarrow {pyarrow.__version__}, "
            f"torch {torch.__version__}"
        )

    def sample(self) -> str:
        from desktop_rag.core.ingest.extract import is_supported

        bundled_sample = resources_dir() / "sample"
        if not bundled_sample.is_dir():
            raise SelfTestFailed(f"the sample folder {bundled_sample} is missing")
        shutil.copytree(bundled_sample, self.sample_dir)
        (self.sample_dir / PROBE_FILE).write_bytes(tiny_pdf(PROBE_LINES))
        files = [p for p in self.sample_dir.rglob("*") if p.is_file() and is_supported(p)]
        if len(files) < 2:
            raise SelfTestFailed(f"the sample folder {bundled_sample} holds no readable file")
        self.expected_files = len(files)
        return f"{len(files)} files (bundled sample + {PROBE_FILE}) in {self.sample_dir}"

    def index(self) -> str:
        from desktop_rag.core.knowledge_base import KnowledgeBase

        self.kb = KnowledgeBase.open(self.data_dir)
        report = self.kb.index([self.sample_dir])
        if report.skipped:
            reasons = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in report.skipped)
            raise SelfTestFailed(f"files were skipped while indexing: {reasons}")
        if report.indexed != self.expected_files:
            raise SelfTestFailed(f"indexed {report.indexed} files, expected {self.expected_files}")
        return f"{report.indexed} files, {report.chunks_added} chunks in {report.seconds:.1f} s"

    def search(self) -> str:
        assert self.kb is not None  # the index step runs first
        hits = self.kb.search(PROBE_QUERY, 3)
        if not hits:
            raise SelfTestFailed(f"searching {PROBE_QUERY!r} found nothing")
        top = hits[0]
        if Path(top.path).name != PROBE_FILE or top.page != 1:
            raise SelfTestFailed(
                f"searching {PROBE_QUERY!r} ranked {Path(top.path).name} page {top.page} first, "
                f"expected {PROBE_FILE} page 1"
            )
        return f"top hit {PROBE_FILE} page 1 (score {top.score:.3f})"

    def answer(self) -> str:
        from desktop_rag.core.llm.local.host import ModelHost
        from desktop_rag.core.rag.answerer import Answerer

        assert self.kb is not None  # the index step runs first
        host = ModelHost(ANSWER_SETTINGS, log_dir=self.data_dir / "logs")
        tokens: list[str] = []
        try:
            answer = Answerer(self.kb.search, host, ANSWER_SETTINGS, embed=self.kb.embed_texts).ask(
                QUESTION, on_token=tokens.append
            )
        finally:
            host.close()
        if not tokens or not answer.text.strip():
            raise SelfTestFailed("the chat model produced no answer")
        cited = [Path(s.path).name for s in answer.sources]
        if PROBE_FILE not in cited:
            raise SelfTestFailed(f"the answer cites {cited}, expected {PROBE_FILE}")
        self.out(f"      answer: {' '.join(answer.text.split())[:200]}")
        return f"{len(tokens)} tokens streamed, cites {PROBE_FILE}"

    def close(self) -> None:
        if self.kb is not None:
            self.kb.close()


@contextlib.contextmanager
def _work_folder(work_dir: Path | None, keep: bool) -> Iterator[Path]:
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        if any(work_dir.iterdir()):
            raise SelfTestFailed(f"the work folder {work_dir} is not empty")
        yield work_dir
        return
    folder = Path(tempfile.mkdtemp(prefix="desktop-rag-selftest-"))
    try:
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def run(work_dir: Path | None = None, *, keep: bool = False, out: Out = print) -> int:
    """Run every step; 0 when all pass. `work_dir` (must be empty) is kept; a temp one is not."""
    started = time.monotonic()
    try:
        with _work_folder(work_dir, keep) as work, network_guard.blocked() as attempts:
            test = SelfTest(work, out)
            steps = test.steps()
            try:
                for number, (title, step) in enumerate(steps, 1):
                    t0 = time.monotonic()
                    detail = step()
                    took = time.monotonic() - t0
                    out(f"[{number}/{len(steps)}] {title}: {detail} ({took:.1f} s)")
            finally:
                test.close()
            if attempts:
                raise SelfTestFailed(f"network connections were attempted: {attempts}")
    except SelfTestFailed as exc:
        out(f"SELFTEST FAILED: {exc}")
        return 1
    except Exception as exc:  # anything else is a broken installation: say where
        out(traceback.format_exc().rstrip())
        out(f"SELFTEST FAILED: {type(exc).__name__}: {exc}")
        return 1
    out(f"SELFTEST OK ({time.monotonic() - started:.1f} s)")
    return 0
