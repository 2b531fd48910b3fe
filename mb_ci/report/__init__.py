"""Reporters turn a ``Report`` into a string; they never print or write files themselves.

``REPORTERS`` is the one table of formats: ``--format``'s help, ``--report``'s check and the
Action's list are read from it. Each entry's function imports its module on first use, so
that ``mb-ci --version`` pays for none of them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from mb_ci.errors import UsageError
from mb_ci.models import Report


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    verbose: bool = False
    strict: bool = False
    # when and where the run happened, for JUnit's timestamp and hostname; the CLI fills them,
    # so that a reporter stays a pure function of its arguments
    now: dt.datetime | None = None
    hostname: str | None = None


Subject = TypeVar("Subject")


@dataclass(frozen=True)
class Reporter(Generic[Subject]):
    """A format: its name, the function that renders a subject (a ``Report``, the audit's
    result), and one line for the help."""

    name: str
    render: Callable[[Subject, RenderOptions], str]
    help: str


def _text(report: Report, options: RenderOptions) -> str:
    from mb_ci.report import text

    return text.render(report, options)


def _json(report: Report, options: RenderOptions) -> str:
    from mb_ci.report import json_report

    return json_report.render(report, options)


def _sarif(report: Report, options: RenderOptions) -> str:
    from mb_ci.report import sarif

    return sarif.render(report, options)


def _junit(report: Report, options: RenderOptions) -> str:
    from mb_ci.report import junit

    return junit.render(report, options)


def _codequality(report: Report, options: RenderOptions) -> str:
    from mb_ci.report import codequality

    return codequality.render(report, options)


def _github(report: Report, options: RenderOptions) -> str:
    from mb_ci.report import github

    return github.render(report, options)


def _html(report: Report, options: RenderOptions) -> str:
    from mb_ci.report import html

    return html.render(report, options)


def _markdown(report: Report, options: RenderOptions) -> str:
    from mb_ci.report import summary

    return summary.render(report, options)


REPORTERS: dict[str, Reporter[Report]] = {
    r.name: r
    for r in (
        Reporter("text", _text, "for people (default)"),
        Reporter("json", _json, "the mb-ci/report envelope"),
        Reporter("sarif", _sarif, "SARIF 2.1.0 for code scanning"),
        Reporter("junit", _junit, "JUnit XML for test dashboards"),
        Reporter("codequality", _codequality, "GitLab Code Quality"),
        Reporter("github", _github, "GitHub workflow annotations"),
        Reporter("html", _html, "one self-contained HTML page"),
        Reporter("markdown", _markdown, "the job summary's Markdown (a PR comment, a wiki)"),
    )
}
AUTO = "auto"


def names() -> list[str]:
    return [*REPORTERS, AUTO]


def format_help() -> str:
    """``--format``'s help, generated from the table."""
    listed = ", ".join(f"{n} (default)" if n == "text" else n for n in REPORTERS)
    return f"report format on stdout: {listed}, or {AUTO} ($MB_CI_FORMAT)"


def resolve(name: str, env: Mapping[str, str] | None = None) -> str:
    """``auto`` becomes ``github`` inside GitHub Actions (when available), else ``text``."""
    env = os.environ if env is None else env
    if name == AUTO:
        return "github" if env.get("GITHUB_ACTIONS") == "true" and "github" in REPORTERS else "text"
    if name not in REPORTERS:
        raise UsageError(f"unknown format '{name}'", f"choose one of {', '.join(names())}")
    return name


def render(report: Report, name: str, options: RenderOptions | None = None) -> str:
    return REPORTERS[resolve(name)].render(report, options or RenderOptions())
