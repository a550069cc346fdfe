"""Chat servers for tests, on 127.0.0.1 and a free port.

`FakeServer`: a tiny HTTP server whose routes a test writes, to misbehave on purpose (a wrong
key, a model still loading, a stream that breaks off). `LlamaCppServer`: llama-cpp-python's
own OpenAI-compatible server (`python -m llama_cpp.server`) serving a real GGUF.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Route = Callable[["Handler", dict[str, Any]], None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *_args) -> None:
        pass

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else {}
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.requests.append((method, self.path, headers, body))
        route = self.server.routes.get(f"{method} {self.path}")
        if route is None:
            self.send_json(404, {"error": {"message": "not found"}})
        else:
            route(self, body)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def send_json(self, status: int, data: Any) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def sse(self, data: Any) -> None:
        payload = f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def end_sse(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self) -> None:
        """Break the connection off without ending the response."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


def chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }


def stream_words(words: Iterable[str], *, delay_s: float = 0.0, finish: bool = True) -> Route:
    def route(handler: Handler, _body: dict[str, Any]) -> None:
        handler.start_sse()
        for word in words:
            handler.sse(chunk(word))
            time.sleep(delay_s)
        if finish:
            handler.sse(chunk("", "stop"))
            handler.sse("[DONE]")
            handler.end_sse()
        else:
            handler.drop()

    return route


def json_route(status: int, data: Any) -> Route:
    def route(handler: Handler, _body: dict[str, Any]) -> None:
        handler.send_json(status, data)

    return route


MODELS = json_route(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    requests: list[tuple[str, str, dict[str, str], Any]]


class FakeServer:
    """`routes`: {"GET /v1/models": route, ...}; unknown paths answer 404."""

    def __init__(self, routes: dict[str, Route]):
        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.routes = dict(routes)
        self.httpd.requests = []
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str], Any]]:
        return self.httpd.requests

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LlamaCppServer:
    """llama-cpp-python's server on `model`, with `api_key`, in a process of its own."""

    def __init__(self, model: Path, log: Path, *, api_key: str = "", n_ctx: int = 2048):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        args = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
        args += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(n_ctx)]
        args += ["--n_gpu_layers", "0", "--n_threads", "2"]
        if api_key:
            args += ["--api_key", api_key]
        self._log_file = open(log, "w")  # noqa: SIM115 - open while the server runs
        # Its disconnect notices are print()s: unbuffered, or they wait in a buffer.
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            args, stdout=self._log_file, stderr=subprocess.STDOUT, env=env
        )

    def wait_ready(self, timeout_s: float = 120.0) -> LlamaCppServer:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("llama_cpp.server did not start in time")

    def log_text(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()
