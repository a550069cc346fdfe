"""`desktop-rag ask QUESTION` and `desktop-rag doctor`: answers from a terminal, with the model
here or on a chat server."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from desktop_rag.core import settings as settings_mod
from desktop_rag.core.cli.index import add_folder_option
from desktop_rag.core.errors import SettingsError
from desktop_rag.core.llm.model.lora import LoraChoice, parse_lora_arg
from desktop_rag.core.llm.model_info import ModelInfo
from desktop_rag.core.path_keys import display_path
from desktop_rag.core.paths import app_paths
from desktop_rag.core.rag.citations import CITATION
from desktop_rag.core.settings import Settings


def _gpu_layers(value: str) -> int | str:
    if value == "auto":
        return "auto"
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be 'auto' or a number of layers") from None
    if number < -1:
        raise argparse.ArgumentTypeError("must be 'auto', -1 (all) or 0 or more")
    return number


def _lora(value: str) -> LoraChoice:
    try:
        return parse_lora_arg(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="GGUF", help="a GGUF model file (default: from Settings)")
    p.add_argument(
        "--lora",
        type=_lora,
        metavar="PATH[:SCALE]",
        help="a LoRA adapter GGUF for the model, applied at SCALE (default 1.0; from Settings)",
    )
    p.add_argument("--n-gpu-layers", type=_gpu_layers, metavar="auto|N", help="layers on the GPU")
    p.add_argument("--ctx", type=int, metavar="N", help="context window in tokens")
    p.add_argument(
        "--server",
        metavar="URL",
        help="use the model of a chat server (llama-server or OpenAI-compatible), e.g. "
        "http://gpu-box:8080; questions and passages are sent there",
    )
    p.add_argument(
        "--server-model", metavar="NAME", help="the server's model to use (default: its first)"
    )
    p.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="the environment variable holding the server's API key (default: the key kept "
        "in Settings, if any)",
    )
    p.add_argument(
        "--local", action="store_true", help="run the model on this computer, whatever Settings say"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ask", help="answer a question from the indexed documents")
    p.add_argument("question", metavar="QUESTION")
    add_folder_option(p)
    _model_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(func=run_ask)

    p = subparsers.add_parser(
        "doctor", help="versions, CPU and GPU, a one-token model test, and the layer plan"
    )
    _model_options(p)
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument(
        "--no-model", action="store_true", help="skip the one-token test (no model is loaded)"
    )
    p.set_defaults(func=run_doctor)


def _settings(args: argparse.Namespace) -> Settings:
    loaded, problems = settings_mod.load(app_paths(args.data_dir).settings_file)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    changes: dict[str, Any] = {}
    if args.model:
        changes["chat_model"] = args.model
    if args.n_gpu_layers is not None:
        changes["n_gpu_layers"] = args.n_gpu_layers
    if args.ctx:
        changes["context_size"] = args.ctx
    if args.server:
        changes.update(model_location="server", server_url=args.server)
    if args.server_model:
        changes["server_model"] = args.server_model
    if args.local:
        changes["model_location"] = "local"
    if args.lora:
        changes["lora_path"] = args.lora.path
        changes["lora_scale"] = args.lora.scale
    return loaded.with_changes(**changes)


def _api_key(args: argparse.Namespace) -> str | None:
    """The key from --api-key-env (an unset variable is an error: a typo must not send
    the request without a key), else None (the kept one)."""
    if not args.api_key_env:
        return None
    key = os.environ.get(args.api_key_env)
    if not key:
        raise SettingsError(
            f"The environment variable {args.api_key_env} (--api-key-env) is not set or empty",
            hint=f"export {args.api_key_env}=... before running",
        )
    return key


# A marker right after a word is an index in code ("a[0]"), not a citation.
_MARKER = re.compile(CITATION.pattern.replace(r"[ \t]*\[", r"[ \t]*(?<!\w)\[", 1), re.IGNORECASE)


class _StreamPrinter:
    """Prints the answer as it streams, without the model's own [n] markers: they are not
    checked yet. The checked citations follow the answer (Sources, Not in the sources)."""

    HOLD = 24  # characters after an unclosed "[" held back: the rest of a marker may follow

    def __init__(self) -> None:
        self._pending = ""

    def __call__(self, text: str) -> None:
        self._pending += text
        cut = self._pending.rfind("[")
        if cut == -1 or "]" in self._pending[cut:] or len(self._pending) - cut > self.HOLD:
            cut = len(self._pending)
        else:  # the space before a marker goes with it
            cut = len(self._pending[:cut].rstrip(" \t"))
        self._write(self._pending[:cut])
        self._pending = self._pending[cut:]

    def flush(self) -> None:
        self._write(self._pending)
        self._pending = ""

    @staticmethod
    def _write(text: str) -> None:
        if text:
            sys.stdout.write(_MARKER.sub("", text))
            sys.stdout.flush()


def run_ask(args: argparse.Namespace) -> int:
    # Imported here so `desktop-rag --help` and the other commands stay quick.
    from desktop_rag.core.knowledge_base import KnowledgeBase
    from desktop_rag.core.llm.hosts import make_host
    from desktop_rag.core.rag.answerer import Answerer

    settings = _settings(args)
    paths = app_paths(args.data_dir)
    host = make_host(settings, paths, api_key=_api_key(args))
    kb = KnowledgeBase(paths, settings)
    try:
        answerer = Answerer(kb.search, host, settings, embed=kb.embed_texts)
        printer = _StreamPrinter()
        answer = answerer.ask(
            args.question,
            on_token=None if args.json else printer,
            folders=args.folder,
        )
        printer.flush()
        info = host.info  # None when the model was not asked
    finally:
        host.close()  # also on Ctrl-C: the model process must not outlive us
        kb.close()
    if args.json:
        out = {
            "question": args.question,
            "answer": answer.text,
            "covered": answer.covered,
            "stopped": answer.stopped,
            "sources": [asdict(s) for s in answer.sources],
            # Each sentence of "answer" and the sources that support it: "start"/"end" are
            # offsets of the sentence as shown in "answer" (with its citation markers),
            # "text" is the sentence without them; "supported" is null for a sentence with
            # nothing to check ("I do not know."). Empty when the model was not asked.
            "sentences": [_sentence_json(s) for s in answer.sentences],
            "loop_cut": answer.loop_cut,
            "interrupted": answer.interrupted or None,
            "server": info.server if info is not None and info.server else None,
            "model": answer.model,
            "gpu_layers": answer.gpu_layers,
            "total_layers": answer.total_layers,
            "gpu_plan": info.plan.reason if info else None,
            # The adapter applied (path, scale) or why the one in Settings was refused.
            "lora": None
            if info is None
            else {"path": info.lora, "scale": info.lora_scale, "error": info.lora_error},
            "timings": asdict(answer.timings),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print()
    if answer.interrupted:
        print(f"(cut short: {answer.interrupted})", file=sys.stderr)
    if info is not None and info.lora_error:
        print(f"warning: LoRA adapter not applied: {info.lora_error}", file=sys.stderr)
    if answer.loop_cut:
        print("(the model began repeating itself; the answer was cut there)", file=sys.stderr)
    unsupported = [sentence for sentence in answer.sentences if sentence.unsupported]
    if unsupported:
        print("\nNot in the sources (may be made up):")
        for sentence in unsupported:
            print(f"  - {' '.join(sentence.text.split())}")
    if answer.sources:
        print("\nSources:")
        for s in answer.sources:
            page = f", page {s.page}" if s.page is not None else ""
            cited = "" if s.cited else " (given to the model, supports no sentence)"
            print(f"  [{s.number}] {display_path(s.path)}{page}{cited}")
    if not answer.covered:
        print(
            "(no indexed passage is about this question; the model was not asked)", file=sys.stderr
        )
        return 0
    t = answer.timings
    speed = f", {t.tokens_per_s:.1f} tokens/s" if t.tokens_per_s else ""
    first = f"first token {t.first_token_s:.2f} s" if t.first_token_s is not None else "no tokens"
    where = f"{answer.gpu_layers}/{answer.total_layers} layers on the GPU"
    if info is not None and info.server:
        where = f"on the server {info.server}"
    print(f"({answer.model}{_lora_note(info)}; {where}; {first}{speed})", file=sys.stderr)
    return 0


def _lora_note(info: ModelInfo | None) -> str:
    """The adapter, for the answer's footer ("+ LoRA style.gguf x0.5"); a refusal was
    printed as a warning above it."""
    if info is None or not (info.lora or info.lora_error):
        return ""
    if info.lora is None:
        return " without its LoRA adapter (refused)"
    return f" + LoRA {Path(info.lora).name} x{info.lora_scale:g}"


def _sentence_json(sentence: Any) -> dict[str, Any]:
    data = asdict(sentence)
    data["supported"] = sentence.supported if sentence.claim else None
    data["span"] = list(sentence.span) if sentence.span else None
    return data


def run_doctor(args: argparse.Namespace) -> int:
    from desktop_rag.core.llm.doctor import collect, format_report
    from desktop_rag.core.llm.server.check import format_server, server_report

    settings = _settings(args)
    on_server = settings.model_location == "server"
    # With a server the model runs there: no local one-token test.
    report = collect(settings, run_model=not args.no_model and not on_server)
    if on_server:
        from desktop_rag.core.llm.server.secrets import api_key_for

        secrets_file = app_paths(args.data_dir).secrets_file
        api_key = api_key_for(settings.server_url, secrets_file, _api_key(args))
        report["server"] = server_report(settings, api_key)
        report["model"] = {"path": None, "error": "on the chat server (below)"}
        report.pop("fit", None)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
        if on_server:
            print("\n".join(format_server(report["server"])))
    return 0
