"""What NVIDIA GPUs are present and how much VRAM is free, read through NVML.

NVML ships with the NVIDIA driver; `nvidia-ml-py` only binds to it. A machine without the
driver (or without the package) is normal, so `probe_gpus` never raises: it returns no GPUs
and says why, for the fit plan and `desktop-rag doctor`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass


@dataclass(frozen=True)
class GpuInfo:
    index: int
    name: str
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class GpuProbe:
    gpus: tuple[GpuInfo, ...] = ()
    # Why no GPU is listed, in words ("NVML unavailable: ..."); None when GPUs were found.
    reason: str | None = None
    driver_version: str | None = None


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def probe_gpus() -> GpuProbe:
    try:
        import pynvml
    except ImportError:
        return GpuProbe(reason="NVML unavailable: the nvidia-ml-py package is not installed")
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...
        return GpuProbe(reason=f"NVML unavailable: {_text(exc) or type(exc).__name__}")
    try:
        try:
            driver = _text(pynvml.nvmlSystemGetDriverVersion())
        except Exception:
            driver = None
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            name = _text(pynvml.nvmlDeviceGetName(handle))
            gpus.append(GpuInfo(index, name, int(memory.free), int(memory.total)))
    except Exception as exc:
        return GpuProbe(reason=f"NVML failed while listing GPUs: {_text(exc)}")
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()
    if not gpus:
        return GpuProbe(reason="the NVIDIA driver reports no GPU", driver_version=driver)
    return GpuProbe(gpus=tuple(gpus), driver_version=driver)


def llama_gpu_offload_supported() -> bool:
    """Whether the installed llama-cpp-python was built with a GPU backend.

    Asked in a short-lived child process: loading llama.cpp's library in the app's own
    process would let a build made for another CPU kill the window (SIGILL). A child that
    dies answers False; the model host then explains why when it starts the model.
    """
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        try:
            return bool(pool.submit(_offload_in_child).result(timeout=120))
        except Exception:  # the child died or hung: no offload from this build, as far as known
            return False


def _offload_in_child() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())
