"""Which files and folders are never indexed. Pure: names and relative paths in, booleans out.

Built-in rules cover what nobody wants in their answers (hidden files, version control,
dependency and virtual-environment folders, caches, editor temp and lock files). User patterns
(`Settings.ignore_patterns`) follow .gitignore: `*.log` matches at any depth, a pattern with a
slash is anchored at the watched folder, a trailing `/` matches folders only, `**` crosses
folders and a leading `!` re-includes what an earlier pattern excluded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache

IGNORED_DIR_NAMES = frozenset(
    {
        "node_modules",
        "venv",
        "__pycache__",
        "site-packages",
        "$RECYCLE.BIN",
        "System Volume Information",
    }
)
# A folder holding this file is a Python virtual environment whatever its name.
VENV_MARKER = "pyvenv.cfg"
# Editor swap, backup, lock and partial-download files: written around a save, never content.
TEMP_FILE_GLOBS = ("~$*", "*.swp", "*.swo", "*.swx", ".#*", "*.tmp", "*.part", "*.crdownload", "*~")


def _is_hidden(name: str) -> bool:
    return name.startswith(".") and name not in {".", ".."}


def is_temp_name(name: str) -> bool:
    """Editor temp or lock file: the atomic-save dance writes these before the real file."""
    return any(fnmatchcase(name, glob) for glob in TEMP_FILE_GLOBS)


@lru_cache(maxsize=512)
def _compile(glob: str) -> re.Pattern[str]:
    """gitignore glob (already stripped of `!`, anchors and trailing `/`) to a regex."""
    out = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = glob.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = glob[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class Pattern:
    glob: str
    negated: bool
    dir_only: bool
    anchored: bool

    @classmethod
    def parse(cls, line: str) -> Pattern | None:
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        negated = text.startswith("!")
        if negated:
            text = text[1:]
        dir_only = text.endswith("/")
        text = text.rstrip("/")
        anchored = "/" in text
        text = text.lstrip("/")
        if not text:
            return None
        return cls(glob=text, negated=negated, dir_only=dir_only, anchored=anchored)

    def matches(self, rel_path: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        target = rel_path if self.anchored else rel_path.rsplit("/", 1)[-1]
        return _compile(self.glob).match(target) is not None


@dataclass(frozen=True)
class IgnoreRules:
    """Decide, for a path relative to a watched folder (POSIX separators), whether to skip it."""

    patterns: tuple[Pattern, ...] = field(default_factory=tuple)

    @classmethod
    def from_patterns(cls, lines: tuple[str, ...] | list[str] = ()) -> IgnoreRules:
        parsed = (Pattern.parse(line) for line in lines)
        return cls(patterns=tuple(p for p in parsed if p is not None))

    def ignores_name(self, name: str, is_dir: bool) -> bool:
        """Built-in rules, which look at one name only."""
        if _is_hidden(name):
            return True
        if is_dir:
            return name in IGNORED_DIR_NAMES
        return is_temp_name(name)

    def _user_ignores(self, rel_path: str, is_dir: bool) -> bool:
        ignored = False
        for pattern in self.patterns:
            if pattern.negated == ignored and pattern.matches(rel_path, is_dir):
                ignored = not pattern.negated
        return ignored

    def ignores_entry(self, rel_path: str, is_dir: bool) -> bool:
        """One entry met while walking: its parents were already let through."""
        name = rel_path.rsplit("/", 1)[-1]
        return self.ignores_name(name, is_dir) or self._user_ignores(rel_path, is_dir)

    def ignores(self, rel_path: str, is_dir: bool = False) -> bool:
        """Any path (e.g. from a watchdog event): ignored if it or any parent folder is."""
        parts = [p for p in rel_path.replace("\\", "/").split("/") if p and p != "."]
        for depth in range(1, len(parts) + 1):
            last = depth == len(parts)
            if self.ignores_entry("/".join(parts[:depth]), is_dir=is_dir if last else True):
                return True
        return False


def is_venv_dir(child_names: set[str] | frozenset[str]) -> bool:
    """A virtual environment is recognised by its marker file, whatever the folder is called."""
    return VENV_MARKER in child_names
