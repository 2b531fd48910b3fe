"""Read a Dockerfile with BuildKit's own parser and work out the labels its final stage carries.

Parsing is done by the PyPI package ``dockerfile``, which wraps the Go parser of moby/buildkit
(line continuations, heredocs, the ``escape`` directive, ``ONBUILD``). This module adds what the
engine does next: stages, ``ARG`` scope, ``ENV``, and quote removal and variable expansion of
``LABEL`` words (see :mod:`mb_ci.shellwords`). The result is plain facts for the checks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mb_ci.errors import InspectError, UsageError
from mb_ci.shellwords import UNKNOWN, Expansion, Unknown, WordError, expand

MAX_BYTES = 1024 * 1024
# BuildKit's own limit per physical line is 64 KiB; a logical instruction (lines joined by the
# escape character) is held to the same, since the Go parser's joining is quadratic.
MAX_INSTRUCTION = 64 * 1024
MAX_INSTRUCTIONS = 20_000
MAX_LABELS = 2_000  # key=value pairs over all LABEL instructions; images carry dozens
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*?)\s*$")


class DockerfileError(InspectError):
    """The Dockerfile cannot be read or parsed."""


@dataclass(frozen=True)
class Instruction:
    cmd: str
    line: int
    args: tuple[str, ...]
    onbuild: bool = False


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None
    base: str
    line: int
    instructions: tuple[Instruction, ...]


@dataclass(frozen=True)
class Dockerfile:
    path: str
    escape: str
    global_args: tuple[Instruction, ...]
    stages: tuple[Stage, ...]

    def declared_args(self) -> frozenset[str]:
        """Every ``ARG`` name the file declares, before or after ``FROM``."""
        found = {
            _arg_name(word)
            for ins in (*self.global_args, *(i for s in self.stages for i in s.instructions))
            if ins.cmd == "ARG" and not ins.onbuild
            for word in ins.args
        }
        return frozenset(found)


@dataclass(frozen=True)
class LabelFact:
    """One label of the final stage, as the engine will write it (or as far as can be known)."""

    key: str
    value: str
    line: int
    stage: str
    raw: str = ""
    onbuild: bool = False
    inherited: bool = False
    build_time: tuple[str, ...] = ()  # ARGs without a default: the value is set at build time
    global_only: tuple[str, ...] = ()  # ARGs declared before FROM only: they expand to ""
    undefined: tuple[str, ...] = ()  # variables declared nowhere: they expand to ""


@dataclass(frozen=True)
class FinalStage:
    """The final stage's labels and where to point at when one is missing."""

    path: str
    stage: str
    from_line: int
    last_label_line: int | None
    base: str | None  # the external image the stage chain starts from; None for scratch
    labels: Mapping[str, LabelFact] = field(default_factory=dict)

    @property
    def anchor_line(self) -> int:
        """The line a missing label is reported at: the last LABEL of the stage, else FROM."""
        return self.last_label_line or self.from_line


def read(path: str | os.PathLike[str]) -> Dockerfile:
    from mb_ci.fsutil import read_bounded_text

    name = os.fspath(path)
    text = read_bounded_text(
        name,
        MAX_BYTES,
        DockerfileError,
        missing_hint="give the path of a Dockerfile",
        too_big_hint="is this really a Dockerfile?",
    )
    return parse(text, name)


def parse(text: str, name: str = "Dockerfile") -> Dockerfile:
    try:
        import dockerfile
    except ImportError as e:  # a runtime dependency; only a broken install lacks it
        raise DockerfileError(
            "the Python package 'dockerfile' is missing", "pip install 'dockerfile>=3.3'"
        ) from e

    if "\0" in text:
        raise DockerfileError(f"{name}: contains NUL bytes", "is this really a Dockerfile?")
    escape = _escape_directive(text, name)
    _check_lengths(text, escape, name)
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as e:
        raise DockerfileError(f"{name}: {_first_line(str(e))}") from e
    return _structure(commands, escape, name)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["cannot parse"])[0][:300]


def _escape_directive(text: str, name: str) -> str:
    """The ``# escape=`` parser directive (only at the top, before any other line)."""
    escape = "\\"
    for line in text.splitlines():
        m = _DIRECTIVE.match(line)
        if not m:
            break
        if m.group(1).lower() == "escape":
            if m.group(2) not in ("\\", "`"):
                raise DockerfileError(
                    f"{name}: invalid escape directive '{m.group(2)[:20]}'", "use \\ or `"
                )
            escape = m.group(2)
    return escape


def _check_lengths(text: str, escape: str, name: str) -> None:
    run = start = 0
    for number, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_INSTRUCTION:
            raise DockerfileError(
                f"{name}:{number}: line longer than {MAX_INSTRUCTION // 1024} KiB",
                "is this really a Dockerfile?",
            )
        if run == 0:
            start = number
        run += len(line) + 1
        if run > MAX_INSTRUCTION:
            raise DockerfileError(
                f"{name}:{start}: instruction longer than {MAX_INSTRUCTION // 1024} KiB "
                "(too many continued lines)",
                "split it",
            )
        if not line.rstrip().endswith(escape):
            run = 0


def _structure(commands: Sequence[Any], escape: str, name: str) -> Dockerfile:
    global_args: list[Instruction] = []
    stages: list[Stage] = []
    current: list[Instruction] = []
    head: tuple[str | None, str, int] | None = None

    def close() -> None:
        if head is not None:
            stages.append(Stage(len(stages), head[0], head[1], head[2], tuple(current)))

    if len(commands) > MAX_INSTRUCTIONS:
        raise DockerfileError(
            f"{name}: more than {MAX_INSTRUCTIONS} instructions", "is this really a Dockerfile?"
        )
    for cmd in commands:
        kind = cmd.cmd.upper()
        if kind == "FROM":
            close()
            words = list(cmd.value)
            stage_name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
            head, current = (stage_name, words[0] if words else "", cmd.start_line), []
            continue
        onbuild = kind == "ONBUILD"
        if onbuild:
            kind = (cmd.sub_cmd or "").upper()
        ins = Instruction(kind, cmd.start_line, tuple(cmd.value), onbuild)
        if kind == "LABEL" and not ins.args:
            raise DockerfileError(f"{name}:{cmd.start_line}: LABEL requires at least one argument")
        if head is None:
            if kind == "ARG":
                global_args.append(ins)
            continue
        if kind in ("ARG", "ENV", "LABEL"):
            current.append(ins)
    close()
    if not stages:
        raise DockerfileError(f"{name}: no FROM instruction", "a Dockerfile starts with FROM")
    return Dockerfile(name, escape, tuple(global_args), tuple(stages))


def _arg_name(word: str) -> str:
    return word.split("=", 1)[0]


class _Scope:
    """The variables one stage (or the global scope before FROM) can expand."""

    def __init__(self, escape: str, env: Mapping[str, str | Unknown], globals_: Mapping[str, Any]):
        self.escape = escape
        self.env: dict[str, str | Unknown] = dict(env)
        self.args: dict[str, str | Unknown] = {}
        self.globals = globals_

    def lookup(self, name: str) -> str | Unknown | None:
        if name in self.env:  # ENV overrides an ARG of the same name
            return self.env[name]
        return self.args.get(name)

    def expand(self, word: str, where: str) -> Expansion:
        try:
            return expand(word, self.lookup, self.escape)
        except WordError as e:
            raise DockerfileError(f"{where}: {e}") from e

    def value(self, word: str, where: str) -> str | Unknown:
        out = self.expand(word, where)
        return UNKNOWN if out.unknown else out.text


def evaluate(df: Dockerfile, target: str | None = None) -> FinalStage:
    """The last stage's (or ``target``'s) labels, with those it inherits via ``FROM <stage>``."""
    stages = df.stages
    if target is not None:
        names = [s.name for s in stages]
        if target.lower() not in names:
            known = ", ".join(n for n in names if n) or "none"
            raise UsageError(f"--target {target}: no such stage in {df.path}", f"stages: {known}")
        stages = stages[: names.index(target.lower()) + 1]
    glob = _Scope(df.escape, {}, {})
    for ins in df.global_args:
        _arg(glob, ins, df.path)
    states: list[tuple[dict[str, str | Unknown], dict[str, LabelFact], str | None]] = []
    by_name: dict[str, int] = {}
    count = 0
    for stage in stages:
        base = glob.expand(stage.base, f"{df.path}:{stage.line}").text
        parent = by_name.get(base.lower())
        if parent is not None:
            env, inherited, root = states[parent]
            labels = {k: _inherit(v) for k, v in inherited.items()}
        else:
            env, labels, root = {}, {}, (None if base.lower() == "scratch" else base)
        scope = _Scope(df.escape, env, glob.args)
        label = stage.name or f"stage-{stage.index}"
        for ins in stage.instructions:
            where = f"{df.path}:{ins.line}"
            if ins.cmd == "ARG" and not ins.onbuild:
                _arg(scope, ins, df.path, glob.args)
            elif ins.cmd == "ENV" and not ins.onbuild:
                for key, word in _pairs(ins.args):
                    scope.env[key] = scope.value(word, where)
            elif ins.cmd == "LABEL":
                count += len(ins.args) // 2
                if count > MAX_LABELS:
                    raise DockerfileError(
                        f"{where}: more than {MAX_LABELS} labels", "is this really a Dockerfile?"
                    )
                for key_word, word in _pairs(ins.args):
                    fact = _label(scope, key_word, word, ins, label, where)
                    labels.pop(fact.key, None)  # a re-set key moves to its new line
                    labels[fact.key] = fact
        states.append((scope.env, labels, root))
        if stage.name:
            by_name[stage.name] = stage.index
    final = stages[-1]
    own = [i.line for i in final.instructions if i.cmd == "LABEL" and not i.onbuild]
    return FinalStage(
        path=df.path,
        stage=final.name or f"stage-{final.index}",
        from_line=final.line,
        last_label_line=max(own) if own else None,
        base=states[-1][2],
        labels=states[-1][1],
    )


def _inherit(fact: LabelFact) -> LabelFact:
    from dataclasses import replace

    return replace(fact, inherited=True)


def _pairs(args: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]


def _arg(
    scope: _Scope, ins: Instruction, path: str, globals_: Mapping[str, str | Unknown] | None = None
) -> None:
    for word in ins.args:
        name, eq, default = word.partition("=")
        if eq:
            value = scope.value(default, f"{path}:{ins.line}")
            # `ARG VCS_REF=""` is the idiom for "passed at build time", not a value
            scope.args[name] = UNKNOWN if value == "" else value
        elif globals_ is not None and name in globals_:
            scope.args[name] = globals_[name]  # re-declared: takes the global default
        else:
            scope.args[name] = UNKNOWN


def _label(
    scope: _Scope, key_word: str, word: str, ins: Instruction, stage: str, where: str
) -> LabelFact:
    key = scope.expand(key_word, where).text
    out = scope.expand(word, where)
    return LabelFact(
        key=key,
        value=out.text,
        line=ins.line,
        stage=stage,
        raw=word,
        onbuild=ins.onbuild,
        build_time=tuple(out.unknown),
        global_only=tuple(n for n in out.missing if n in scope.globals),
        undefined=tuple(n for n in out.missing if n not in scope.globals),
    )


def label_lines(path: str | os.PathLike[str]) -> dict[str, int]:
    """Label key -> 1-based line of the ``LABEL`` instruction that sets it in the final stage."""
    return {k: f.line for k, f in evaluate(read(path)).labels.items()}
