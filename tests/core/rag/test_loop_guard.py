"""The loop guard on fixed strings: loops are found, ordinary answers are left alone."""

from __future__ import annotations

import pytest

from desktop_rag.core.rag.loop_guard import LoopGuard, find_loop


def _kept(text: str) -> str | None:
    cut = find_loop(text)
    return None if cut is None else text[:cut].rstrip()


def test_a_line_repeated_until_the_limit_keeps_its_first_copy():
    looped = "The answer to your question is: " * 12
    assert _kept(looped) == "The answer to your question is:"


def test_a_sentence_said_twice_in_a_row_is_cut_after_the_first():
    text = "Corrie was built in 1899. It runs on summer Sundays. It runs on summer Sundays."
    assert _kept(text) == "Corrie was built in 1899. It runs on summer Sundays."


def test_a_sentence_repeated_later_is_cut_where_the_repeat_starts():
    text = (
        "The orchard keeps 212 apple trees. It also has 38 pear trees.\n"
        "The orchard keeps 212 apple trees."
    )
    assert _kept(text) == "The orchard keeps 212 apple trees. It also has 38 pear trees."


def test_a_short_run_repeated_many_times_is_a_loop():
    assert _kept("It is fun! " + "ha " * 30) == "It is fun! ha"


@pytest.mark.parametrize(
    "text",
    [
        "The Tansy Valley Railway opened in 1902 to carry slate. The line is 14 km long.",
        "1. Open the file.\n2. Open the folder.\n3. Open the settings.",
        "Step 1: add the folder to the list.\nStep 2: add the folder to the index.",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "Yes. Yes. It is.",  # short sentences may repeat
        "x = [0, 0, 0, 0]",
    ],
)
def test_ordinary_answers_are_not_loops(text):
    assert find_loop(text) is None


def test_an_unfinished_sentence_is_not_compared_yet():
    # The repeat is only judged once the sentence ends: it may still go elsewhere.
    assert find_loop("The orchard keeps 212 apple trees. The orchard keeps 212 apple") is None


def test_the_guard_fed_token_by_token_stops_at_the_loop_and_stays_stopped():
    guard = LoopGuard()
    tokens = ("The", " answer", " to", " your", " question", " is", ":", " ") * 10
    fed = 0
    for token in tokens:
        fed += 1
        if guard.feed(token):
            break
    assert guard.kept == "The answer to your question is:"
    assert fed < 3 * 8  # caught by the third copy, not at the token limit
    assert guard.feed("more") is True
    assert guard.kept == "The answer to your question is:"


def test_the_guard_without_a_loop_keeps_everything():
    guard = LoopGuard()
    for token in ("Hollowmere", " keeps", " 212", " apple", " trees", " and", " 38", " pear"):
        assert guard.feed(token) is False
    assert guard.feed(" trees. ") is False
    assert guard.kept == "Hollowmere keeps 212 apple trees and 38 pear trees."


def test_a_loop_wrapped_at_different_places_is_still_a_loop():
    # As SmolLM2 wrote it: the same words, a line break each time at another place.
    text = "The Harvest usually starts at Hollowmere. The Harvest is a type of Harvest that " + (
        "is a type of Harvest that\nis a type of Harvest that is a type of Harvest that\n" * 6
    )
    assert (
        _kept(text)
        == "The Harvest usually starts at Hollowmere. The Harvest is a type of Harvest that"
    )


def test_a_lead_in_left_dangling_by_the_cut_is_dropped():
    guard = LoopGuard()
    for piece in ["It runs on purple quartz.", *[" The answer to your question is:"] * 5]:
        guard.feed(piece)
    assert guard.kept == "It runs on purple quartz."


def test_a_sentence_repeated_with_other_line_breaks_and_markers_is_a_loop():
    # As SmolLM2 wrote it (benchmarks/answer_quality.py, repeat penalty off).
    text = (
        "The Cargo.lock file contains the\nbinary contents of your project [2]. This binary is "
        "not a file, but a directory,\nand it is used to store the binary contents of your "
        "project.\n\nThe output of `cargo run` is a binary file [4][2]. This binary is not a "
        "file, but a directory, and it is used to\nstore the binary contents of your project."
    )
    kept = _kept(text)
    assert kept.endswith("The output of `cargo run` is a binary file [4][2].")


def test_list_items_repeated_under_new_numbers_are_a_loop():
    items = [
        "You can now delete deleted passages if you want to.",
        "You can also remove deleted passages from the folder.",
        "The app makes no network connections at all.",
    ]
    text = "\n".join(f"{n}. {items[(n - 1) % 3]}" for n in range(1, 8))
    assert _kept(text) == "\n".join(f"{n}. {items[n - 1]}" for n in range(1, 4))
