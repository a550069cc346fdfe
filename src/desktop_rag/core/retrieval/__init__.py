"""Finding chunks for a question: vector and keyword search fused (RRF), and the relevance
gate that says when the documents do not cover the question.
"""
