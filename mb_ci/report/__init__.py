"""Reporters turn a ``Report`` into a string; they never print or write files themselves."""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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


Renderer = Callable[[Report, RenderOptions], str]

# format name -> module under mb_ci.report that defines ``render(report, options) -> str``
REPORTER_BY_NAME: dict[str, str] = {
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "junit": "junit",
    "codequality": "codequality",
    "github": "github",
}


def names() -> list[str]:
    return [*REPORTER_BY_NAME, "auto"]


def resolve(name: str, env: Mapping[str, str] | None = None) -> str:
    """``auto`` becomes ``github`` inside GitHub Actions (when available), else ``text``."""
    env = os.environ if env is None else env
    if name == "auto":
        return (
            "github"
            if env.get("GITHUB_ACTIONS") == "true" and "github" in REPORTER_BY_NAME
            else "text"
        )
    if name not in REPORTER_BY_NAME:
        raise UsageError(f"unknown format '{name}'", f"choose one of {', '.join(names())}")
    return name


def render(report: Report, name: str, options: RenderOptions | None = None) -> str:
    module = importlib.import_module(f"mb_ci.report.{REPORTER_BY_NAME[resolve(name)]}")
    renderer: Renderer = module.render
    return renderer(report, options or RenderOptions())
