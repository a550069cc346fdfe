"""Answers grounded in the index: the answerer, the prompt, citations and their attribution."""
