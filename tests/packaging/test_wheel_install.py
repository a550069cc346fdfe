"""A non-editable install (`pip install .`) carries the icons and the sample folder.

`resources/` sits at the top of the repository, outside the package; setup.py copies it into
the wheel. Without that, an installed app has no window icon and "Add the sample folder"
points at a folder that does not exist.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "src", "resources")
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info")

PROBE = """
import json
import desktop_rag.core.paths as paths
folder = paths.resources_dir()
print(json.dumps({
    "module": paths.__file__,
    "resources": str(folder),
    "files": sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()),
}))
"""


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow  # builds a wheel and a virtual environment (about 30 s)
def test_an_installed_wheel_finds_its_resources(tmp_path: Path) -> None:
    # Offline: this environment's setuptools builds, and pip installs the one wheel only.
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=IGNORED)
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(source),
        ],
        env=env,
    )
    (wheel,) = wheels.glob("desktop_rag-*.whl")

    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-deps", str(wheel)], env=env)
    # The dependencies (platformdirs ...) from this environment, after the venv's own
    # site-packages: the desktop_rag imported is the installed one, not the checkout.
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    (site / "zz_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    probe = _run([str(python), "-I", "-c", PROBE], cwd=tmp_path)
    found = json.loads(probe.stdout)
    assert Path(found["module"]).is_relative_to(target), found["module"]
    assert Path(found["resources"]) == Path(found["module"]).parents[1] / "resources"
    expected = sorted(
        str(p.relative_to(ROOT / "resources"))
        for p in (ROOT / "resources").rglob("*")
        if p.is_file()
    )
    assert found["files"] == expected
    assert "icons/desktop-rag.svg" in found["files"]
    assert "sample/welcome.md" in found["files"]
