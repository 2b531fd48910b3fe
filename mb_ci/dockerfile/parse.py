"""Read a Dockerfile with BuildKit's own parser and work out the labels its final stage carries.

Parsing is done by the PyPI package ``dockerfile``, which wraps the Go parser of moby/buildkit
(line continuations, heredocs, the ``escape`` directive, ``ONBUILD``). This module adds what the
engine does next: stages, ``ARG`` scope, ``ENV``, and quote removal and variable expansion of
``LABEL`` words (see :mod:`mb_ci.dockerfile.words`). The result is plain facts for the checks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as dataclasses_replace
from functools import lru_cache
from typing import Any

from mb_ci.dockerfile.words import UNKNOWN, Expansion, Unknown, WordError, expand
from mb_ci.errors import InspectError, UsageError

MAX_BYTES = 1024 * 1024
# BuildKit's own limit per physical line is 64 KiB; a logical instruction (lines joined by the
# escape character) is held to the same, since the Go parser's joining is quadratic.
MAX_INSTRUCTION = 64 * 1024
MAX_INSTRUCTIONS = 20_000
MAX_LABELS = 2_000  # key=value pairs over all LABEL instructions; images carry dozens
# characters the ENV and ARG values of the evaluated stages hold in all: each value is held to
# 64 KiB, but 19,000 `ENV Cn=x$BIG` lines in a 300 KB file made 1.2 GB of them
MAX_VARIABLES = 4 * 1024 * 1024
# BuildKit's parser directives (frontend/dockerfile/parser/directives.go): leading whitespace is
# allowed; the block ends at the first line that is not a known directive (a blank line, any
# other comment, an unknown directive, an instruction)
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*([A-Za-z][A-Za-z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_DIRECTIVES = frozenset({"escape", "syntax", "check"})
# the instructions both builders know; any other word fails the build ("unknown instruction")
INSTRUCTIONS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
        "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
        "WORKDIR",
    }
)  # fmt: skip
_NOT_TRIGGERS = frozenset({"ONBUILD", "FROM", "MAINTAINER"})


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
    # the line of the first byte that is not UTF-8, when the file is not: the engine reads
    # bytes, and its image config turns each such byte into U+FFFD, as this reading does
    not_utf8_line: int | None = None

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
    from_base: tuple[str, ...] = ()  # declared nowhere, but the base image may set them (ENV)
    global_only: tuple[str, ...] = ()  # ARGs declared before FROM only: they expand to ""
    undefined: tuple[str, ...] = ()  # variables declared nowhere: they expand to ""
    # ARGs whose default the value took: a build without --build-arg keeps it
    defaults: tuple[str, ...] = ()


@dataclass(frozen=True)
class FinalStage:
    """The final stage's labels and where to point at when one is missing."""

    path: str
    stage: str
    from_line: int
    last_label_line: int | None
    base: str | None  # the external image the stage chain starts from; None for scratch
    labels: Mapping[str, LabelFact] = field(default_factory=dict)
    # ONBUILD LABEL of the final stage: key -> line; labels of child images, not of this one
    onbuild: Mapping[str, int] = field(default_factory=dict)
    not_utf8_line: int | None = None

    @property
    def anchor_line(self) -> int:
        """The line a missing label is reported at: the last LABEL of the stage, else FROM."""
        return self.last_label_line or self.from_line


def read(path: str | os.PathLike[str]) -> Dockerfile:
    """Read the file as the engine does: bytes, a UTF-8 byte-order mark dropped.

    Neither builder decodes the Dockerfile: a Latin-1 file builds, and the image config (JSON,
    written by Go) carries U+FFFD for every byte that is not UTF-8. Decoding with ``replace``
    gives the very label values the engine writes; ``not_utf8_line`` lets the checks warn.
    """
    from dataclasses import replace

    from mb_ci.fsutil import read_bounded

    name = os.fspath(path)
    raw = read_bounded(
        name,
        MAX_BYTES,
        DockerfileError,
        missing_hint="give the path of a Dockerfile",
        too_big_hint="is this really a Dockerfile?",
    )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DockerfileError(
            f"{name}: UTF-16, not UTF-8: the engine cannot read it", "save it as UTF-8"
        )
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return parse(raw.decode("utf-8"), name)
    except UnicodeDecodeError as e:
        parsed = parse(raw.decode("utf-8", "replace"), name)
        return replace(parsed, not_utf8_line=raw.count(b"\n", 0, e.start) + 1)


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
    """The ``# escape=`` parser directive, read from the directive block at the top."""
    escape = "\\"
    seen: set[str] = set()
    for line in text.splitlines():
        m = _DIRECTIVE.match(line)
        directive = m.group(1).lower() if m else None
        if m is None or directive not in _DIRECTIVES:
            break
        if directive in seen:
            raise DockerfileError(
                f"{name}: only one {directive} parser directive can be used", "remove the other"
            )
        seen.add(directive)
        if directive == "escape":
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
    early: tuple[str, int] | None = None  # the first instruction before FROM that is not ARG

    def close() -> None:
        if head is not None:
            stages.append(Stage(len(stages), head[0], head[1], head[2], tuple(current)))

    if len(commands) > MAX_INSTRUCTIONS:
        raise DockerfileError(
            f"{name}: more than {MAX_INSTRUCTIONS} instructions", "is this really a Dockerfile?"
        )
    for cmd in commands:
        kind = _kind(cmd, name)
        if kind == "FROM":
            close()
            words = list(cmd.value)
            stage_name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
            head, current = (stage_name, words[0] if words else "", cmd.start_line), []
            continue
        onbuild = kind == "ONBUILD"
        if onbuild:
            kind = _trigger(cmd, name)
        ins = Instruction(kind, cmd.start_line, tuple(cmd.value), onbuild)
        if kind == "LABEL" and not ins.args:
            raise DockerfileError(f"{name}:{cmd.start_line}: LABEL requires at least one argument")
        if head is None:
            if kind != "ARG" or onbuild:
                early = early or ("ONBUILD" if onbuild else kind, cmd.start_line)
            else:
                global_args.append(ins)
            continue
        if kind in ("ARG", "ENV", "LABEL"):
            current.append(ins)
    close()
    if not stages:
        raise DockerfileError(f"{name}: no FROM instruction", "a Dockerfile starts with FROM")
    if early is not None:
        raise DockerfileError(
            f"{name}:{early[1]}: {early[0]} before the first FROM: the engine refuses the file "
            "(no build stage in current context)",
            "only ARG may come before FROM",
        )
    return Dockerfile(name, escape, tuple(global_args), tuple(stages))


def _kind(cmd: Any, name: str) -> str:
    """The instruction's keyword, or the engine's "unknown instruction" error."""
    import difflib

    kind = str(cmd.cmd or "").upper()
    if kind in INSTRUCTIONS:
        return kind
    if not kind:  # a line that is only the escape character, then a blank line or the end
        hint = "an escape character at the end continues into nothing: remove it"
    else:
        near = difflib.get_close_matches(kind, sorted(INSTRUCTIONS), n=1)
        hint = f"did you mean {near[0]}?" if near else "the engine refuses it too"
    raise DockerfileError(f"{name}:{cmd.start_line}: unknown instruction: {kind[:40]}", hint)


def _trigger(cmd: Any, name: str) -> str:
    """The instruction an ``ONBUILD`` holds; BuildKit refuses an empty or a chained one."""
    kind = str(cmd.sub_cmd or "").upper()
    if not kind:
        raise DockerfileError(f"{name}:{cmd.start_line}: ONBUILD requires at least one argument")
    if kind in _NOT_TRIGGERS:
        raise DockerfileError(
            f"{name}:{cmd.start_line}: {kind} isn't allowed as an ONBUILD trigger",
            "the engine refuses it too",
        )
    return kind


def _arg_name(word: str) -> str:
    return word.split("=", 1)[0]


class _Scope:
    """The variables one stage (or the global scope before FROM) can expand."""

    def __init__(
        self,
        escape: str,
        env: Mapping[str, str | Unknown],
        globals_: Mapping[str, Any],
        held: list[int] | None = None,
    ):
        self.escape = escape
        self.env: dict[str, str | Unknown] = dict(env)
        self.args: dict[str, str | Unknown] = {}
        self.globals = globals_
        self.held = held if held is not None else [0]  # shared by the scopes of one file

    def hold(self, value: str | Unknown, where: str) -> str | Unknown:
        """``value``, counted against ``MAX_VARIABLES``."""
        if isinstance(value, str):
            self.held[0] += len(value)
            if self.held[0] > MAX_VARIABLES:
                raise DockerfileError(
                    f"{where}: ENV and ARG values hold more than "
                    f"{MAX_VARIABLES // (1024 * 1024)} MiB once expanded",
                    "is this really a Dockerfile?",
                )
        return value

    external = False  # the stage chain starts from an image, whose ENV is not visible here

    def declared(self, name: str) -> str | Unknown | None:
        if name in self.env:  # ENV overrides an ARG of the same name
            return self.env[name]
        return self.args.get(name)

    def lookup(self, name: str) -> str | Unknown | None:
        found = self.declared(name)
        if found is None and self.external and name not in self.globals:
            return UNKNOWN  # maybe an ENV of the base image: known after the build only
        return found

    def expand(self, word: str, where: str) -> Expansion:
        try:
            return expand(word, self.lookup, self.escape)
        except WordError as e:
            raise DockerfileError(f"{where}: {e}") from e

    def value(self, word: str, where: str) -> str | Unknown:
        out = self.expand(word, where)
        return UNKNOWN if out.unknown else out.text


def evaluate(df: Dockerfile, target: str | None = None) -> FinalStage:
    """The last stage's (or ``target``'s) labels, with those it inherits via ``FROM <stage>``.

    Only the chain of stages the final one is built ``FROM`` can give it labels, so only that
    chain is evaluated, and each stage hands its variables and labels on to the next without a
    copy: linear in the size of the file, however many stages it chains.
    """
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
    from_scope = _from_scope(glob)
    parents: list[int | None] = []
    by_name: dict[str, int] = {}
    for stage in stages:
        base = _from_image(from_scope, stage, df.path)
        parents.append(by_name.get(base.lower()))
        if stage.name:
            by_name[stage.name] = stage.index
    chain = [len(stages) - 1]
    while (parent := parents[chain[-1]]) is not None:
        chain.append(parent)
    chain.reverse()
    first_base = _from_image(from_scope, stages[chain[0]], df.path)
    root = None if first_base.lower() == "scratch" else first_base
    # BuildKit's automatic platform ARGs are global ones: a stage sees them after `ARG NAME`
    # only, and then as the build's target platform (unknown here)
    stage_globals = {**{k: UNKNOWN for k in _platform_args()}, **glob.args}
    env: dict[str, str | Unknown] = {}
    labels: dict[str, LabelFact] = {}
    triggers: tuple[Instruction, ...] = ()
    count = 0
    for index in chain:
        stage = stages[index]
        scope = _Scope(df.escape, {}, stage_globals, glob.held)
        scope.env = env  # handed on from the parent stage, not copied
        scope.external = root is not None
        label = stage.name or f"stage-{stage.index}"
        # the classic builder runs the parent stage's ONBUILD triggers at this FROM (docker
        # build, engine 20.10); the parent's own labels stay, its triggers are used up
        for ins in (*triggers, *(i for i in stage.instructions if not i.onbuild)):
            where = f"{df.path}:{ins.line}"
            if ins.cmd == "ARG":
                _arg(scope, ins, df.path, stage_globals)
            elif ins.cmd == "ENV":
                # every word of one ENV is expanded with the variables from before it, in
                # both builders: `ENV A=2 B=$A` gives B the old A (the Dockerfile reference)
                values = [
                    (scope.expand(key, where).text, scope.hold(scope.value(word, where), where))
                    for key, word in _pairs(ins.args)
                ]
                scope.env.update(values)
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
        triggers = tuple(i for i in stage.instructions if i.onbuild)
        env = scope.env
    final = stages[-1]
    final_label = final.name or f"stage-{final.index}"
    own = [i.line for i in final.instructions if i.cmd == "LABEL" and not i.onbuild]
    onbuild = {
        key: ins.line for ins in triggers if ins.cmd == "LABEL" for key, _ in _pairs(ins.args)
    }
    return FinalStage(
        path=df.path,
        stage=final_label,
        from_line=final.line,
        last_label_line=max(own) if own else None,
        base=root,
        labels={
            k: (dataclasses_replace(v, inherited=True) if v.stage != final_label else v)
            for k, v in labels.items()
        },
        onbuild=onbuild,
        not_utf8_line=df.not_utf8_line,
    )


# BuildKit's automatic platform ARGs (the Dockerfile reference, "Automatic platform ARGs in the
# global scope")
PLATFORM_ARGS = frozenset(
    f"{side}{key}" for side in ("TARGET", "BUILD") for key in ("OS", "ARCH", "VARIANT", "PLATFORM")
)


@lru_cache(maxsize=1)
def _platform_args() -> dict[str, str]:
    """BuildKit's automatic platform ARGs, for ``FROM`` lines: this machine's Linux platform.

    ``FROM app-$TARGETOS`` picks a stage by the target platform (BuildKit sets these ARGs in the
    global scope without a declaration); ``docker build`` without ``--platform`` targets the
    engine's own platform. Inside a stage they stay unknown until the build.
    """
    import platform

    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(
        machine, machine or "amd64"
    )
    variant = "v7" if arch == "arm" else ""
    name = "/".join(p for p in ("linux", arch, variant) if p)
    values = {"OS": "linux", "ARCH": arch, "VARIANT": variant, "PLATFORM": name}
    return {f"{side}{key}": v for side in ("TARGET", "BUILD") for key, v in values.items()}


def _from_scope(glob: _Scope) -> _Scope:
    """What a ``FROM`` line can expand: the global ARGs and the platform ARGs."""
    platform = {k: v for k, v in _platform_args().items() if glob.args.get(k, UNKNOWN) is UNKNOWN}
    scope = _Scope(glob.escape, {}, {})
    scope.args = {**glob.args, **platform}
    return scope


def _from_image(scope: _Scope, stage: Stage, path: str) -> str:
    """The image (or stage) a ``FROM`` names."""
    return scope.expand(stage.base, f"{path}:{stage.line}").text


def _pairs(args: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]


def _arg(
    scope: _Scope, ins: Instruction, path: str, globals_: Mapping[str, str | Unknown] | None = None
) -> None:
    for word in ins.args:
        name, eq, default = word.partition("=")
        if eq:
            value = scope.hold(scope.value(default, f"{path}:{ins.line}"), f"{path}:{ins.line}")
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
    declared = [n for n in out.unknown if scope.declared(n) is not None]
    return LabelFact(
        key=key,
        value=out.text,
        line=ins.line,
        stage=stage,
        raw=word,
        onbuild=ins.onbuild,
        build_time=tuple(declared),
        from_base=tuple(n for n in out.unknown if n not in declared),
        global_only=tuple(n for n in out.missing if n in scope.globals),
        undefined=tuple(n for n in out.missing if n not in scope.globals),
        defaults=tuple(
            n
            for n in dict.fromkeys(_VARIABLE.findall(word))
            if n not in scope.env and isinstance(scope.args.get(n), str)
        ),
    )


# a variable reference in a word, $NAME or ${NAME...}: only to name the ARGs a value came from
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]{0,254})")


def label_lines(path: str | os.PathLike[str], target: str | None = None) -> dict[str, int]:
    """Label key -> 1-based line of the ``LABEL`` instruction that sets it in the final stage
    (or in ``target``, the stage ``--target`` builds)."""
    return {k: f.line for k, f in evaluate(read(path), target).labels.items()}
