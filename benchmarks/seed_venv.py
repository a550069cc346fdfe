"""The virtual environment the seed's LangChain pipeline runs in, made on first use.

`.bench/seed-venv`, apart from the project's venv: LangChain and Chroma are never project
dependencies. torch's CPU build is installed first and exactly pinned (as `make setup`
does), so nothing after it can pull a CUDA build; then every package of
`seed_requirements.txt`. A stamp named for the pins marks a finished install; changed pins
install again into the same venv.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
import venv
from pathlib import Path

from _common import BENCH_DIR

SEED_VENV = BENCH_DIR / "seed-venv"
REQUIREMENTS = Path(__file__).with_name("seed_requirements.txt")
SEED_SCRIPT = Path(__file__).with_name("seed_pipeline.py")
# The project's own pin (Makefile TORCH_PIN): the two pipelines run the same torch.
_LINUX_X86 = sys.platform == "linux" and platform.machine() == "x86_64"
TORCH_PIN = "torch==2.13.0+cpu" if _LINUX_X86 else "torch==2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def seed_python() -> Path:
    """The seed venv's interpreter, installing the venv first if needed (minutes; network
    or a configured wheel folder). Raises CalledProcessError when pip fails."""
    python = SEED_VENV / "bin" / "python"
    digest = hashlib.sha256((TORCH_PIN + REQUIREMENTS.read_text("utf-8")).encode()).hexdigest()
    stamp = SEED_VENV / f".installed-{digest[:16]}"
    if stamp.is_file() and python.is_file():
        return python
    print(f"setting up the seed pipeline's venv in {SEED_VENV} (once)", file=sys.stderr)
    if not python.is_file():
        venv.create(SEED_VENV, with_pip=True, clear=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.run([*pip, TORCH_PIN], check=False).returncode != 0:
        subprocess.run([*pip, TORCH_PIN, "--extra-index-url", TORCH_CPU_INDEX], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    for old in SEED_VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return python
