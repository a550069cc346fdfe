"""Time to first token and tokens/s: the app's path next to llama-cpp-python called directly.

App path: `Answerer.ask` with a fixed retrieved context (a fake search returning the same
four chunks), so the numbers include prompt building, token counting through the child,
the pipe and the parent's polling. Direct: `Llama.create_chat_completion(stream=True)` in
this process with the same messages, model, context, threads, temperature 0 and seed.

The two paths alternate, and every repetition changes the first source's first line, so
both see the same prefix-cache situation (only the system prompt is reused).

    python benchmarks/answer_latency.py [--model GGUF] [--reps 5] [--max-tokens 96]
        [--compare-build DIR] [--no-server]

A third path, unless --no-server: the same `Answerer.ask` with the model behind llama-cpp-
python's OpenAI-compatible server on 127.0.0.1 (`RemoteHost`: HTTP, SSE streaming, the
server's tokenizer endpoint), same model, context and threads. It measures what a chat
server costs over the child process on one machine; a GPU box adds the network.

--compare-build DIR adds a table of llama.cpp builds: the installed one (the portable
x86-64-v3 default) against another llama-cpp-python installed in DIR, e.g. the fastest build
for this machine:

    .venv/bin/pip install --no-deps --target .bench/llama-native \
        "$(make -s llama-wheel LLAMA_NATIVE=1 | tail -n 1)"   # builds it once (minutes)

Each build runs in its own process (same model, context, threads and prompt), taking
turns; the table gives prompt and generated tokens/s and the
ratio to the other build.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from desktop_rag.core.llm.local.host import ModelHost
from desktop_rag.core.llm.local.worker import default_threads
from desktop_rag.core.paths import default_chat_model
from desktop_rag.core.rag.answerer import Answerer
from desktop_rag.core.rag.prompt import build_prompt
from desktop_rag.core.records import Hit
from desktop_rag.core.settings import Settings

QUESTION = "What does the Zorblax reactor run on, and how is its fuel delivered?"
CHUNKS = [
    "The Zorblax reactor on Kepler station runs on purple quartz. The quartz is mined on the "
    "moon Tessa by automated drills and refined in orbit before it is loaded into the core.",
    "Fuel deliveries reach Kepler station every ninety days. Each freighter carries twelve "
    "tonnes of refined quartz in shielded containers, unloaded by the station's cargo arms.",
    "The reactor's cooling loop uses heavy water pumped through three redundant circuits. "
    "If two circuits fail, the reactor scrams automatically within four seconds.",
    "Kepler station houses forty engineers. Reactor shifts last six hours, and every shift "
    "logs the core temperature, quartz consumption and loop pressure in the station ledger.",
]


def hits_for(rep: int) -> list[Hit]:
    texts = [f"(Log entry {rep}.) {CHUNKS[0]}", *CHUNKS[1:]]
    return [
        Hit(f"c{i}", f"/notes/kepler-{i}.md", t, 0, len(t), 0.03, dense_score=0.6)
        for i, t in enumerate(texts)
    ]


def run_app(answerer: Answerer, rep: int, box: dict) -> tuple[float, float | None, int]:
    box["hits"] = hits_for(rep)
    answer = answerer.ask(QUESTION)
    t = answer.timings
    return t.first_token_s, t.tokens_per_s, t.tokens


def start_server(model: str, ctx: int, threads: int):
    """llama-cpp-python's server on a free port of 127.0.0.1; (process, url) or None."""
    import importlib.util
    import socket

    if importlib.util.find_spec("uvicorn") is None:
        print("server row skipped: llama-cpp-python's server extra is not installed")
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(ctx), "--n_gpu_layers", "0",
         "--n_threads", str(threads), "--n_threads_batch", str(threads)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    process.kill()
    print("server row skipped: the server did not start")
    return None


def run_direct(llm, messages, max_tokens: int, seed: int) -> tuple[float, float | None, int]:
    start = time.perf_counter()
    first = last = None
    tokens = 0
    for chunk in llm.create_chat_completion(
        messages=messages, max_tokens=max_tokens, temperature=0.0, seed=seed, stream=True
    ):
        if chunk["choices"][0]["delta"].get("content"):
            last = time.perf_counter()
            first = first or last
            tokens += 1
    speed = (tokens - 1) / (last - first) if tokens > 1 and last > first else None
    return first - start, speed, tokens


def build_worker(model: str, ctx: int, threads: int, reps: int, max_tokens: int) -> None:
    """In a process of its own: one llama.cpp build's prompt and generation speed (JSON)."""
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=model, n_ctx=ctx, n_gpu_layers=0, n_threads=threads,
        n_threads_batch=threads, verbose=False,
    )  # fmt: skip
    prompt = "\n\n".join(CHUNKS * 3) + f"\n\nQuestion: {QUESTION}\nAnswer:"
    tokens = llm.tokenize(prompt.encode())
    rows = []
    for rep in range(reps + 1):  # rep 0 warms up
        llm.reset()  # no prefix cache: every repetition evaluates the whole prompt
        t0 = time.perf_counter()
        llm.eval(tokens)
        t1 = time.perf_counter()
        for _ in range(max_tokens):  # greedy, the same tokens for every build
            llm.eval([llm.sample(temp=0.0)])
        t2 = time.perf_counter()
        if rep:
            rows.append((len(tokens) / (t1 - t0), max_tokens / (t2 - t1)))
    print(json.dumps({
        "system_info": llama_cpp.llama_print_system_info().decode(),
        "prompt_tokens": len(tokens), "rows": rows,
    }))  # fmt: skip


def compare_builds(args: argparse.Namespace, threads: int) -> None:
    from desktop_rag.core.llm.local.cpu_features import build_features, describe

    builds = {"installed (portable)": None, f"other ({args.compare_build})": args.compare_build}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in builds}
    features: dict[str, str] = {}
    for _turn in range(4):  # take turns, so both see the same machine load
        for name, path in builds.items():
            env = dict(os.environ)
            if path:
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
            out = subprocess.run(
                [sys.executable, __file__, "--build-worker", "--model", args.model,
                 "--ctx", str(args.ctx), "--reps", str(args.reps), "--threads", str(threads),
                 "--max-tokens", str(args.max_tokens)],
                env=env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            data = json.loads(out.strip().splitlines()[-1])
            results[name].extend(tuple(r) for r in data["rows"])
            features[name] = describe(build_features(data["system_info"]))
    base = "installed (portable)"
    med = {n: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
           for n, rows in results.items()}  # fmt: skip
    other = next(n for n in builds if n != base)
    print(f"\nllama.cpp builds, {threads} threads, {len(results[base])} runs each (median):")
    print(f"{'build':<40} {'prompt tok/s':>12} {'gen tok/s':>10}  features")
    for name in builds:
        print(f"{name:<40} {med[name][0]:>12.1f} {med[name][1]:>10.1f}  {features[name]}")
    print(
        f"portable / other: prompt {med[base][0] / med[other][0]:.2f}x, "
        f"generation {med[base][1] / med[other][1]:.2f}x (aim >= 0.90)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(default_chat_model()))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--compare-build", metavar="DIR", help="another llama-cpp-python's folder")
    parser.add_argument("--no-server", action="store_true", help="skip the chat-server path")
    parser.add_argument("--build-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=default_threads(), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_worker:
        build_worker(args.model, args.ctx, args.threads, args.reps, args.max_tokens)
        return
    seed = 1234
    settings = Settings(
        chat_model=args.model,
        context_size=args.ctx,
        temperature=0.0,
        max_tokens=args.max_tokens,
        n_gpu_layers=0,
    )
    box: dict = {}
    host = ModelHost(settings)
    answerer = Answerer(lambda q, k, folders: box["hits"], host, settings)
    t0 = time.perf_counter()
    info = host.load()
    host_load = time.perf_counter() - t0

    import llama_cpp

    t0 = time.perf_counter()
    threads = default_threads()  # what the app's child uses when Settings say "automatic"
    llm = llama_cpp.Llama(
        model_path=args.model,
        n_ctx=args.ctx,
        n_gpu_layers=0,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    direct_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    vocab = llama_cpp.Llama(model_path=args.model, vocab_only=True, verbose=False)
    vocab_load = time.perf_counter() - t0
    texts = [QUESTION, *CHUNKS] * 3
    t0 = time.perf_counter()
    host.count_tokens_batch(texts)
    child_count = time.perf_counter() - t0
    t0 = time.perf_counter()
    for text in texts:
        vocab.tokenize(text.encode(), add_bos=False)
    parent_count = time.perf_counter() - t0
    del vocab

    print(
        f"model: {info.name} ({info.quantization}), ctx {args.ctx}, CPU, threads: {threads}, "
        "temperature 0"
    )
    print(f"load: host (spawn child + load) {host_load:.2f} s, direct Llama() {direct_load:.2f} s")
    print(
        f"tokenizer: {len(texts)} texts via the child {child_count * 1000:.1f} ms; "
        f"vocab_only load in the parent {vocab_load * 1000:.0f} ms + "
        f"{parent_count * 1000:.1f} ms to count"
    )
    served = None if args.no_server else start_server(args.model, args.ctx, threads)
    remote = remote_answerer = None
    if served is not None:
        from desktop_rag.core.llm.server.host import RemoteHost

        on_server = settings.with_changes(model_location="server", server_url=served[1])
        remote = RemoteHost(on_server)
        remote_answerer = Answerer(lambda q, k, folders: box["hits"], remote, on_server)
    app_rows, direct_rows, server_rows = [], [], []
    for rep in range(args.reps + 1):  # rep 0 warms both up and is not counted
        app = run_app(answerer, rep, box)
        server_row = None if remote_answerer is None else run_app(remote_answerer, rep, box)
        if server_row is not None and rep:
            server_rows.append(server_row)
        prompt = build_prompt(
            QUESTION,
            box["hits"],
            (),
            count=host.count_tokens_batch,
            n_ctx=info.n_ctx,
            max_tokens=args.max_tokens,
        )
        direct = run_direct(llm, list(prompt.messages), prompt.answer_tokens, seed)
        tag = "warm-up" if rep == 0 else f"rep {rep}"
        print(
            f"{tag:>8}: app  first token {app[0]:.3f} s, {app[1] or 0:.1f} tok/s, {app[2]} tokens"
            f" | direct first token {direct[0]:.3f} s, {direct[1] or 0:.1f} tok/s, "
            f"{direct[2]} tokens"
        )
        if server_row is not None:
            print(
                f"{'':>8}  server first token {server_row[0]:.3f} s, "
                f"{server_row[1] or 0:.1f} tok/s, {server_row[2]} tokens"
            )
        if rep:
            app_rows.append(app)
            direct_rows.append(direct)
    host.close()
    if served is not None:
        remote.close()
        served[0].terminate()
        served[0].wait(10)

    def stat(rows, i, pick):
        values = [r[i] for r in rows if r[i]]
        return pick(values) if values else float("nan")

    for label, pick, best_tps in (
        ("median", statistics.median, statistics.median),
        ("best", min, max),
    ):
        a_ttft, d_ttft = stat(app_rows, 0, pick), stat(direct_rows, 0, pick)
        a_tps, d_tps = stat(app_rows, 1, best_tps), stat(direct_rows, 1, best_tps)
        print(
            f"{label:>6}: first token app {a_ttft:.3f} s, direct {d_ttft:.3f} s "
            f"-> {a_ttft / d_ttft:.2f}x; tokens/s app {a_tps:.1f}, direct {d_tps:.1f} "
            f"-> time per token {d_tps / a_tps:.2f}x"
        )
        if server_rows:
            s_ttft, s_tps = stat(server_rows, 0, pick), stat(server_rows, 1, best_tps)
            print(
                f"{'':>6}  server (127.0.0.1) first token {s_ttft:.3f} s -> {s_ttft / a_ttft:.2f}x "
                f"in-process; tokens/s {s_tps:.1f} -> time per token {a_tps / s_tps:.2f}x"
            )
    print("(app/direct: 1.00x = no overhead; aim <= 1.1x. 'best' is the least noisy on a busy CPU)")
    if args.compare_build:
        del llm
        compare_builds(args, threads)


if __name__ == "__main__":
    main()
