"""`desktop-rag doctor --server URL`: can this computer use that chat server, and how.

Collecting never raises: a failure is reported with its cause in words in its place.
"""

from __future__ import annotations

import time
from typing import Any

from desktop_rag.core.errors import UserFacingError
from desktop_rag.core.llm.server.client import model_label
from desktop_rag.core.settings import Settings


def server_report(settings: Settings, api_key: str | None) -> dict[str, Any]:
    """{"url", "ok", and then either "error"/"cause" or what the server said: "kind",
    "models", "model", "n_ctx", "tokenizer", "adapters", "build", "warning", "probe_ms",
    "one_token" ({"ok", "first_token_s", "text"} or {"ok": False, "error"})}."""
    from desktop_rag.core.llm.server.host import RemoteHost

    report: dict[str, Any] = {"url": settings.server_url, "ok": False, "key": bool(api_key)}
    try:
        host = RemoteHost(settings, api_key=api_key)
    except UserFacingError as exc:
        report["error"] = str(exc)
        return report
    try:
        host.load()
        server = host.server
        assert server is not None
        report.update(
            ok=True,
            url=server.address.base_url,
            kind=server.kind,
            models=list(server.models),
            model=server.model,
            n_ctx=server.n_ctx,
            tokenizer=server.tokenizer,
            adapters=[{"id": a.id, "path": a.path, "scale": a.scale} for a in server.loras],
            build=server.build,
            warning=server.warning,
            probe_ms=round(server.seconds * 1000, 1),
        )
        pieces: list[str] = []
        start = time.perf_counter()
        timings = host.generate(
            [{"role": "user", "content": "Say OK."}],
            on_token=pieces.append,
            max_tokens=1,
            temperature=0.0,
            seed=1,
        )
        report["one_token"] = {
            "ok": timings.tokens > 0,
            "first_token_s": round(time.perf_counter() - start, 2),
            "text": "".join(pieces),
        }
    except UserFacingError as exc:
        failure = {"error": str(exc), "cause": getattr(exc, "cause", None)}
        if report["ok"]:  # connected: the one-token test failed
            report["one_token"] = {"ok": False, **failure}
        else:
            report.update(failure)
    finally:
        host.close()
    return report


def format_server(report: dict[str, Any]) -> list[str]:
    url = report["url"]
    if not report["ok"]:
        return [f"Chat server {url}: FAILED: {report.get('error')}"]
    window = f"{report['n_ctx']:,} tokens" if report["n_ctx"] else "not given (2,048 assumed)"
    lines = [
        f"Chat server {url}: {report['kind']}, answered in {report['probe_ms']:.0f} ms",
        f"  API key: {'sent' if report['key'] else 'none'}",
        f"  model: {model_label(report['model'])}"
        + (f" (of {len(report['models'])})" if len(report["models"]) > 1 else ""),
        f"  context window: {window}",
        "  token counts: "
        + ("by the server" if report["tokenizer"] else "estimated (the server cannot count)"),
    ]
    if report["adapters"]:
        names = ", ".join(f"{a['path']} (scale {a['scale']:g})" for a in report["adapters"])
        lines.append(f"  LoRA adapters loaded there: {names}")
    if report["build"]:
        lines.append(f"  build: {report['build']}")
    if report["warning"]:
        lines.append(f"  WARNING: {report['warning']}")
    test = report.get("one_token") or {}
    if test.get("ok"):
        lines.append(f"  one-token test: OK in {test['first_token_s']:.2f} s")
    else:
        lines.append(f"  one-token test: FAILED: {test.get('error', 'no token came')}")
    return lines
