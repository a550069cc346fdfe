"""Embeddings: text to L2-normalised float32 vectors, through torch or ONNX Runtime."""
