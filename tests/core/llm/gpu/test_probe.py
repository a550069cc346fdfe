"""Whether the llama.cpp build offloads to a GPU, asked without loading it in this process."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_build_is_asked_in_a_child_and_this_process_never_loads_llama_cpp():
    script = textwrap.dedent(
        """
        import sys
        from desktop_rag.core.llm.gpu.probe import llama_gpu_offload_supported

        answer = llama_gpu_offload_supported()
        print(answer, "llama_cpp" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    ).stdout.split()
    import llama_cpp

    assert out == [str(bool(llama_cpp.llama_supports_gpu_offload())), "False"]
