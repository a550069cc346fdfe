"""The chat model's runtime: a GGUF model in a child process on this computer (`local/`), or
one on a chat server (`server/`), behind the `hosts.ChatHost` seam (with `Cancelled`); what
a loaded model is (`model_info`); the model file and LoRA adapters (`model/`); GPU layer
fitting (`gpu/`); `doctor` explains what runs where.

Importing this package does not import llama_cpp; only the model's child process does.
"""
