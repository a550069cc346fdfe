from desktop_rag.core.llm.model.advice import model_advice


def test_the_built_in_and_small_models_get_the_advice_and_large_ones_do_not():
    builtin = model_advice("/m/SmolLM2-135M-Instruct-Q4_1.gguf", 90_000_000, builtin=True)
    assert builtin.startswith("In use: SmolLM2-135M-Instruct-Q4_1, the built-in model")
    assert "7B-13B" in builtin and "GPU" in builtin
    small = model_advice("/m/qwen2.5-1.5b-instruct-q4_k_m.gguf", 1_100_000_000, builtin=False)
    assert "7B-13B" in small
    large = model_advice("/m/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", 4_900_000_000, builtin=False)
    assert large == "In use: Meta-Llama-3.1-8B-Instruct-Q4_K_M."
