"""Ships the top-level `resources/` (icons, sample folder, desktop entry) inside the package.

Everything else about the build is in pyproject.toml. `resources/` stays at the top of the
repository (the frozen app and the .deb take it from there); a wheel carries it as
`desktop_rag/resources/`, where `core/paths.resources_dir()` looks when not run from source.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"


class BuildPyWithResources(build_py):
    def run(self) -> None:
        super().run()
        # An editable install runs from the checkout, where paths.py finds resources/ itself.
        if not self.editable_mode:
            target = Path(self.build_lib) / "desktop_rag" / "resources"
            shutil.copytree(RESOURCES, target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithResources})
