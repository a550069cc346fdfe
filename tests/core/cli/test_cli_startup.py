"""The CLI parser and folder bookkeeping (pause, resume) load neither LanceDB nor torch."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("lancedb", "torch", "sentence_transformers", "llama_cpp", "pyarrow")

PROBE = """
import sys
from desktop_rag.core import cli
cli.build_parser()
code = cli.main(sys.argv[1:])
print("HEAVY:" + ",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
raise SystemExit(code)
"""


def _run(*argv: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), "--data-dir", str(tmp_path), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_parser_and_folder_bookkeeping_stay_light(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    # `pause` of a folder that is not watched fails with a message, but still must not load
    # the engine just to say so.
    result = _run("folders", "pause", str(folder), tmp_path=tmp_path)
    assert "HEAVY:\n" in result.stdout, result.stdout + result.stderr
    assert "error:" in result.stderr
