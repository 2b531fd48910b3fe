"""Every reporter in the table, and the job summary, over in-memory reports.

The exact output of each format is pinned elsewhere (``test_report_text_json.py`` for text and
JSON, the goldens in ``test_reporters_ci.py`` for the CI formats); here every format meets the
same reports, among them one finding of every check in the catalogue, and must stay a pure,
deterministic function of its arguments that says every check it was given.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from helpers.clock import FIXED
from helpers.facts import (
    REVISION,
    SOURCE_KEY,
    finding,
    image,
    platform,
    report,
    truthful_labels,
)
from helpers.schemas import junit_schema, sarif_validator

from mb_ci import report as reporters
from mb_ci.catalog import CHECKS
from mb_ci.models import Report, Severity
from mb_ci.report import RenderOptions
from mb_ci.report import summary as job_summary

FORMATS = [name for name in reporters.names() if name != "auto"]
OPTIONS = RenderOptions(now=FIXED, hostname="runner-1")


def every_check() -> Report:
    """One finding of each check in the catalogue, at its default severity."""
    return report(
        tuple(
            finding(check, label=SOURCE_KEY if check.startswith(("label", "source")) else REVISION)
            for check in CHECKS
        )
    )


REPORTS = {
    "clean": lambda: report(),
    "one-error": lambda: report((finding("revision-matches-head", label=REVISION),)),
    "warning-only": lambda: report((finding("revision-dirty", label=REVISION),)),
    "every-check": every_check,
    "multi-platform": lambda: report(
        (
            finding("platforms-agree", label=REVISION),
            finding("revision-matches-head", label=REVISION, platform="linux/arm64"),
        ),
        image=image(
            platforms=(
                platform(truthful_labels(), "linux/amd64"),
                platform(truthful_labels(), "linux/arm64"),
            )
        ),
    ),
    "no-git": lambda: report((finding("revision-not-sha", label=REVISION),), git=None),
    "dockerfile": lambda: report(
        (finding("dockerfile-undefined-var", label="com.example.v", line=3),),
        command="lint-dockerfile",
        subject="Dockerfile",
        image=None,
        git=None,
        dockerfile="Dockerfile",
    ),
}


def test_the_table_holds_the_formats_the_readme_promises():
    """The README's `--format` row names exactly the formats of the table, and `auto`."""
    import re

    from helpers.paths import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [row] = [line for line in readme.splitlines() if line.startswith("| `--format FORMAT` |")]
    promised = re.findall(r"`([a-z]+)`", row.split("|")[2])
    assert promised == [*FORMATS, "auto"]


@pytest.mark.parametrize("name", list(REPORTS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_renders_deterministically(fmt, name):
    first = reporters.render(REPORTS[name](), fmt, OPTIONS)
    assert first == reporters.render(REPORTS[name](), fmt, OPTIONS)
    assert isinstance(first, str)
    if fmt != "github" or REPORTS[name]().findings:
        assert first.strip()


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("name", list(REPORTS))
def test_machine_formats_are_valid(name, strict):
    options = RenderOptions(now=FIXED, hostname="runner-1", strict=strict)
    subject = REPORTS[name]()
    json.loads(reporters.render(subject, "json", options))
    sarif = json.loads(reporters.render(subject, "sarif", options))
    assert not list(sarif_validator().iter_errors(sarif))
    junit = reporters.render(subject, "junit", options)
    assert not list(junit_schema().iter_errors(ET.fromstring(junit.encode())))
    quality = json.loads(reporters.render(subject, "codequality", options))
    assert len(quality) == len(subject.findings)


def test_every_check_reaches_every_format():
    subject = every_check()
    rendered = {fmt: reporters.render(subject, fmt, OPTIONS) for fmt in FORMATS}
    envelope = json.loads(rendered["json"])
    assert {f["check"] for f in envelope["findings"]} == set(CHECKS)
    sarif = json.loads(rendered["sarif"])
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == set(CHECKS)
    assert {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]} >= set(CHECKS)
    quality = json.loads(rendered["codequality"])
    assert {i["check_name"] for i in quality} == set(CHECKS)
    # github is left out: the runner shows ten annotations per type, so the rest are summarised
    for fmt in ("text", "junit"):
        missing = [check for check in CHECKS if check not in rendered[fmt]]
        assert not missing, f"{fmt} does not name {missing}"


@pytest.mark.parametrize("name", list(REPORTS))
def test_json_result_follows_the_findings(name):
    subject = REPORTS[name]()
    envelope = json.loads(reporters.render(subject, "json", OPTIONS))
    assert envelope["result"] == ("pass" if subject.passed() else "fail")
    errors = sum(1 for f in subject.findings if f.severity is Severity.ERROR)
    assert envelope["summary"]["errors"] == errors


@pytest.mark.parametrize("name", list(REPORTS))
def test_summary_says_the_verdict(name):
    subject = REPORTS[name]()
    text = job_summary.render(subject, OPTIONS)
    assert text.startswith(f"### mb-ci {subject.command}: ")
    assert ("✅ passed" in text) is subject.passed()


def test_auto_is_text_outside_github_actions_and_github_inside():
    assert reporters.resolve("auto", {}) == "text"
    assert reporters.resolve("auto", {"GITHUB_ACTIONS": "true"}) == "github"
