"""The model file: GGUF header and tensors, LoRA adapters, readable facts and advice."""
