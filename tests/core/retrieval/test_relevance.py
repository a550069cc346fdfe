from desktop_rag.core.records import Hit
from desktop_rag.core.retrieval.relevance import DENSE_FLOOR, content_terms, relevant_hits


def hit(text: str, dense: float | None, keyword: float | None = None, path="/docs/a.md") -> Hit:
    return Hit("id", path, text, 0, len(text), 0.03, dense_score=dense, keyword_score=keyword)


def test_content_terms_drop_stop_words_and_plurals():
    assert content_terms("What do the Zorblax reactors run on?") == {"zorblax", "reactor", "run"}


def test_a_semantically_close_hit_is_relevant_without_shared_words():
    hits = [hit("The power plant burns purple quartz.", DENSE_FLOOR + 0.2)]
    assert relevant_hits("What fuels the Zorblax reactor?", hits) == hits


def test_a_shared_content_word_keeps_a_low_scoring_hit():
    hits = [hit("Maintenance log of the Zorblax unit.", 0.05)]
    assert relevant_hits("What fuels the Zorblax reactor?", hits) == hits


def test_unrelated_hits_are_dropped_even_with_bm25_on_stop_words():
    # BM25 > 0 only because "what" and "the" match: not evidence of relevance.
    hits = [hit("What the recipe needs: flour, eggs and the milk.", 0.08, keyword=1.3)]
    assert relevant_hits("What is the capital of France?", hits) == []


def test_keyword_only_hits_without_a_dense_score_are_judged_by_words():
    kept = hit("France has Paris as capital.", None, keyword=2.0)
    dropped = hit("Bananas are yellow.", None, keyword=0.4)
    assert relevant_hits("What is the capital of France?", [kept, dropped]) == [kept]


def test_hits_far_below_the_best_are_left_out_but_keyword_only_hits_stay():
    orchard = hit("The orchard keeps 212 apple trees.", 0.77, path="/d/orchard.txt")
    module_tree = hit("The module tree of a crate starts at src/lib.rs.", 0.27, path="/d/ch7.md")
    code = hit("Call fn plant_tree() to add one.", None, keyword=3.0, path="/d/garden.py")
    close = hit("Each apple tree is pruned in March.", 0.7, path="/d/pruning.md")
    kept = relevant_hits("How many apple trees?", [orchard, module_tree, close, code])
    assert kept == [orchard, close, code]
    everything = relevant_hits("How many apple trees?", [orchard, module_tree], margin=None)
    assert everything == [orchard, module_tree]


def test_other_passages_of_a_file_that_made_the_cut_stay_with_it():
    title = Hit("w1", "/d/welcome.md", "Welcome to Desktop RAG.", 0, 20, 0.03, dense_score=0.58)
    privacy = Hit(
        "w3", "/d/welcome.md", "Nothing leaves the computer.", 40, 70, 0.02, dense_score=0.40
    )
    other = Hit(
        "r1", "/d/rust.md", "Files are deleted with remove_file.", 0, 30, 0.02, dense_score=0.40
    )
    assert relevant_hits("Does anything leave my computer?", [title, other, privacy]) == [
        title,
        privacy,
    ]
