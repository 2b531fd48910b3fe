"""SARIF 2.1.0 for code scanning: one rule per check id, results at the Dockerfile's LABEL line."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from mb_ci import __version__
from mb_ci.catalog import CHECKS, CheckInfo
from mb_ci.models import Finding, Report, Severity
from mb_ci.report import RenderOptions
from mb_ci.report.locations import place
from mb_ci.report.tiers import finding_tier
from mb_ci.safety import json_dumps, printable, redact

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
DEFAULT_LOCATION = "Dockerfile"
SRCROOT = "%SRCROOT%"
_REPOSITORY_SCHEMES = {"https", "http", "ssh", "git"}
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_SECURITY = {"label-credentials", "source-credentials"}


def text(value: str | None, limit: int | None = 1000) -> str:
    """A hostile value as SARIF plain text: redacted, controls escaped, and brackets escaped.

    SARIF 2.1.0 §3.11.6: ``[text](n)`` in a message is an embedded link, so literal ``[``, ``]``
    and ``\\`` are escaped with a backslash.
    """
    out = printable(redact(value or ""), limit)
    return out.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _name(check_id: str) -> str:
    return "".join(part.capitalize() for part in check_id.split("-"))


def rule(info: CheckInfo) -> dict[str, Any]:
    tags = ["provenance", "container"]
    if info.id in _SECURITY:
        tags.append("security")
    return {
        "id": info.id,
        "name": _name(info.id),
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.help},
        "help": {"text": info.help, "markdown": f"**{info.summary}**\n\n{info.help}"},
        "defaultConfiguration": {"level": _LEVEL.get(info.severity, "none")},
        "properties": {"tags": tags, "precision": "very-high"},
    }


def fingerprint(finding: Finding, path: str, seen: dict[str, int] | None = None) -> str:
    """Stable across runs: what the finding is about, never the values it quotes.

    Code scanning merges results of one run that share a fingerprint into one alert, so a
    repeat (two undefined variables in one label) gets a counter, as in Code Quality.
    """
    key = "\0".join([finding.check, finding.label or "", finding.platform or "", path])
    if seen is not None:
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n:
            key += f"\0{n}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _message(finding: Finding) -> str:
    out = (f"{text(finding.label, 200)}: " if finding.label else "") + text(finding.message)
    if finding.expected is not None:
        out += f" (expected: {text(finding.expected, 300)}"
        out += f"; actual: {text(finding.actual, 300)})" if finding.actual is not None else ")"
    elif finding.actual is not None:
        out += f" (actual: {text(finding.actual, 300)})"
    return out


def artifact_location(path: str) -> dict[str, Any]:
    """SARIF §3.4.3: a URI. A path relative to the checkout is a relative reference (each
    segment percent-encoded: spaces, ``%``, ``#``, non-ASCII as UTF-8) against ``%SRCROOT%``; an
    absolute path (a file outside the checkout) is a ``file:`` URI."""
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return {"uri": "file://" + quote(posix.as_posix(), safe="/")}
    return {"uri": quote(posix.as_posix(), safe="/"), "uriBaseId": SRCROOT}


def repository_uri(url: str | None) -> str | None:
    """``versionControlProvenance.repositoryUri``: an absolute URI of a remote repository, never
    a path on this machine (a local remote normalises to its path)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in _REPOSITORY_SCHEMES or not parts.netloc:
        return None
    return quote(url, safe=":/@[]%?=&+,;~!$'()*")


def result(
    finding: Finding,
    report: Report,
    rule_index: dict[str, int],
    seen: dict[str, int] | None = None,
) -> dict[str, Any]:
    where, line = place(finding, report)
    path = where or DEFAULT_LOCATION
    physical: dict[str, Any] = {"artifactLocation": artifact_location(path)}
    if line:
        physical["region"] = {"startLine": line}
    out: dict[str, Any] = {
        "ruleId": finding.check,
        "level": _LEVEL.get(finding.severity, "none"),
        "message": {"text": _message(finding)},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"mbCiFinding/v1": fingerprint(finding, path, seen)},
    }
    if finding.check in rule_index:
        out["ruleIndex"] = rule_index[finding.check]
    props = {
        key: printable(redact(value), 1000)
        for key, value in (
            ("label", finding.label),
            ("platform", finding.platform),
            ("expected", finding.expected),
            ("actual", finding.actual),
            ("tier", finding_tier(finding, report)),
        )
        if value is not None
    }
    if props:
        out["properties"] = props
    return out


def document(report: Report, options: RenderOptions) -> dict[str, Any]:
    rules = [rule(info) for info in CHECKS.values()]
    rule_index = {r["id"]: i for i, r in enumerate(rules)}
    seen: dict[str, int] = {}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "mb-ci",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"mb-ci/{report.command}/"},
        "invocations": [
            {
                "executionSuccessful": True,
                "properties": {
                    "subject": printable(redact(report.subject), 500),
                    "result": "pass" if report.passed(options.strict) else "fail",
                    "matchedCommit": report.matched_commit,
                },
            }
        ],
        "results": [result(f, report, rule_index, seen) for f in report.findings],
    }
    repository = repository_uri(report.git.remote_normalized) if report.git else None
    if report.git is not None and repository is not None:
        run["versionControlProvenance"] = [
            {
                "repositoryUri": repository,
                "revisionId": report.git.head,
                **({"branch": report.git.branch} if report.git.branch else {}),
            }
        ]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, options: RenderOptions) -> str:
    return json_dumps(document(report, options))
