from __future__ import annotations

import pytest

from desktop_rag.core.ingest.ignore import IgnoreRules, is_temp_name, is_venv_dir


@pytest.mark.parametrize(
    ("path", "is_dir"),
    [
        (".git", True),
        ("src/.git/config", False),
        ("node_modules", True),
        ("web/node_modules/react/index.md", False),
        (".venv", True),
        ("venv/lib/site.md", False),
        ("pkg/__pycache__/mod.txt", False),
        (".hidden.md", False),
        ("docs/.obsidian/notes.md", False),
        ("~$report.docx", False),
        ("notes.txt.swp", False),
        (".notes.txt.swp", False),
        (".#notes.txt", False),
        ("x.txt.tmp", False),
        ("movie.part", False),
        ("notes.txt~", False),
    ],
)
def test_builtin_rules_ignore(path: str, is_dir: bool) -> None:
    assert IgnoreRules().ignores(path, is_dir)


@pytest.mark.parametrize(
    "path",
    ["notes.txt", "docs/guide.md", "a/b/c/report.pdf", "tmp/file.txt", "venvs.md", "git/x.md"],
)
def test_builtin_rules_keep(path: str) -> None:
    assert not IgnoreRules().ignores(path)


def test_temp_names() -> None:
    assert is_temp_name("~$budget.xlsx")
    assert is_temp_name("draft.md~")
    assert not is_temp_name("draft.md")


def test_venv_detected_by_marker_whatever_its_name() -> None:
    assert is_venv_dir(frozenset({"pyvenv.cfg", "bin", "lib"}))
    assert not is_venv_dir(frozenset({"bin", "lib"}))


def test_user_patterns_basename_at_any_depth() -> None:
    rules = IgnoreRules.from_patterns(["*.log", "# a comment", ""])
    assert rules.ignores("app.log")
    assert rules.ignores("deep/down/app.log")
    assert not rules.ignores("app.log.md")


def test_user_patterns_anchored_and_dir_only() -> None:
    rules = IgnoreRules.from_patterns(["/drafts", "build/", "docs/private/*.md"])
    assert rules.ignores("drafts/a.md")
    assert not rules.ignores("notes/drafts/a.md")  # anchored at the watched folder
    assert rules.ignores("x/build/out.md")  # any folder named build
    assert not rules.ignores("x/build")  # ...but a file named build is kept
    assert rules.ignores("docs/private/secret.md")
    assert not rules.ignores("docs/private/deeper/secret.md")  # `*` stops at a slash


def test_double_star_and_negation() -> None:
    rules = IgnoreRules.from_patterns(["archive/**/*.txt", "*.md", "!keep.md"])
    assert rules.ignores("archive/2020/01/a.txt")
    assert rules.ignores("archive/a.txt")
    assert rules.ignores("notes/a.md")
    assert not rules.ignores("notes/keep.md")  # the last matching pattern wins


def test_character_class() -> None:
    rules = IgnoreRules.from_patterns(["draft[0-9].md", "v[!a].txt"])
    assert rules.ignores("draft7.md")
    assert not rules.ignores("draftx.md")
    assert rules.ignores("vb.txt")
    assert not rules.ignores("va.txt")


def test_ignored_parent_hides_children_even_if_reincluded() -> None:
    rules = IgnoreRules.from_patterns(["private/", "!private/ok.md"])
    assert rules.ignores("private/ok.md")  # as in git: a file inside an excluded folder stays out


def test_windows_separators_in_event_paths() -> None:
    assert IgnoreRules().ignores("proj\\node_modules\\x.md")
