"""The RAG pipeline with a fake search and an in-process fake model host."""

from __future__ import annotations

import threading

from desktop_rag.core.llm.gpu.fit import cpu_plan
from desktop_rag.core.llm.model_info import ModelInfo, Timings
from desktop_rag.core.rag.answerer import NOT_COVERED, Answerer
from desktop_rag.core.rag.answers import Turn
from desktop_rag.core.rag.prompt import REMINDER, SYSTEM_PROMPT
from desktop_rag.core.records import Hit
from desktop_rag.core.settings import Settings

ZORBLAX = "The Zorblax reactor on Kepler station runs on purple quartz."
GARDEN = "Tomatoes need full sun; basil keeps aphids away."


def hit(path: str, text: str, dense: float | None, page: int | None = None) -> Hit:
    return Hit(path, path, text, 0, len(text), 0.03, page=page, dense_score=dense)


class FakeHost:
    def __init__(self, reply: list[str]):
        self.reply = reply
        self.info: ModelInfo | None = None
        self.calls: list[str] = []
        self.messages: list[dict[str, str]] = []
        self.sampling: dict = {}
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()

    def model_path(self) -> str:
        return "/models/fake.gguf"

    def load(self, model_path=None, *, cancel=None) -> ModelInfo:
        self.calls.append("load")
        self.info = ModelInfo(
            "/models/fake.gguf", "Fake", 1, "Q4_1", 4, 0, cpu_plan(5, "no GPU"), "gguf", 4096
        )
        return self.info

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        self.calls.append("count")
        return [len(t.split()) for t in texts]

    def generate(self, messages, *, on_token, cancel=None, max_tokens=None, **sampling):
        self.calls.append("generate")
        self.messages = messages
        self.sampling = sampling
        self.stopped.clear()
        sent = 0
        for piece in self.reply:
            if (cancel is not None and cancel.is_set()) or self.stopped.is_set():
                return Timings(0.01, sent, None, 0.02, stopped=True)
            on_token(piece)
            sent += 1
        return Timings(0.01, sent, 50.0, 0.02)


def ask(hits, reply, question="What does the Zorblax reactor run on?", **kw):
    searched: list[tuple[str, int]] = []

    def search(query: str, k: int, folders=()) -> list[Hit]:
        searched.append((query, k))
        return hits

    host = FakeHost(reply)
    streamed: list[str] = []
    answer = Answerer(search, host, Settings(top_k=4)).ask(question, on_token=streamed.append, **kw)
    return answer, host, streamed, searched


def test_a_grounded_answer_keeps_valid_citations_and_lists_cited_sources():
    hits = [hit("/d/zorblax.md", ZORBLAX, 0.6), hit("/d/manual.pdf", "Quartz grades.", 0.55, 2)]
    reply = ["It runs", " on purple", " quartz [1]", " [7]."]
    answer, host, streamed, searched = ask(hits, reply)
    assert streamed == reply
    assert answer.text == "It runs on purple quartz [1]."
    assert [(s.number, s.path, s.cited) for s in answer.sources] == [(1, "/d/zorblax.md", True)]
    assert [(s.number, s.page, s.cited) for s in answer.provided] == [
        (1, None, True),
        (2, 2, False),
    ]
    assert answer.covered and not answer.stopped
    assert (answer.model, answer.gpu_layers, answer.total_layers) == ("Fake", 0, 5)
    assert searched == [("What does the Zorblax reactor run on?", 4)]
    prompt = host.messages[-1]["content"]
    assert "[1] zorblax.md\n" + ZORBLAX in prompt and "[2] manual.pdf, page 2" in prompt
    assert answer.timings.first_token_s is not None and answer.timings.tokens == 4


def test_an_answer_no_passage_supports_shows_all_sources_uncited_and_is_flagged():
    hits = [hit("/d/zorblax.md", ZORBLAX, 0.6), hit("/d/b.md", "Zorblax history.", 0.55)]
    answer, *_ = ask(hits, ["It is powered", " by moonlight [1]."])
    assert [(s.number, s.cited) for s in answer.sources] == [(1, False), (2, False)]
    assert answer.text == "It is powered by moonlight."  # the model's [1] did not hold
    (sentence,) = answer.sentences
    assert sentence.unsupported and sentence.model_cited == (1,)


def test_citations_come_from_attribution_when_the_model_writes_none():
    hits = [hit("/d/garden.md", GARDEN, 0.55), hit("/d/zorblax.md", ZORBLAX, 0.6)]
    answer, *_ = ask(hits, ["The reactor runs", " on purple quartz.", " It was built in 2090."])
    assert answer.text == "The reactor runs on purple quartz [2]. It was built in 2090."
    assert [(s.number, s.cited) for s in answer.sources] == [(2, True)]
    supported, invented = answer.sentences
    assert supported.supported and supported.sources == (2,)
    assert ZORBLAX[supported.span[0] : supported.span[1]] == ZORBLAX
    assert invented.unsupported


def test_a_looping_answer_is_stopped_and_the_text_before_the_loop_kept():
    hits = [hit("/d/zorblax.md", ZORBLAX, 0.6)]
    looping = ["It runs on purple quartz."] + [" The answer to your question is:"] * 40
    answer, host, streamed, _ = ask(hits, looping)
    assert host.stopped.is_set()  # generation was told to stop, not run to the limit
    assert len(streamed) < 5
    assert answer.loop_cut and not answer.stopped
    assert answer.text == "It runs on purple quartz [1]."


def test_sampling_has_repetition_control_and_stop_sequences():
    _answer, host, *_ = ask([hit("/d/zorblax.md", ZORBLAX, 0.6)], ["Purple quartz."])
    assert host.sampling["repeat_penalty"] == Settings().repeat_penalty > 1.0
    assert "\nQuestion:" in host.sampling["stop"]


def test_irrelevant_hits_get_the_fixed_reply_without_calling_the_model():
    answer, host, streamed, _ = ask(
        [hit("/d/garden.md", GARDEN, 0.08)], ["never"], question="What is the capital of France?"
    )
    assert not answer.covered and answer.text == NOT_COVERED
    assert len(streamed) > 3 and "".join(streamed) == NOT_COVERED
    assert answer.sources == () and host.calls == []


def test_no_hits_at_all_is_not_covered():
    answer, _host, streamed, _ = ask([], ["never"])
    assert not answer.covered and "".join(streamed) == NOT_COVERED


def test_only_relevant_hits_reach_the_prompt():
    hits = [hit("/d/garden.md", GARDEN, 0.05), hit("/d/zorblax.md", ZORBLAX, 0.6)]
    answer, host, *_ = ask(hits, ["Quartz [1]."])
    assert [s.path for s in answer.provided] == ["/d/zorblax.md"]
    assert "garden" not in host.messages[-1]["content"]


def test_follow_up_uses_the_previous_question_and_the_conversation():
    history = [Turn("What does the Zorblax reactor run on?", "Purple quartz [1].")]
    _answer, host, _, searched = ask(
        [hit("/d/zorblax.md", ZORBLAX, 0.3)],
        ["Every ninety days."],
        question="How often is it delivered?",
        history=history,
    )
    assert searched[0][0] == "What does the Zorblax reactor run on? How often is it delivered?"
    roles = [m["role"] for m in host.messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert host.messages[2]["content"] == "Purple quartz."  # old citation numbers stripped
    assert host.messages[-1]["content"].endswith(
        "Question: How often is it delivered?\n" + REMINDER
    )


def test_cancel_stops_the_answer():
    cancel = threading.Event()
    pieces = ["a", "b", "c"]

    class Cancelling(list):
        def __iter__(self):
            for p in pieces:
                yield p
                cancel.set()

    answer, *_ = ask([hit("/d/zorblax.md", ZORBLAX, 0.6)], Cancelling(), cancel=cancel)
    assert answer.stopped and answer.text == "a"


def test_new_instructions_and_temperature_apply_to_the_next_answer():
    hits = [hit("/d/zorblax.md", ZORBLAX, 0.6)]
    host = FakeHost(["Purple quartz [1]."])
    temperatures: list[float | None] = []
    generate = host.generate

    def record(messages, **kw):
        temperatures.append(kw.get("temperature"))
        return generate(messages, **kw)

    host.generate = record
    answerer = Answerer(lambda q, k, folders: hits, host, Settings(top_k=4))
    answerer.ask("What does the Zorblax reactor run on?")
    assert host.messages[0]["content"] == SYSTEM_PROMPT
    answerer.reconfigure(Settings(top_k=4, temperature=0.9, instructions="Answer in French."))
    answerer.ask("What does the Zorblax reactor run on?")
    assert host.messages[0]["content"] == SYSTEM_PROMPT + "\n\nAnswer in French."
    assert temperatures == [0.2, 0.9]


def test_citations_arrive_while_the_answer_streams_sentence_by_sentence():
    hits = [hit("/d/garden.md", GARDEN, 0.55), hit("/d/zorblax.md", ZORBLAX, 0.6)]
    partials = []
    answer, *_ = ask(
        hits,
        ["The reactor runs", " on purple quartz.", " Basil keeps", " aphids away.", " Done"],
        on_attribution=partials.append,
    )
    assert [p.consumed for p in partials] == [
        len("The reactor runs on purple quartz."),
        len("The reactor runs on purple quartz. Basil keeps aphids away."),
    ]
    assert partials[0].text == "The reactor runs on purple quartz [2]."
    assert partials[1].text == "The reactor runs on purple quartz [2]. Basil keeps aphids away [1]."
    assert answer.text.startswith(partials[1].text)
