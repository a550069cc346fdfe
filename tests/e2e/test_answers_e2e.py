"""Local answers on the real parts: real notes, MiniLM, LanceDB, SmolLM2 GGUF in its child.

One knowledge base and one model host serve the module, so MiniLM and SmolLM2 load once.
Answers use temperature 0 and few tokens to stay quick and repeatable.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop_rag.core import settings as settings_mod
from desktop_rag.core.cli import main as cli_main
from desktop_rag.core.errors import ModelError
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.llm.local.host import ModelHost
from desktop_rag.core.paths import app_paths, default_chat_model
from desktop_rag.core.rag.answerer import NOT_COVERED, Answerer
from desktop_rag.core.settings import Settings

pytestmark = pytest.mark.slow

NOTES = {
    "kepler/zorblax.md": "# Kepler station\n\nThe Zorblax reactor on Kepler station runs on "
    "purple quartz. The quartz is mined on the moon Tessa and shipped every ninety days.\n",
    "garden.md": "# Garden diary\n\nTomatoes need full sun and regular watering. Basil planted "
    "next to them kept the aphids away this spring.\n",
}
# CPU on purpose: the stop-during-prompt-processing timing needs a prompt evaluation that
# lasts; GPU planning is covered by the unit tests and `doctor`.
SETTINGS = Settings(context_size=4096, temperature=0.0, max_tokens=48, top_k=4, n_gpu_layers=0)
LONG_PROMPT = "The quick brown fox jumps over the lazy dog near the river bank. " * 250


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("answers")
    docs, data = root / "docs", root / "data"
    for rel, text in NOTES.items():
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_text(text, encoding="utf-8")
    settings_mod.save(app_paths(data).settings_file, SETTINGS)
    kb = KnowledgeBase(app_paths(data), SETTINGS)
    report = kb.index([docs])
    assert report.indexed == 2
    yield docs, data
    kb.close()


@pytest.fixture(scope="module")
def kb(corpus):
    base = KnowledgeBase(app_paths(corpus[1]), SETTINGS)
    yield base
    base.close()


@pytest.fixture(scope="module")
def host():
    h = ModelHost(SETTINGS)
    yield h
    h.close()


@pytest.fixture(scope="module")
def answerer(kb, host):
    return Answerer(kb.search, host, SETTINGS, embed=kb.embed_texts)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_the_gguf_chat_template_is_used(host):
    progress: list[float] = []
    info = host.load(on_progress=progress.append)  # the module's first load
    # llama.cpp's own loading progress, through the child's pipe, in whole percents.
    assert len(progress) > 2 and progress == sorted(progress) and progress[-1] == 1.0
    assert info.path == str(default_chat_model())
    assert info.chat_template_source == "gguf"
    # llama-cpp-python built its handler from tokenizer.chat_template (chat_format=None)
    assert info.chat_format == "chat_template.default"
    assert (info.n_layers, info.quantization, info.n_ctx) == (30, "Q4_1", 4096)
    assert info.plan.total_layers == 31
    import llama_cpp

    if not llama_cpp.llama_supports_gpu_offload():  # this CPU build: says why, in words
        assert info.gpu_layers == 0 and "CPU" in info.plan.reason


def test_answer_streams_and_cites_the_note_with_the_fact(answerer, corpus):
    pieces: list[str] = []
    answer = answerer.ask("What does the Zorblax reactor run on?", on_token=pieces.append)
    assert len(pieces) >= 3 and answer.timings.tokens == len(pieces)
    assert "quartz" in answer.text.lower()
    assert answer.covered and not answer.stopped
    zorblax = str(corpus[0] / "kepler" / "zorblax.md")
    assert zorblax in [s.path for s in answer.sources]
    assert all(s.text for s in answer.sources)
    assert answer.timings.first_token_s is not None and answer.timings.tokens_per_s
    # Cited by attribution, whether or not SmolLM2 wrote a marker: the sentence with the
    # fact is supported by the note, at the span that says it.
    assert zorblax in [s.path for s in answer.sources if s.cited]
    quartz = next(s for s in answer.sentences if "quartz" in s.text.lower())
    assert quartz.supported
    source = next(s for s in answer.provided if s.number == quartz.sources[0])
    assert source.path == zorblax and "quartz" in source.text[slice(*quartz.span)]
    assert f"[{source.number}]" in answer.text[quartz.start : quartz.end]


def test_the_sample_question_that_looped_gets_an_answer_without_repetition(tmp_path):
    """The first-run question on the bundled sample: it once repeated one line to the limit."""
    from desktop_rag.core.paths import resources_dir
    from desktop_rag.core.rag.loop_guard import find_loop

    settings = SETTINGS.with_changes(max_tokens=160)
    kb = KnowledgeBase(app_paths(tmp_path / "data"), settings)
    host = ModelHost(settings)
    try:
        kb.index([resources_dir() / "sample"])
        answer = Answerer(kb.search, host, settings, embed=kb.embed_texts).ask(
            "How does Desktop RAG handle deleted files, and does anything leave my computer?"
        )
    finally:
        host.close()
        kb.close()
    assert answer.text and find_loop(answer.text) is None
    assert answer.timings.tokens < settings.max_tokens  # it ended, not ran out
    # Given the note that answers it; each sentence either traced to it or flagged.
    assert "welcome.md" in [Path(s.path).name for s in answer.provided]
    assert answer.sentences
    for sentence in answer.sentences:
        assert sentence.supported == bool(sentence.sources)
        if sentence.supported:
            assert {Path(answer.provided[n - 1].path).name for n in sentence.sources} == {
                "welcome.md"
            }


def test_a_question_the_documents_do_not_cover(answerer):
    pieces: list[str] = []
    answer = answerer.ask("What is the capital of France?", on_token=pieces.append)
    assert not answer.covered and answer.sources == ()
    assert "".join(pieces) == answer.text == NOT_COVERED and len(pieces) > 3


def test_stop_interrupts_a_long_answer_within_half_a_second(host):
    host.load()
    pid = host.child_pid
    marks: dict[str, float] = {}

    def on_token(_text: str) -> None:
        if "first" not in marks:
            marks["first"] = time.perf_counter()
            threading.Timer(
                0.2, lambda: (marks.setdefault("stop", time.perf_counter()), host.stop())
            ).start()

    timings = host.generate(
        user("Write a very long story about a dragon and a knight."),
        on_token=on_token,
        max_tokens=1000,
    )
    took = time.perf_counter() - marks["stop"]
    assert timings.stopped and 1 <= timings.tokens < 1000
    assert took < 0.5, f"stop took {took:.3f} s"
    assert host.child_pid == pid  # it answered between tokens: no restart needed


def test_stop_during_prompt_processing_within_half_a_second(host, answerer):
    assert host.count_tokens(LONG_PROMPT) > 2500
    marks: dict[str, float] = {}

    def stop() -> None:
        marks["stop"] = time.perf_counter()
        host.stop()

    threading.Timer(0.1, stop).start()  # 3000 tokens take far longer than that on a CPU
    timings = host.generate(user(LONG_PROMPT + "\nSummarize."), on_token=lambda t: None)
    took = time.perf_counter() - marks["stop"]
    assert timings.stopped and timings.tokens == 0  # still evaluating the prompt
    assert took < 0.5, f"stop took {took:.3f} s"
    answer = answerer.ask("What does the Zorblax reactor run on?")  # reloads the model
    assert "quartz" in answer.text.lower()


def test_child_abort_is_a_model_error_and_the_next_question_works(host, answerer):
    host.arm_crash_for_test()
    with pytest.raises(ModelError, match="SIGABRT"):
        answerer.ask("What does the Zorblax reactor run on?")
    answer = answerer.ask("What does the Zorblax reactor run on?")
    assert "quartz" in answer.text.lower()


def test_corrupt_missing_and_foreign_model_files_are_clear_errors(tmp_path):
    truncated = tmp_path / "truncated.gguf"
    with open(default_chat_model(), "rb") as src:
        truncated.write_bytes(src.read(3_000_000))
    foreign = tmp_path / "model.bin"
    foreign.write_bytes(b"PK\x03\x04 not a gguf")
    h = ModelHost(SETTINGS)
    try:
        with pytest.raises(ModelError) as err:
            h.load(str(truncated))
        text = str(err.value)
        assert text.startswith(f"{truncated}: could not be loaded: the file is damaged")
        assert "not within the file bounds" in text and "download it again" in text
        with pytest.raises(ModelError, match="model file not found"):
            h.load(str(tmp_path / "missing.gguf"))
        with pytest.raises(ModelError, match="not a GGUF model file"):
            h.load(str(foreign))
    finally:
        h.close()


def test_a_gguf_without_chat_template_falls_back_to_chatml_with_a_warning(tmp_path, caplog):
    data = default_chat_model().read_bytes()
    key = b"tokenizer.chat_template"
    assert data.count(key) == 1
    no_template = tmp_path / "no-template.gguf"
    no_template.write_bytes(data.replace(key, b"tokenizer.chat_templatX"))  # same length
    h = ModelHost(SETTINGS)
    try:
        with caplog.at_level(logging.WARNING, logger="desktop_rag.core.llm.local.host"):
            info = h.load(str(no_template))
        assert info.chat_template_source == "fallback" and info.chat_format == "chatml"
        assert "no chat template" in caplog.text and "ChatML" in caplog.text
        pieces: list[str] = []
        h.generate(user("What is 2 + 2?"), on_token=pieces.append, max_tokens=8)
        assert pieces
    finally:
        h.close()


def test_cli_ask_json(corpus, capsys):
    rc = cli_main(
        ["--data-dir", str(corpus[1]), "ask", "What does the Zorblax reactor run on?", "--json"]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert "quartz" in out["answer"].lower()
    assert str(corpus[0] / "kepler" / "zorblax.md") in [s["path"] for s in out["sources"]]
    assert {"number", "path", "page", "text"} <= set(out["sources"][0])
    assert out["gpu_layers"] == 0 and out["model"]
    assert out["timings"]["first_token_s"] > 0 and "tokens_per_s" in out["timings"]
    assert out["loop_cut"] is False
    assert out["sentences"], "every answer sentence is listed with its verdict"
    for sentence in out["sentences"]:
        assert {"text", "start", "end", "supported", "sources", "span", "model_cited"} <= set(
            sentence
        )
        assert sentence["supported"] in (True, False, None)
        assert out["answer"][sentence["start"] : sentence["end"]].strip()
    quartz = next(s for s in out["sentences"] if "quartz" in s["text"].lower())
    assert quartz["supported"] is True and len(quartz["span"]) == 2


def test_a_question_limited_to_a_folder_answers_from_it_alone(corpus, answerer):
    docs = corpus[0]
    question = "What does the Zorblax reactor run on?"
    answer = answerer.ask(question, folders=[str(docs / "kepler")])
    assert answer.covered and "quartz" in answer.text.lower()
    assert {s.path for s in answer.provided} == {str(docs / "kepler" / "zorblax.md")}
    # A folder with nothing indexed under it: said so, and nothing generated.
    elsewhere = answerer.ask(question, folders=[str(docs / "nothing-here")])
    assert not elsewhere.covered and elsewhere.provided == ()


def _model_children(pid: int) -> list[int]:
    """Children of `pid` that run multiprocessing's spawn entry (not its resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
                found.append(int(entry))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_the_cli_cleanly(corpus):
    settings_mod.save(app_paths(corpus[1]).settings_file, SETTINGS.with_changes(max_tokens=2000))
    question = "Tell me a very long and detailed story about the Zorblax reactor on Kepler station."
    # Ctrl-C as in a terminal: a runner started in the background (nohup, `make test &`)
    # hands its children SIGINT ignored, and Python then never raises KeyboardInterrupt.
    bootstrap = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.argv[0] = 'desktop-rag'; runpy.run_module('desktop_rag.core.cli', run_name='__main__')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", bootstrap, "--data-dir", str(corpus[1]), "ask", question],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, like a shell job: Ctrl-C hits all
    )
    try:
        first = proc.stdout.read(1)  # the first streamed character of the answer
        assert first, proc.stderr.read().decode()
        children = _model_children(proc.pid)
        assert children, "the model child process should be running"
        sent = time.perf_counter()
        os.killpg(proc.pid, signal.SIGINT)
        rc = proc.wait(timeout=30)
        took = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
        settings_mod.save(app_paths(corpus[1]).settings_file, SETTINGS)
    err = proc.stderr.read().decode()
    out = proc.stdout.read().decode(errors="replace")
    assert rc == 130 and "Traceback" not in err and "interrupted" in err, (rc, err, out[-500:])
    assert took < 5
    for pid in children:
        assert not _running(pid), f"model process {pid} outlived the CLI"


def test_cli_ask_with_a_missing_model_is_a_clear_error(corpus, capsys, tmp_path):
    missing = tmp_path / "gone.gguf"
    question = "What does the Zorblax reactor run on?"
    rc = cli_main(["--data-dir", str(corpus[1]), "ask", question, "--model", str(missing)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"error: {missing}: model file not found (choose a GGUF model file in Settings)" in err
    assert "Traceback" not in err
