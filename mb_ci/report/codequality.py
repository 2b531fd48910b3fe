"""GitLab Code Quality JSON (a subset of Code Climate's): the merge request's quality widget."""

from __future__ import annotations

import hashlib
from typing import Any

from mb_ci.models import Finding, Report, Severity
from mb_ci.report import RenderOptions
from mb_ci.report.locations import place
from mb_ci.safety import json_dumps, safe

DEFAULT_PATH = "Dockerfile"
# GitLab's severities are info, minor, major, critical and blocker.
_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}
# a credential anyone who pulls the image can read is worse than a wrong label
_CRITICAL = {"label-credentials", "source-credentials"}


def severity(finding: Finding) -> str:
    if finding.check in _CRITICAL and finding.severity is Severity.ERROR:
        return "critical"
    return _SEVERITY.get(finding.severity, "info")


def fingerprint(finding: Finding, path: str, seen: dict[str, int]) -> str:
    """Stable across pipelines, so GitLab can tell new findings from fixed ones.

    Built from what the finding is about (check, label, platform, file), never from the values
    it quotes, which change with every commit; a repeat gets a counter to stay unique.
    """
    key = "\0".join([finding.check, finding.label or "", finding.platform or "", path])
    n = seen.get(key, 0)
    seen[key] = n + 1
    if n:
        key += f"\0{n}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _description(finding: Finding) -> str:
    text = (f"{safe(finding.label)}: " if finding.label else "") + safe(finding.message)
    if finding.platform:
        text += f" [{safe(finding.platform)}]"
    return text


def issues(report: Report) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    out = []
    for finding in report.findings:
        where, line = place(finding, report)
        path = where or DEFAULT_PATH
        line = line or 1
        out.append(
            {
                "type": "issue",
                "description": _description(finding),
                "check_name": finding.check,
                "categories": ["Security" if severity(finding) == "critical" else "Style"],
                "fingerprint": fingerprint(finding, path, seen),
                "severity": severity(finding),
                "location": {"path": path, "lines": {"begin": line}},
            }
        )
    return out


def render(report: Report, options: RenderOptions) -> str:
    return json_dumps(issues(report))
