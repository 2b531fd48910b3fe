"""Where a Dockerfile sets each label, for report locations, even when the parser refuses it."""

from __future__ import annotations

import os
import shlex

MAX_DOCKERFILE_BYTES = 1024 * 1024


def label_lines(path: str | os.PathLike[str], target: str | None = None) -> dict[str, int]:
    """Label key -> 1-based line of the ``LABEL`` instruction that sets it (the last one wins).

    The parser's answer for the final stage (or ``target``, the stage ``--target`` builds);
    when it refuses the file (the report of an image built from it must still point
    somewhere), :func:`scan`'s.
    """
    from mb_ci.dockerfile.parse import DockerfileError
    from mb_ci.dockerfile.parse import label_lines as parsed

    try:
        return parsed(path, target)
    except DockerfileError:
        return scan(path)


def scan(path: str | os.PathLike[str]) -> dict[str, int]:
    """Every stage's ``LABEL`` lines, found without parsing: instructions joined across ``\\``
    continuations, comments skipped, both the ``key=value`` and the legacy ``LABEL key value``
    forms. Unreadable: none."""
    try:
        with open(path, "rb") as fh:
            text = fh.read(MAX_DOCKERFILE_BYTES).decode("utf-8", "replace")
    except OSError:
        return {}
    out: dict[str, int] = {}
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not parts and (not line or line.startswith("#")):
            continue
        if parts and line.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by the builder
        if not parts:
            start = number
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        _instruction(" ".join(parts), start, out)
        parts = []
    if parts:
        _instruction(" ".join(parts), start, out)
    return out


def _instruction(text: str, line: int, out: dict[str, int]) -> None:
    keyword, _, rest = text.partition(" ")
    if keyword.upper() != "LABEL":
        return
    try:
        words = shlex.split(rest, posix=True)
    except ValueError:
        return
    if words and "=" not in words[0]:
        out[words[0]] = line  # legacy form: LABEL key value with spaces
        return
    for word in words:
        key, sep, _ = word.partition("=")
        if sep and key:
            out[key] = line
