"""BuildKit's rules for one Dockerfile word: quotes, escapes and ``$VAR`` / ``${VAR:-word}``.

The Go parser splits a ``LABEL`` into raw words; BuildKit then runs each word through its shell
lexer (moby/buildkit frontend/dockerfile/shell/lex.go). This module follows that lexer so a label
value reads here as the engine will write it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class WordError(ValueError):
    """The word cannot be expanded (BuildKit fails the build the same way)."""


class Unknown:
    """A variable whose value is only known at build time (an ``ARG`` without a default)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()
# name -> value, UNKNOWN (set at build time), or None (not in scope: expands to "")
Lookup = Callable[[str], "str | Unknown | None"]
MAX_EXPANSION = 64 * 1024
_MAX_DEPTH = 32


@dataclass
class Expansion:
    """The word with quotes removed and variables expanded.

    ``unknown`` names variables set at build time; their ``${...}`` text is kept in ``text``.
    ``missing`` names variables that were not in scope and expanded to nothing.
    """

    text: str
    unknown: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def expand(word: str, lookup: Lookup, escape: str = "\\") -> Expansion:
    if not any(c in word for c in ("$", "'", '"', escape)):
        if len(word) > MAX_EXPANSION:
            raise WordError(f"value longer than {MAX_EXPANSION // 1024} KiB")
        return Expansion(word)
    lexer = _Lexer(word, lookup, escape)
    return Expansion(lexer.until(None, 0), lexer.unknown, lexer.missing)


class _Lexer:
    def __init__(self, word: str, lookup: Lookup, escape: str) -> None:
        self.word, self.lookup, self.escape = word, lookup, escape
        self.pos = 0
        self.unknown: list[str] = []
        self.missing: list[str] = []

    def _peek(self) -> str:
        return self.word[self.pos] if self.pos < len(self.word) else ""

    def _next(self) -> str:
        ch = self._peek()
        self.pos += 1
        return ch

    def until(self, stop: str | None, depth: int) -> str:
        if depth > _MAX_DEPTH:
            raise WordError("variables nested too deeply")
        out: list[str] = []
        size = 0
        while self.pos < len(self.word):
            ch = self._peek()
            if stop is not None and ch == stop:
                self.pos += 1
                return "".join(out)
            if ch == "'":
                piece = self._single()
            elif ch == '"':
                piece = self._double(depth)
            elif ch == "$":
                piece = self._dollar(depth)
            elif ch == self.escape:
                self.pos += 1
                piece = self._next()
            else:
                piece = self._next()
            out.append(piece)
            size += len(piece)
            if size > MAX_EXPANSION:  # ENV chains can double a value per line
                raise WordError(f"value longer than {MAX_EXPANSION // 1024} KiB once expanded")
        if stop is not None:
            raise WordError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out)

    def _single(self) -> str:
        end = self.word.find("'", self.pos + 1)
        if end < 0:
            raise WordError("unexpected end of statement while looking for matching single-quote")
        text = self.word[self.pos + 1 : end]
        self.pos = end + 1
        return text

    def _double(self, depth: int) -> str:
        self.pos += 1
        out: list[str] = []
        while True:
            ch = self._peek()
            if not ch:
                raise WordError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self._dollar(depth))
                continue
            self.pos += 1
            if ch == self.escape:
                nxt = self._peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", self.escape):
                    ch = self._next()
            out.append(ch)

    def _name(self) -> str:
        start = self.pos
        if self._peek().isdigit():
            while self._peek().isdigit():
                self.pos += 1
            return self.word[start : self.pos]
        while self._peek() and (self._peek().isalnum() or self._peek() == "_"):
            self.pos += 1
        return self.word[start : self.pos]

    def _value(self, name: str) -> str | Unknown | None:
        value = self.lookup(name)
        if isinstance(value, Unknown):
            if name not in self.unknown:
                self.unknown.append(name)
        elif value is None and name not in self.missing:
            self.missing.append(name)
        return value

    def _dollar(self, depth: int) -> str:
        start = self.pos
        self.pos += 1
        if self._peek() != "{":
            name = self._name()
            if not name:
                return "$"
            return self._show(self._value(name), start)
        self.pos += 1
        if self._peek() in ("", "{", "}", ":"):
            raise WordError("syntax error: bad substitution")
        name = self._name()
        op = self._next()
        if op == "}":
            return self._show(self._value(name), start)
        if op == ":":
            op += self._next()
        if op not in (":-", ":+", ":?", "-", "+", "?"):
            # pattern operators (#, %, /): real, but their result cannot be judged here
            self.until("}", depth + 1)
            if name not in self.unknown:
                self.unknown.append(name)
            return self.word[start : self.pos]
        marks = len(self.unknown), len(self.missing)
        word = self.until("}", depth + 1)
        inner = self.unknown[marks[0] :], self.missing[marks[1] :]
        del self.unknown[marks[0] :], self.missing[marks[1] :]
        value = self.lookup(name)
        if isinstance(value, Unknown):
            self._value(name)
            return self.word[start : self.pos]
        is_set, non_empty = value is not None, bool(value)
        if op in (":-", "-", ":+", "+"):
            # a default or an alternative was given: an unset variable is not a bug here
            if op in (":-", "-"):
                use_word = not non_empty if op == ":-" else not is_set
            else:
                use_word = non_empty if op == ":+" else is_set
            if use_word:
                self._merge(inner)
                return word
            return str(value) if op in (":-", "-") else ""
        if (op == ":?" and not non_empty) or (op == "?" and not is_set):
            raise WordError(f"{name}: {word or 'is not allowed to be empty'}")
        return str(value)

    def _merge(self, inner: tuple[list[str], list[str]]) -> None:
        for name in inner[0]:
            if name not in self.unknown:
                self.unknown.append(name)
        for name in inner[1]:
            if name not in self.missing:
                self.missing.append(name)

    def _show(self, value: str | Unknown | None, start: int) -> str:
        if isinstance(value, Unknown):
            return self.word[start : self.pos]
        return value or ""
