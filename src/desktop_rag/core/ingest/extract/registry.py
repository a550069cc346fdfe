"""Which loader reads which file: by suffix, plus a few well-known extensionless names."""

from __future__ import annotations

from pathlib import Path

MARKDOWN = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mdx"})
TEXT = frozenset({".txt", ".text", ".log", ".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".yaml",
                  ".yml", ".toml", ".ini", ".cfg", ".conf", ".properties", ".xml", ".tex",
                  ".bib", ".srt", ".vtt", ".org", ".adoc", ".asciidoc"})  # fmt: skip
CODE = frozenset({".py", ".pyi", ".pyw", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".java",
                  ".kt", ".kts", ".scala", ".groovy", ".gradle", ".c", ".h", ".cc", ".cpp", ".cxx",
                  ".hpp", ".hh", ".hxx", ".m", ".mm", ".cs", ".fs", ".vb", ".go", ".rs", ".rb",
                  ".php", ".pl", ".pm", ".lua", ".r", ".jl", ".swift", ".dart", ".ex", ".exs",
                  ".erl", ".hs", ".ml", ".clj", ".el", ".lisp", ".scm", ".sh", ".bash", ".zsh",
                  ".fish", ".ps1", ".bat", ".cmd", ".sql", ".css", ".scss", ".sass", ".less",
                  ".vue", ".svelte", ".proto", ".graphql", ".cmake", ".mk", ".nix", ".tf"
                  })  # fmt: skip
BY_SUFFIX: dict[str, str] = {
    **dict.fromkeys(TEXT, "text"),
    **dict.fromkeys(CODE, "code"),
    **dict.fromkeys(MARKDOWN, "markdown"),
    ".rst": "rst",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".pdf": "pdf",
}
# Compared case-insensitively; the stem matters ("README" also covers "readme").
BY_NAME: dict[str, str] = {
    **dict.fromkeys(("readme", "license", "licence", "copying", "authors", "contributors",
                     "changelog", "changes", "news", "history", "notice", "todo", "install"),
                    "text"),
    **dict.fromkeys(("makefile", "gnumakefile", "dockerfile", "containerfile", "jenkinsfile",
                     "vagrantfile", "gemfile", "rakefile", "procfile", "justfile"),
                    "code"),
}  # fmt: skip
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(BY_SUFFIX)


def kind_of(path: Path) -> str | None:
    """The loader kind for `path`, or None when no loader reads it."""
    suffix = path.suffix.lower()
    if suffix in BY_SUFFIX:
        return BY_SUFFIX[suffix]
    if not suffix:
        return BY_NAME.get(path.name.lower())
    return None
