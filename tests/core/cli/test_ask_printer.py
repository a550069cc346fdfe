"""`desktop-rag ask` streams the answer without the model's unchecked [n] markers."""

from desktop_rag.core.cli.answer import _StreamPrinter


def test_markers_are_left_out_even_when_split_across_tokens(capsys):
    printer = _StreamPrinter()
    tokens = ["The orchard keeps", " 212 trees [", "1", "]. It has [Source", " 2] pears."]
    for token in [*tokens, " Index a[0] stays [2][3]."]:
        printer(token)
    printer.flush()
    assert capsys.readouterr().out == "The orchard keeps 212 trees. It has pears. Index a[0] stays."


def test_a_bracket_that_never_closes_is_printed(capsys):
    printer = _StreamPrinter()
    printer("A list [unfinished and long enough to stop waiting for a bracket")
    assert capsys.readouterr().out.endswith("for a bracket")  # not held back for ever
