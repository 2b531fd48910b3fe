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


# POSIX special parameters (lex.go isSpecialParam): the builder never sets them, nor positional
# parameters ($1, ${10}): they expand to an empty string
SPECIAL = frozenset("@*#?-$!0")


def is_parameter(name: str) -> bool:
    """Whether ``name`` is a special or positional shell parameter rather than a variable."""
    return bool(name) and (name in SPECIAL or name[0].isdigit())


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

    def until(self, stop: str | None, depth: int, raw: bool = False) -> str:
        """Up to ``stop`` (consumed). ``raw`` keeps escape characters, as lex.go does for the
        patterns of ``${VAR#pattern}``, ``${VAR%pattern}`` and ``${VAR/pattern/string}``."""
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
                piece = self._double(depth, raw)
            elif ch == "$":
                piece = self._dollar(depth)
            elif ch == self.escape:
                self.pos += 1
                piece = (ch if raw else "") + self._next()
            else:
                piece = self._next()
            out.append(piece)
            size += len(piece)
            if size > MAX_EXPANSION:  # ENV chains can double a value per line
                raise WordError(f"value longer than {MAX_EXPANSION // 1024} KiB once expanded")
        if stop is not None:
            raise WordError(f"syntax error: missing '{stop}'")
        return "".join(out)

    def _single(self) -> str:
        end = self.word.find("'", self.pos + 1)
        if end < 0:
            raise WordError("unexpected end of statement while looking for matching single-quote")
        text = self.word[self.pos + 1 : end]
        self.pos = end + 1
        return text

    def _double(self, depth: int, raw: bool = False) -> str:
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
                if raw:
                    out.append(ch)
                nxt = self._peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", self.escape):
                    ch = self._next()
            out.append(ch)

    def _name(self) -> str:
        start = self.pos
        first = self._peek()
        if first.isdigit():
            while self._peek().isdigit():
                self.pos += 1
            return self.word[start : self.pos]
        if first and first in SPECIAL:
            self.pos += 1
            return first
        while self._peek() and (self._peek().isalnum() or self._peek() == "_"):
            self.pos += 1
        return self.word[start : self.pos]

    def _get(self, name: str) -> str | Unknown | None:
        """The variable's value; a special or positional parameter is never set."""
        return None if is_parameter(name) else self.lookup(name)

    def _value(self, name: str) -> str | Unknown | None:
        value = self._get(name)
        if isinstance(value, Unknown):
            if name not in self.unknown:
                self.unknown.append(name)
        elif value is None and name not in self.missing:
            self.missing.append(name)
        return value

    def _dollar(self, depth: int) -> str:
        """``$NAME`` or ``${...}``, as lex.go's processDollar reads it."""
        start = self.pos
        self.pos += 1
        if self._peek() != "{":
            name = self._name()
            if not name:
                return "$"
            return self._show(self._value(name), start)
        self.pos += 1
        if not self._peek():
            raise WordError("syntax error: missing '}'")
        if self._peek() in ("{", "}", ":"):
            raise WordError("syntax error: bad substitution")
        name = self._name()
        op = self._next()
        if op == "}":
            return self._show(self._value(name), start)
        if op == "/":
            return self._replace(name, start, depth)
        if op == ":":
            op += self._next()
            if op in (":#", ":%"):
                raise WordError(f"unsupported modifier ({op}) in substitution")
        if op not in (":-", ":+", ":?", "-", "+", "?", "#", "%"):
            if op in (":", ""):
                raise WordError("syntax error: missing '}'")
            self.until("}", depth + 1)  # lex.go reads the word first: its errors come first
            raise WordError(f"unsupported modifier ({op}) in substitution")
        marks = len(self.unknown), len(self.missing)
        word = self.until("}", depth + 1, raw=op in ("#", "%"))
        inner = self.unknown[marks[0] :], self.missing[marks[1] :]
        del self.unknown[marks[0] :], self.missing[marks[1] :]
        value = self._get(name)
        if isinstance(value, Unknown) or (op in ("#", "%") and inner[0]):
            self._value(name)
            self._merge(inner)
            return self.word[start : self.pos]
        if op in ("#", "%"):
            self._value(name)  # an unset variable is as likely a bug here as in $NAME
            self._merge(inner)
            return _trim(word, value or "", suffix=op == "%")
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
        if not is_set:
            raise WordError(f"{name}: {word or 'is not allowed to be unset'}")
        if op == ":?" and not non_empty:
            raise WordError(f"{name}: {word or 'is not allowed to be empty'}")
        return str(value)

    def _replace(self, name: str, start: int, depth: int) -> str:
        """``${VAR/pattern/string}`` (first match) and ``${VAR//pattern/string}`` (all)."""
        every = self._peek() == "/"
        if every:
            self.pos += 1
        known = len(self.unknown)
        pattern = self.until("/", depth + 1, raw=True)
        replacement = self.until("}", depth + 1, raw=True)
        value = self._value(name) or ""
        # Go's ReplaceAllString reads $1 and ${name} in the replacement as template references
        if isinstance(value, Unknown) or "$" in replacement or self.unknown[known:]:
            if name not in self.unknown:
                self.unknown.append(name)
            return self.word[start : self.pos]
        return _replace(pattern, value, replacement, every)

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


class _Glob:
    """A shell pattern of lex.go (``*``, ``?``, ``\\`` escapes, no ``[]``) as a bit-parallel
    automaton: time linear in the value whatever the pattern, where a backtracking regular
    expression (Python's ``re``) takes ages on ``*a*a*a*b``; Go's regexp, which BuildKit uses,
    is linear too. Bit ``j`` of a state set: the first ``j`` tokens matched."""

    def __init__(self, pattern: str) -> None:
        tokens: list[str | None] = []  # a character, or None for `?` and `*`
        stars: list[bool] = []  # which tokens are `*`
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            i += 1
            if ch == "\\":
                nxt = pattern[i] if i < len(pattern) else ""
                if nxt in ("}", "/"):
                    continue  # escaped so as not to end the ${...}; not the pattern's
                if nxt not in ("*", "?", "\\"):
                    raise WordError(f"invalid pattern ({pattern}) in substitution")
                i += 1
                tokens.append(nxt)
                stars.append(False)
            elif ch == "*":
                if not (stars and stars[-1]):  # `**` is `*`
                    tokens.append(None)
                    stars.append(True)
            else:
                tokens.append(None if ch == "?" else ch)
                stars.append(False)
        self.accept = 1 << len(tokens)
        self.any = self.loop = self.eps = 0
        self.chars: dict[str, int] = {}
        for j, (token, star) in enumerate(zip(tokens, stars, strict=True)):
            if star:
                self.eps |= 1 << j  # a star may match nothing: state j is also state j + 1
                self.loop |= 1 << (j + 1)  # and then any number of characters
            elif token is None:
                self.any |= 1 << j
            else:
                self.chars[token] = self.chars.get(token, 0) | 1 << j
        self.start = self._close(1)

    def _close(self, states: int) -> int:
        return states | (states & self.eps) << 1

    def step(self, states: int, ch: str) -> int:
        if ch == "\n":  # lex.go's `.` and `.*` do not match a newline (Go's regexp default)
            return self._close((states & self.chars.get(ch, 0)) << 1)
        moved = (states & (self.chars.get(ch, 0) | self.any)) << 1
        return self._close(moved | states & self.loop)

    def match_end(self, value: str, start: int, longest: bool) -> int | None:
        """The end of the shortest (or longest) match that starts at ``start``."""
        states, found = self.start, None
        if states & self.accept:
            found = start
            if not longest:
                return found
        for i in range(start, len(value)):
            states = self.step(states, value[i])
            if not states:
                break
            if states & self.accept:
                found = i + 1
                if not longest:
                    break
        return found

    def starts_reversed(self, value: str) -> list[int]:
        """As the reversed pattern, run backwards over ``value``: every position of ``value``
        where a match of the forward pattern starts, ascending."""
        n = len(value)
        found: list[int] = []
        states = 0
        for q in range(n + 1):
            states |= self.start  # a match may end anywhere: start afresh at each position
            if states & self.accept:
                found.append(n - q)
            if q < n:
                states = self.step(states, value[n - 1 - q])
        return found[::-1]


def _replace(pattern: str, value: str, replacement: str, every: bool) -> str:
    """Go's ``ReplaceAllString`` of lex.go's unanchored, greedy pattern (or its first match):
    leftmost start, longest end there; an empty match right after a match is not replaced."""
    glob = _Glob(pattern)
    starts = _Glob(_reverse_pattern(pattern)).starts_reversed(value)
    out: list[str] = []
    last = search = 0
    for start in starts:
        if start < search:
            continue
        end = glob.match_end(value, start, longest=True)
        if end is None:
            continue
        out.append(value[last:start])
        if end > last or start == 0:
            out.append(replacement)
        last = end
        search = end if end > start else start + 1
        if not every:
            break
    return "".join(out) + value[last:]


def _trim(pattern: str, value: str, suffix: bool) -> str:
    """``${VAR#pattern}`` / ``${VAR##pattern}`` (prefix), ``${VAR%pattern}`` / ``%%`` (suffix)."""
    greedy = pattern[:1] == ("%" if suffix else "#")
    if greedy:
        pattern = pattern[1:]
    if suffix:  # lex.go reverses both to find the shortest (or longest) match at the end
        pattern, value = _reverse_pattern(pattern), value[::-1]
    end = _Glob(pattern).match_end(value, 0, longest=greedy)
    rest = value[end:] if end is not None else value
    return rest[::-1] if suffix else rest


def _reverse_pattern(pattern: str) -> str:
    """lex.go reversePattern: reversed, an escape kept in front of the character it escapes."""
    pieces: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            pieces.append(pattern[i : i + 2])
            i += 2
        else:
            pieces.append(pattern[i])
            i += 1
    return "".join(reversed(pieces))
