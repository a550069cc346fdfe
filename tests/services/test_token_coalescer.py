from desktop_rag.services.token_coalescer import TokenCoalescer


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_tokens_are_joined_per_interval_and_nothing_is_lost():
    clock, out = _Clock(), []
    coalescer = TokenCoalescer(out.append, interval_s=1.0, clock=clock)
    coalescer.add("First")  # the first token is shown at once
    for token in [" a", " b", "", " c"]:
        clock.now += 0.25
        coalescer.add(token)  # " c" comes 1.0 s after the first flush
    clock.now += 0.5
    coalescer.add(" d")
    coalescer.add(" e")
    assert out == ["First", " a b c"]
    coalescer.flush()
    assert out == ["First", " a b c", " d e"]
    coalescer.flush()
    assert out == ["First", " a b c", " d e"]
