"""Local answers: GGUF models in a child process, GPU layer fitting, grounded prompts, citations.

Importing this package does not import llama_cpp; only the model's child process does.
"""

from desktop_rag.core.llm.answerer import NOT_COVERED, Answerer
from desktop_rag.core.llm.child import Cancelled
from desktop_rag.core.llm.gpu_fit import FitPlan
from desktop_rag.core.llm.host import ModelHost
from desktop_rag.core.llm.records import Answer, ModelInfo, Source, Timings, Turn

__all__ = [
    "NOT_COVERED",
    "Answer",
    "Answerer",
    "Cancelled",
    "FitPlan",
    "ModelHost",
    "ModelInfo",
    "Source",
    "Timings",
    "Turn",
]
