"""The chat model on another computer, behind an OpenAI-compatible server (llama-server)."""
