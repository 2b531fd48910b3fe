"""Point findings at their place: the Dockerfile's ``LABEL`` line, else the policy rule's line.

The commands call :func:`locate` once, so that reporters (SARIF, Code Quality, JUnit, GitHub
annotations) stay pure functions of the ``Report``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from mb_ci.dockerfile.scan import label_lines
from mb_ci.fsutil import find_checkout
from mb_ci.models import Finding, Report

__all__ = ["label_lines", "locate", "place", "relative_to_checkout"]


def default_dockerfile(root: str | os.PathLike[str] | None) -> str | None:
    """``Dockerfile`` at the checkout root, when there is one."""
    if root is None:
        return None
    candidate = Path(root) / "Dockerfile"
    return str(candidate) if candidate.is_file() else None


def checkout_root(path: str | os.PathLike[str]) -> str | None:
    """The work tree ``path`` lies in: the nearest folder at or above it that holds ``.git``
    (a folder, or the file of a worktree or submodule). None outside any checkout."""
    root = find_checkout(Path(path).resolve().parent)
    return str(root) if root is not None else None


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
