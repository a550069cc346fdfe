"""The chat model on this computer: a llama.cpp child process, its parent-side host, and why
it died when it does.
"""
