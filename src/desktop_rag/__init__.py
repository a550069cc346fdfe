"""Desktop RAG: chat with the folders on your own computer, fully offline."""

import os as _os

# Set before anything imports huggingface_hub, transformers or sentence-transformers:
# the app must never look anything up on a model hub or send telemetry.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    _os.environ.setdefault(_key, _value)

__version__ = "0.1.0"
