"""Sentence attribution on fixed strings: what supports each sentence, and what nothing does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop_rag.core.rag.attribution import attribute, split_sentences, terms


@dataclass(frozen=True)
class P:
    number: int
    text: str


RAILWAY = P(
    1,
    "The Tansy Valley Railway\n========================\n\n"
    "The Tansy Valley Railway opened in 1902 to carry slate from the upper quarries to the\n"
    "harbour at Wrenmouth. The line is 14 kilometres long and has a gauge of 600 millimetres.\n\n"
    "Volunteers reopened the line for visitors in 1987. Its oldest working locomotive,\n"
    '"Corrie", was built in 1899 and runs on summer Sundays.',
)
ORCHARD = P(
    2,
    "Hollowmere Orchard: notes for the 2031 season\n\n"
    "The orchard keeps 212 apple trees and 38 pear trees on the south slope.\n"
    "Beehives: six hives stand along the east hedge and are inspected every ten days.",
)
PASSAGES = (RAILWAY, ORCHARD)
OPENED = "When did the Tansy Valley Railway open, and what did it carry?"


def _span(sentence, passages=PASSAGES) -> str:
    text = {p.number: p.text for p in passages}[sentence.sources[0]]
    return text[sentence.span[0] : sentence.span[1]]


def test_a_sentence_copied_from_a_passage_is_cited_to_it_at_the_right_span():
    result = attribute(
        "The Tansy Valley Railway opened in 1902 to carry slate from the upper quarries.",
        PASSAGES,
        question=OPENED,
    )
    (sentence,) = result.sentences
    assert sentence.supported and sentence.sources == (1,)
    assert "opened in 1902" in _span(sentence)
    assert "Volunteers" not in _span(sentence)
    assert result.text == (
        "The Tansy Valley Railway opened in 1902 to carry slate from the upper quarries [1]."
    )


def test_an_invented_tail_is_flagged_even_when_its_number_is_elsewhere_in_the_passage():
    # 1987 is in the passage, but as the year the line reopened, not the year it opened.
    result = attribute(
        "The Tansy Valley Railway opened in 1902 to carry slate. The answer is: 1987.",
        PASSAGES,
        question=OPENED,
    )
    first, tail = result.sentences
    assert first.supported and first.sources == (1,)
    assert tail.claim and not tail.supported and tail.unsupported
    assert tail.sources == () and tail.span is None
    assert result.text.endswith("The answer is: 1987.")  # shown, without a citation


def test_a_changed_number_is_unsupported():
    result = attribute("The orchard keeps 312 apple trees.", PASSAGES, question="apple trees?")
    assert result.sentences[0].unsupported


def test_a_sentence_about_something_else_entirely_is_unsupported():
    result = attribute(
        "The railway was designed by Queen Victoria and the Royal Navy.", PASSAGES, question=OPENED
    )
    assert result.sentences[0].unsupported


def test_a_paraphrase_is_attributed_to_its_passage():
    result = attribute(
        "Hollowmere has 212 apple trees, and six beehives line the east hedge.",
        PASSAGES,
        question="How many apple trees does Hollowmere Orchard keep?",
    )
    (sentence,) = result.sentences
    assert sentence.supported and sentence.sources == (2,)


def test_number_words_and_digits_match():
    result = attribute("There are 6 hives along the east hedge.", PASSAGES)
    assert result.sentences[0].supported and result.sentences[0].sources == (2,)
    assert "six hives" in _span(result.sentences[0])


def test_a_short_answer_is_judged_with_the_question():
    right = attribute("1902.", PASSAGES, question="When did the Tansy Valley Railway open?")
    wrong = attribute("1987.", PASSAGES, question="When did the Tansy Valley Railway open?")
    assert right.sentences[0].supported
    assert wrong.sentences[0].unsupported


def test_the_models_markers_are_checked_kept_replaced_or_dropped():
    result = attribute(
        "The line is 14 kilometres long [1]. The orchard keeps 212 apple trees [1]. "
        "It was painted green [2].",
        PASSAGES,
    )
    kept, replaced, dropped = result.sentences
    assert kept.model_cited == (1,) and kept.sources == (1,)
    assert replaced.model_cited == (1,) and replaced.sources == (2,)
    assert dropped.model_cited == (2,) and dropped.unsupported
    assert result.text == (
        "The line is 14 kilometres long [1]. The orchard keeps 212 apple trees [2]. "
        "It was painted green."
    )


def test_a_marker_after_the_full_stop_belongs_to_the_sentence_before():
    result = attribute("Corrie was built in 1899. [1] It runs on summer Sundays.", PASSAGES)
    assert [s.model_cited for s in result.sentences] == [(1,), ()]
    assert all(s.supported for s in result.sentences)


def test_sentences_without_a_claim_are_neither_supported_nor_flagged():
    result = attribute("I don't know. The sources do not say.", PASSAGES, question=OPENED)
    assert [s.claim for s in result.sentences] == [False, False]
    assert not any(s.unsupported for s in result.sentences)


def test_offsets_point_into_the_returned_text():
    answer = "- The line is 14 kilometres long.\n- Corrie was built in 1899.\n\nNo idea why."
    result = attribute(answer, PASSAGES)
    for sentence in result.sentences:
        assert result.text[sentence.start : sentence.end].startswith(sentence.text[:-1])
    assert result.text.startswith("- The line is 14 kilometres long [1].\n- Corrie")
    assert result.cited == (1,)


def test_the_embedder_recognises_a_paraphrase_that_shares_few_words():
    sentence = "The railway first ran in 1902, hauling slate down to the harbour."
    window = "The Tansy Valley Railway opened in 1902 to carry slate from the upper quarries to the"

    def embed(texts: list[str]) -> np.ndarray:
        # A stand-in embedder: the paraphrase and its window point the same way.
        rows = [
            [1.0, 0.0] if t in (sentence,) or t.startswith(window[:30]) else [0.0, 1.0]
            for t in texts
        ]
        return np.asarray(rows, dtype=np.float32)

    without = attribute(sentence, PASSAGES, question="What did it carry?")
    with_embedder = attribute(sentence, PASSAGES, question="What did it carry?", embed=embed)
    assert without.sentences[0].unsupported
    assert with_embedder.sentences[0].supported
    assert with_embedder.sentences[0].sources == (1,)


def test_terms_and_sentences():
    assert terms("The orchard keeps 2,319 apple trees; six hives.") == [
        "orchar",
        "keep",
        "2319",
        "apple",
        "tree",
        "6",
        "hive",
    ]
    text = "First one. Second one!\n- third item\n\nFourth? yes"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "First one.",
        "Second one!",
        "- third item",
        "Fourth?",
        "yes",
    ]
    text = "# Rover\nThe moon rover is\npainted teal.\nHistory\n-------\n| a | b |\nNotes: none"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "# Rover",
        "The moon rover is\npainted teal.",
        "History",
        "-------",
        "| a | b |",
        "Notes: none",
    ]


def test_text_wrapped_at_a_fixed_width_is_one_sentence():
    answer = (
        "The Tansy Valley Railway opened in 1902 to carry slate from the upper quarries to the\n"
        "harbour at Wrenmouth. It also carried coal for 9 years before it closed down in 2011."
    )
    result = attribute(answer, PASSAGES, question=OPENED)
    assert [s.supported for s in result.sentences] == [True, False]
    assert result.text.startswith("The Tansy Valley Railway opened in 1902 to carry slate")
    assert result.text.count("[1]") == 1


def test_code_blocks_and_inline_code_are_left_as_written():
    answer = (
        "Corrie was built in 1899 `[0]` runs on summer Sundays.\n\n"
        "```rust\nlet built = 1899; // [2]\nlet v = a[0];\n```\n\nThe line is 14 kilometres long."
    )
    result = attribute(answer, PASSAGES)
    code = result.sentences[1]
    assert not code.claim and not code.supported and code.sources == ()
    assert "```rust\nlet built = 1899; // [2]\nlet v = a[0];\n```" in result.text
    assert "`[0]`" in result.sentences[0].text
    assert result.text.endswith("The line is 14 kilometres long [1].")


def test_names_with_digits_are_exact_values():
    passage = P(1, "Integer types default to i32. The plane was a Piper PA-22-150.")
    assert attribute("Integer types default to i32.", [passage]).sentences[0].supported
    assert attribute("Integer types default to i64.", [passage]).sentences[0].unsupported
    assert attribute("The plane was a Piper PA-31T.", [passage]).sentences[0].unsupported


def test_lead_ins_and_list_numbers_are_not_claims():
    answer = "Here is how the railway works:\n\n1. The line is 14 kilometres long.\n## Today\n2."
    result = attribute(answer, PASSAGES)
    lead_in, item = result.sentences[:2]
    assert not lead_in.claim
    assert item.supported and item.text.startswith("1. The line")
    assert result.sentences[-2].claim is False  # a heading
    assert result.sentences[-1].claim is False  # a bare "2."


def test_an_answer_statement_is_judged_with_the_question():
    # "cargo test" is in the passage, but not as what the question asks for.
    passage = P(
        1,
        "Just as cargo run compiles your code and runs it, cargo test compiles "
        "your code in test mode and runs the resulting test binary.",
    )
    question = "Which Cargo command checks that code compiles without producing an executable?"
    wrong = attribute("The correct answer is: `cargo test`", [passage], question=question)
    assert wrong.sentences[0].unsupported


def test_a_clause_of_the_models_own_makes_the_sentence_unsupported():
    # As SmolLM2 wrote it: a copied sentence with an invented ending.
    answer = (
        "The line is 14 kilometres long and has a gauge of 600 millimetres, which means "
        "it was built with a single track."
    )
    assert attribute(answer, PASSAGES, question="How long is the line?").sentences[0].unsupported


def test_a_number_written_with_its_unit_matches_the_passage():
    result = attribute("The line is 14km long with a gauge of 600mm.", PASSAGES)
    assert result.sentences[0].supported


def test_a_title_line_is_not_joined_to_the_sentence_after_it():
    text = "How to delete files in Desktop RAG\nYou can use the command rm to remove them."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "How to delete files in Desktop RAG",
        "You can use the command rm to remove them.",
    ]


def test_an_echo_of_the_question_is_not_a_claim():
    question = "When does the apple harvest usually start at Hollowmere?"
    result = attribute(f"Question: {question}", PASSAGES, question=question)
    assert not result.sentences[0].claim and not result.sentences[0].supported


def test_a_number_that_opens_a_sentence_is_not_taken_for_a_list_number():
    passage = P(1, "In all, 5 million tonnes of slate were carried.")
    result = attribute("1.5 million tonnes of slate were carried.", [passage])
    assert result.sentences[0].unsupported
