"""Answers from a real OpenAI-compatible server on 127.0.0.1: llama-cpp-python's own server
(`python -m llama_cpp.server`) serving the embedded SmolLM2 with an API key, started and
stopped here on a free port. The index stays on this computer: real notes, MiniLM, LanceDB.

Covered: a streamed, cited answer (core, CLI and the window), Stop mid-answer (the server
stops too), a wrong key, nothing listening, a server killed mid-answer, and the prompt
budget taken from the server's context window.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_rag.core import settings as settings_mod
from desktop_rag.core.cli import main as cli_main
from desktop_rag.core.knowledge_base import KnowledgeBase
from desktop_rag.core.llm.server.errors import ServerError
from desktop_rag.core.llm.server.host import RemoteHost
from desktop_rag.core.llm.server.secrets import KeyStore
from desktop_rag.core.paths import app_paths, default_chat_model
from desktop_rag.core.rag.answerer import Answerer
from desktop_rag.core.settings import Settings
from desktop_rag.services.app_services import build_services
from desktop_rag.ui.main_window import MainWindow
from tests.server_fakes import LlamaCppServer, free_port

pytestmark = pytest.mark.slow

KEY = "sk-e2e-4242"
REACTOR = (
    "# Kepler station\n\nThe Zorblax reactor on Kepler station runs on purple quartz. The "
    "quartz is mined on the moon Tessa and shipped every ninety days.\n"
)
# Long notes about the same subject: eight passages of about 200 tokens, more than a
# 1,024-token window holds.
LOG_LINE = (
    "Shift log {n}: the reactor crew checked the quartz feed, the coolant loop, the pressure "
    "valves and the backup generators of Kepler station, and wrote down every reading. "
)
SETTINGS = Settings(temperature=0.0, max_tokens=48, top_k=4, n_gpu_layers=0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("server")
    docs, data = root / "docs", root / "data"
    docs.mkdir()
    (docs / "zorblax.md").write_text(REACTOR, encoding="utf-8")
    (docs / "garden.md").write_text("# Garden\n\nTomatoes need full sun.\n", encoding="utf-8")
    for n in range(8):
        text = f"# Reactor shift {n}\n\n" + "".join(LOG_LINE.format(n=n) for _ in range(6))
        (docs / f"shift-{n}.md").write_text(text, encoding="utf-8")
    kb = KnowledgeBase(app_paths(data), SETTINGS)
    assert kb.index([docs]).indexed == 10
    kb.close()
    return docs, data


@pytest.fixture(scope="module")
def kb(corpus):
    base = KnowledgeBase(app_paths(corpus[1]), SETTINGS)
    yield base
    base.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("server-log") / "server.log"
    srv = LlamaCppServer(default_chat_model(), log, api_key=KEY).wait_ready()
    yield srv
    srv.close()


def on_server(url: str, **changes) -> Settings:
    return SETTINGS.with_changes(model_location="server", server_url=url, **changes)


def test_streamed_cited_answer_from_the_server(kb, server, loopback_only):
    host = RemoteHost(on_server(server.url), api_key=KEY)
    pieces: list[str] = []
    try:
        answer = Answerer(kb.search, host, on_server(server.url), embed=kb.embed_texts).ask(
            "What does the Zorblax reactor run on?", on_token=pieces.append
        )
        info = host.info
    finally:
        host.close()
    assert info.server == f"{server.url}/v1" and info.name.startswith("SmolLM2")
    assert answer.covered and answer.text and len(pieces) > 1
    # Loop guard and attribution ran on the streamed text as for a local model.
    assert answer.sentences
    zorblax = [s for s in answer.provided if s.path.endswith("zorblax.md")]
    assert zorblax, [s.path for s in answer.provided]
    assert all(s.path.endswith(".md") for s in answer.sources)


def test_stop_mid_answer_stops_the_server_too(server, loopback_only):
    host = RemoteHost(on_server(server.url, max_tokens=400), api_key=KEY)
    pieces: list[str] = []

    def on_token(text: str) -> None:
        pieces.append(text)
        if len(pieces) == 3:
            threading.Timer(0.0, host.stop).start()

    try:
        start = time.perf_counter()
        timings = host.generate(
            [{"role": "user", "content": "Write a very long story about a lighthouse."}],
            on_token=on_token,
            max_tokens=400,
        )
        elapsed = time.perf_counter() - start
    finally:
        host.close()
    assert timings.stopped and len(pieces) < 40
    assert elapsed < 5
    deadline = time.monotonic() + 5
    while "Disconnected from client" not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Disconnected from client" in server.log_text()


def test_wrong_key_and_nothing_listening_are_told(server, loopback_only):
    host = RemoteHost(on_server(server.url), api_key="not-the-key")
    with pytest.raises(ServerError, match="refused the API key") as raised:
        host.load()
    assert raised.value.cause == "auth"
    host = RemoteHost(on_server(f"http://127.0.0.1:{free_port()}"), api_key=KEY)
    with pytest.raises(ServerError, match="Nothing is listening"):
        host.load()


def test_server_killed_mid_answer_keeps_what_came(kb, tmp_path, loopback_only):
    doomed = LlamaCppServer(default_chat_model(), tmp_path / "doomed.log").wait_ready()
    settings = on_server(doomed.url, max_tokens=300)
    host = RemoteHost(settings)
    pieces: list[str] = []

    def search(_q, _k, _f):
        return kb.search("Zorblax reactor purple quartz", 2)

    def on_token(text: str) -> None:
        pieces.append(text)
        if len(pieces) == 4:
            doomed.kill()

    try:
        answer = Answerer(search, host, settings, margin=None).ask(
            "Tell me everything about the reactor, in detail.", on_token=on_token
        )
    finally:
        host.close()
        doomed.close()
    assert len(pieces) >= 4 and answer.text
    assert answer.interrupted and "came is kept" in answer.interrupted
    assert not answer.stopped


def test_budget_taken_from_the_servers_context_window(kb, tmp_path, loopback_only):
    """A 1,024-token server that does not say its window: the first prompt (budgeted for
    2,048) is refused, the window is learned from the refusal, and fewer passages go."""
    small = LlamaCppServer(default_chat_model(), tmp_path / "small.log", n_ctx=1024).wait_ready()
    settings = on_server(small.url, top_k=8)
    host = RemoteHost(settings)
    try:
        answer = Answerer(kb.search, host, settings, margin=None).ask(
            "What did the reactor crew check on each shift log?"
        )
        learned = host.info.n_ctx
    finally:
        host.close()
        small.close()
    assert learned == 1024
    assert answer.covered and answer.text
    assert 1 <= len(answer.provided) < 8


def test_cli_ask_with_server_and_key_from_environment(corpus, server, monkeypatch, capsys):
    monkeypatch.setenv("E2E_LLAMA_KEY", KEY)
    code = cli_main(
        [
            "--data-dir",
            str(corpus[1]),
            "ask",
            "What does the Zorblax reactor run on?",
            "--server",
            server.url,
            "--api-key-env",
            "E2E_LLAMA_KEY",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["server"] == f"{server.url}/v1" and out["answer"] and out["covered"]
    question = "What does the Zorblax reactor run on?"
    code = cli_main(["--data-dir", str(corpus[1]), "ask", question, "--server", server.url])
    assert code == 2
    assert "refused the API key" in capsys.readouterr().err


def test_window_answers_from_the_server_and_says_where_questions_go(
    qtbot, corpus, server, tmp_path, loopback_only
):
    data = tmp_path / "data"
    paths = app_paths(data)
    settings = on_server(server.url, max_tokens=32)
    settings_mod.save(paths.settings_file, settings)
    KeyStore(paths.secrets_file).set(server.url, KEY)  # no keyring in tests: the private file
    services = build_services(paths, settings)
    window = MainWindow(services, settings)
    qtbot.addWidget(window)
    window.show()
    services.start()
    try:
        window.add_folder(str(corpus[0]))
        qtbot.waitUntil(lambda: "10 files" in window.status.index_label.text(), timeout=300_000)
        qtbot.waitUntil(lambda: "(server)" in window.status.model_label.text(), timeout=60_000)
        privacy = window.status.privacy_label
        assert privacy.isVisible()
        assert f"questions and passages go to 127.0.0.1:{server.port}" in privacy.text()
        assert "Embedding and the index stay on this computer" in privacy.toolTip()
        window.chat_panel.input.setPlainText("What does the Zorblax reactor run on?")
        with qtbot.waitSignal(
            window.services.conversations.message_finished, timeout=120_000
        ) as done:
            qtbot.keyClick(window.chat_panel.input, Qt.Key.Key_Return)
        message = done.args[0]
        assert message.text and message.meta["model"].startswith("SmolLM2")
        assert any(s.path.endswith(".md") for s in message.sources)
    finally:
        window._quitting = True
        window.close()
