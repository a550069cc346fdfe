"""The chat-server host against tiny HTTP servers on 127.0.0.1 that misbehave on purpose:
each failure is told by its cause, streamed text survives a broken connection, and the
prompt budget follows the server's context window."""

from __future__ import annotations

import errno
import logging
import threading
import time

import pytest

from desktop_rag.core.llm.server import client as server_client
from desktop_rag.core.llm.server.address import parse_server_url
from desktop_rag.core.llm.server.errors import ContextExceeded, ServerError, describe
from desktop_rag.core.llm.server.host import SAFE_N_CTX, RemoteHost
from desktop_rag.core.rag.answerer import Answerer
from desktop_rag.core.records import Hit
from desktop_rag.core.settings import Settings
from tests.server_fakes import MODELS, FakeServer, Handler, free_port, json_route, stream_words

KEY = "sk-test-0123456789"
WORDS = ["The ", "reactor ", "runs ", "on ", "purple ", "quartz."]


def settings(url: str, **changes) -> Settings:
    return Settings(model_location="server", server_url=url, temperature=0.0, **changes)


def llama_server_routes(n_ctx: int = 700, **extra):
    def tokenize(handler: Handler, body) -> None:
        handler.send_json(200, {"tokens": list(range(len(body["content"].split())))})

    routes = {
        "GET /health": json_route(200, {"status": "ok"}),
        "GET /v1/models": MODELS,
        "GET /props": json_route(
            200, {"default_generation_settings": {"n_ctx": n_ctx}, "build_info": "b7000-abc"}
        ),
        "POST /tokenize": tokenize,
        "GET /lora-adapters": json_route(
            200, [{"id": 0, "path": "/models/style.gguf", "scale": 0.0}]
        ),
        "POST /v1/chat/completions": stream_words(WORDS),
    }
    routes.update(extra)
    return routes


def test_probe_streams_and_sends_what_llama_server_understands(loopback_only, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeServer(llama_server_routes()) as server:
        host = RemoteHost(settings(server.url, repeat_penalty=1.1), api_key=KEY)
        info = host.load()
        assert (info.name, info.n_ctx, info.server) == ("fake-model", 700, server.url + "/v1")
        assert host.server.kind == "llama.cpp server"
        assert host.server.build == "b7000-abc"
        assert host.count_tokens_batch(["one two three", "four"]) == [3, 1]
        pieces: list[str] = []
        timings = host.generate(
            [{"role": "user", "content": "q"}],
            on_token=pieces.append,
            max_tokens=32,
            repeat_penalty=1.1,
            stop=["\nQuestion:"],
        )
        host.close()
    assert "".join(pieces) == "".join(WORDS)
    assert timings.tokens == len(WORDS) and not timings.stopped and not timings.interrupted
    method, path, headers, body = server.requests[-1]
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert headers["authorization"] == f"Bearer {KEY}"
    assert body["stream"] is True and body["max_tokens"] == 32
    assert body["repeat_penalty"] == 1.1 and body["stop"] == ["\nQuestion:"]
    assert body["model"] == "fake-model"
    assert KEY not in caplog.text and KEY not in repr(host._client)


def test_lora_chosen_in_settings_goes_with_each_request_at_its_scale(loopback_only):
    with FakeServer(llama_server_routes()) as server:
        host = RemoteHost(settings(server.url, lora_path="/elsewhere/style.gguf", lora_scale=0.5))
        host.generate([{"role": "user", "content": "q"}], on_token=lambda _t: None)
        applied = host.info
        missing = RemoteHost(settings(server.url, lora_path="/x/other.gguf")).load()
        host.close()
    (chat,) = [body for _m, path, _h, body in server.requests if path == "/v1/chat/completions"]
    assert chat["lora"] == [{"id": 0, "scale": 0.5}]
    assert (applied.lora, applied.lora_scale, applied.lora_error) == (
        "/models/style.gguf",
        0.5,
        None,
    )
    assert missing.lora is None
    assert (
        "no adapter named other.gguf" in missing.lora_error and "style.gguf" in missing.lora_error
    )


def test_without_a_tokenizer_or_context_size_a_safe_estimate(loopback_only):
    routes = {"GET /v1/models": MODELS, "POST /v1/chat/completions": stream_words(WORDS)}
    with FakeServer(routes) as server:
        host = RemoteHost(settings(server.url))
        info = host.load()
        text = "word " * 300
        counts = host.count_tokens_batch([text])
        host.close()
    assert info.n_ctx == SAFE_N_CTX
    assert host.server.kind == "OpenAI-compatible server" and host.server.tokenizer is None
    assert counts[0] >= 300  # never fewer tokens than words: the budget errs on the safe side


@pytest.mark.parametrize(
    ("routes", "cause", "words"),
    [
        (
            {"GET /v1/models": json_route(401, {"error": {"message": "Invalid API Key"}})},
            "auth",
            "API key",
        ),
        ({"GET /v1/models": json_route(403, {"detail": "no"})}, "auth", "API key"),
        ({}, "not_found", "address only"),
        (
            {"GET /health": json_route(503, {"error": {"message": "Loading model"}})},
            "loading",
            "still loading",
        ),
    ],
)
def test_connection_problems_are_told_by_cause(loopback_only, routes, cause, words):
    with FakeServer(routes) as server:
        host = RemoteHost(settings(server.url))
        with pytest.raises(ServerError) as raised:
            host.load()
        host.close()
    assert raised.value.cause == cause
    assert words in str(raised.value)


def test_nothing_listening(loopback_only):
    host = RemoteHost(settings(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ServerError, match="Nothing is listening") as raised:
        host.load()
    assert raised.value.cause == "refused"


def test_refused_on_another_computer_says_how_to_bind():
    error = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    wrapped = OSError("connect failed")
    wrapped.__cause__ = error
    told = describe(wrapped, parse_server_url("http://gpu-box:8080"), "model list")
    assert told.cause == "refused"
    assert "--host 0.0.0.0" in str(told)


def test_https_to_a_plain_http_server(loopback_only):
    with FakeServer({"GET /v1/models": MODELS}) as server:
        host = RemoteHost(settings(server.url.replace("http://", "https://")))
        with pytest.raises(ServerError, match="does not speak https") as raised:
            host.load()
    assert raised.value.cause == "tls"


def test_a_server_that_never_answers_times_out(loopback_only, monkeypatch):
    monkeypatch.setattr(server_client, "PROBE_TIMEOUT_S", 0.5)

    def hang(handler: Handler, _body) -> None:
        time.sleep(2)

    with FakeServer({"GET /v1/models": hang}) as server:
        host = RemoteHost(settings(server.url))
        with pytest.raises(ServerError, match="did not answer in time") as raised:
            host.load()
    assert raised.value.cause == "timeout"


def test_a_connection_dropped_mid_answer_keeps_what_came(loopback_only):
    routes = {
        "GET /v1/models": MODELS,
        "POST /v1/chat/completions": stream_words(WORDS[:3], finish=False),
    }
    with FakeServer(routes) as server:
        host = RemoteHost(settings(server.url))
        pieces: list[str] = []
        timings = host.generate([{"role": "user", "content": "q"}], on_token=pieces.append)
    assert "".join(pieces) == "".join(WORDS[:3])
    assert "after 3 tokens" in timings.interrupted
    assert (
        "closed by the server" in timings.interrupted or "without finishing" in timings.interrupted
    )
    assert not timings.stopped


def test_stop_closes_the_stream_and_the_server_sees_it(loopback_only):
    ended = threading.Event()

    def slow(handler: Handler, _body) -> None:
        handler.start_sse()
        try:
            for _ in range(200):
                handler.sse({"choices": [{"index": 0, "delta": {"content": "word "}}]})
                time.sleep(0.05)
        except OSError:
            ended.set()  # the client went away: llama-server stops generating here

    with FakeServer({"GET /v1/models": MODELS, "POST /v1/chat/completions": slow}) as server:
        host = RemoteHost(settings(server.url))
        host.load()
        pieces: list[str] = []

        def on_token(text: str) -> None:
            pieces.append(text)
            if len(pieces) == 3:
                threading.Timer(0.0, host.stop).start()

        start = time.perf_counter()
        timings = host.generate([{"role": "user", "content": "q"}], on_token=on_token)
        elapsed = time.perf_counter() - start
        assert timings.stopped and 3 <= len(pieces) < 10
        assert elapsed < 1.5
        assert ended.wait(3), "the server kept streaming to a closed connection"


def test_context_refusal_teaches_the_window(loopback_only):
    refusal = {
        "error": {
            "code": 400,
            "message": "the request exceeds the available context size, try increasing it",
            "type": "exceed_context_size_error",
            "n_prompt_tokens": 900,
            "n_ctx": 512,
        }
    }
    routes = {"GET /v1/models": MODELS, "POST /v1/chat/completions": json_route(400, refusal)}
    with FakeServer(routes) as server:
        host = RemoteHost(settings(server.url))
        with pytest.raises(ContextExceeded) as raised:
            host.generate([{"role": "user", "content": "q"}], on_token=lambda _t: None)
    assert raised.value.n_ctx == 512
    assert host.info.n_ctx == 512


PASSAGE = "The Zorblax reactor on Kepler station runs on purple quartz mined on Tessa. " * 12


def many_hits(_query: str, k: int, _folders) -> list[Hit]:
    texts = [f"Note {i}. {PASSAGE}" for i in range(k)]
    return [
        Hit(f"/notes/{i}.md", f"/notes/{i}.md", t, 0, len(t), 0.03, dense_score=0.8)
        for i, t in enumerate(texts)
    ]


def test_answerer_budgets_with_the_servers_window_and_relearns_it(loopback_only):
    """The budget comes from /props; a refusal naming a smaller window is answered again
    with fewer passages, once."""
    calls = {"n": 0}

    def chat(handler: Handler, body) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            handler.send_json(
                400, {"error": {"message": "This model's maximum context length is 600 tokens."}}
            )
        else:
            stream_words(["Purple ", "quartz [1]."])(handler, body)

    routes = llama_server_routes(n_ctx=1500, **{"POST /v1/chat/completions": chat})
    with FakeServer(routes) as server:
        config = settings(server.url, top_k=8, max_tokens=64)
        host = RemoteHost(config)
        answer = Answerer(many_hits, host, config, margin=None).ask("What does the reactor run on?")
        learned = host.info.n_ctx
        host.close()
    chats = [body for method, path, _h, body in server.requests if path == "/v1/chat/completions"]
    assert len(chats) == 2
    first, second = (body["messages"][-1]["content"] for body in chats)
    assert first.count(".md\n") > second.count(".md\n") >= 1
    assert answer.text.startswith("Purple quartz")
    assert learned == 600
