# Runs before any bundled module in every frozen process, spawned children included.
import os
import sys

# The frozen app must never reach a model hub: these are also set by `desktop_rag/__init__`,
# but a child process may import transformers before it imports desktop_rag.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)

# A windowed executable on Windows starts with no console, so sys.stdout and sys.stderr are
# None, and the first write or flush (a progress bar, the model child redirecting its output
# to a log) raises. The null device keeps those writes harmless.
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
