"""Point findings at their place: the Dockerfile's ``LABEL`` line, else the policy rule's line.

The commands call :func:`locate` once, so that reporters (SARIF, Code Quality, JUnit, GitHub
annotations) stay pure functions of the ``Report``.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
from pathlib import Path

from mb_ci.models import Finding, Report

MAX_DOCKERFILE_BYTES = 1024 * 1024


def default_dockerfile(root: str | os.PathLike[str] | None) -> str | None:
    """``Dockerfile`` at the checkout root, when there is one."""
    if root is None:
        return None
    candidate = Path(root) / "Dockerfile"
    return str(candidate) if candidate.is_file() else None


def label_lines(path: str | os.PathLike[str], target: str | None = None) -> dict[str, int]:
    """Label key -> 1-based line of the ``LABEL`` instruction that sets it (the last one wins)
    in the stage that is built: the last one, or ``target``.

    Uses the Dockerfile parser of ``mb_ci.dockerfile`` when the package has one, else a simple
    scan: instructions joined across ``\\`` continuations, comments skipped, both the
    ``key=value`` and the legacy ``LABEL key value`` forms.
    """
    try:
        from mb_ci.dockerfile import label_lines as parsed  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return _scan(path)
    try:
        return dict(parsed(path, target))
    except Exception:  # a parser failure must not lose the report; the scan is good enough
        return _scan(path)


def _scan(path: str | os.PathLike[str]) -> dict[str, int]:
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


def checkout_root(path: str | os.PathLike[str]) -> str | None:
    """The work tree ``path`` lies in: the nearest folder at or above it that holds ``.git``
    (a folder, or the file of a worktree or submodule). None outside any checkout."""
    here = Path(path).resolve().parent
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return str(folder)
    return None


def relative_to_checkout(path: str) -> str:
    """``path`` as code scanning, Code Quality and annotations resolve it: relative to the
    checkout's root, wherever the command runs from; as given outside any checkout."""
    return _relative(path, checkout_root(path))


def _relative(path: str, root: str | None) -> str:
    """``path`` relative to the checkout root, with ``/`` separators, when it lies inside it."""
    absolute = Path(path).resolve()
    if root:
        try:
            return absolute.relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return Path(path).as_posix() if not Path(path).is_absolute() else absolute.as_posix()


def locate(
    report: Report,
    dockerfile: str | None,
    policy: str | os.PathLike[str] | None = None,
    target: str | None = None,
) -> Report:
    """``report`` with ``dockerfile`` (relative to the checkout) and each finding's place.

    A finding about a label the Dockerfile sets points at that ``LABEL`` line. Otherwise a line
    the checks gave is the line of the policy rule (the checks never see a Dockerfile), so it
    points at ``policy``; a finding with neither names no line.
    """
    root = report.git.root if report.git else None
    path = dockerfile or default_dockerfile(root)
    lines = label_lines(path, target) if path is not None and Path(path).is_file() else {}
    rule_file = _relative(os.fspath(policy), root) if policy is not None else None
    findings = tuple(_place(f, lines, rule_file) for f in report.findings)
    if path is None:
        return dataclasses.replace(report, findings=findings)
    return dataclasses.replace(report, findings=findings, dockerfile=_relative(path, root))


def place(finding: Finding, report: Report) -> tuple[str | None, int | None]:
    """The file a reporter names for ``finding`` and the line in it (None: the whole file)."""
    path = finding.file or report.dockerfile
    return path, (finding.line if path else None)


def _place(finding: Finding, lines: dict[str, int], rule_file: str | None) -> Finding:
    if finding.file is not None:
        return finding
    if finding.label and finding.label in lines:
        return dataclasses.replace(finding, line=lines[finding.label])
    if finding.line is not None:
        if rule_file is None:
            return dataclasses.replace(finding, line=None)
        return dataclasses.replace(finding, file=rule_file)
    return finding
