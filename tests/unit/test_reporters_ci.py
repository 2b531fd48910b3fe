"""The reports CI systems read: SARIF 2.1.0, JUnit XML, GitLab Code Quality, GitHub annotations."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from helpers import schemas
from helpers.goldens import assert_golden

from mb_ci.dockerfile.scan import scan as _scan
from mb_ci.models import Finding, GitFacts, ImageFacts, PlatformFacts, Report, Severity
from mb_ci.report import RenderOptions, render, resolve
from mb_ci.report import github as gh
from mb_ci.report.locations import label_lines, locate
from mb_ci.report.summary import md
from mb_ci.report.summary import render as summary

REV = "org.opencontainers.image.revision"
HOSTILE = "x%0A\n::set-output name=result::pass\r\n::add-mask::y [a](javascript:alert(1)) <b>|@all"
DOCKERFILE = """\
FROM scratch
# a comment
LABEL org.opencontainers.image.title="widget" \\
      org.opencontainers.image.revision="abc"
COPY x /x
label maintainer "Someone Else"
LABEL "com.example.quoted"='v'
"""


def _git() -> GitFacts:
    return GitFacts(
        root="/w", head="a" * 40, commit_time=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    )


def report(
    findings: tuple[Finding, ...] = (),
    platforms: tuple[str | None, ...] = (None,),
    dockerfile: str | None = "Dockerfile",
    checked: tuple[str, ...] = ("label-required", "revision-matches-head"),
) -> Report:
    image = ImageFacts(
        reference="app:1",
        transport="docker-daemon",
        platforms=tuple(PlatformFacts(p, {REV: HOSTILE}) for p in platforms),
    )
    return Report(
        command="check",
        subject="app:1",
        findings=findings,
        image=image,
        git=_git(),
        matched_commit=None,
        checked=checked,
        dockerfile=dockerfile,
    )


def mismatch(label: str = REV, line: int | None = 4, platform: str | None = None) -> Finding:
    return Finding(
        "revision-matches-head",
        Severity.ERROR,
        "the revision is not the commit CI built",
        label=label,
        expected="a" * 40,
        actual=HOSTILE,
        platform=platform,
        line=line,
    )


def missing(label: str = "org.opencontainers.image.source") -> Finding:
    return Finding("label-required", Severity.ERROR, "required label is missing", label=label)


WARN = Finding("revision-dirty", Severity.WARNING, "dirty work tree", label=REV)
OPTS = RenderOptions()


# --- SARIF -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator():
    return schemas.sarif_validator()


@pytest.mark.parametrize(
    "findings",
    [(), (mismatch(), missing(), WARN), (mismatch(line=None),)],
    ids=["clean", "findings", "no-line"],
)
def test_sarif_validates_against_the_official_schema(sarif_validator, findings):
    doc = json.loads(render(report(findings), "sarif"))
    errors = sorted(sarif_validator.iter_errors(doc), key=str)
    assert not errors, errors[0]
    assert doc["version"] == "2.1.0"


def test_sarif_rules_come_from_the_catalog_and_results_point_at_the_label_line():
    from mb_ci.catalog import CHECKS

    doc = json.loads(render(report((mismatch(), missing())), "sarif"))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CHECKS)
    first = run["results"][0]
    assert rules[first["ruleIndex"]]["id"] == "revision-matches-head"
    assert rules[first["ruleIndex"]]["help"]["text"] == CHECKS["revision-matches-head"].help
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "Dockerfile"
    assert location["region"] == {"startLine": 4}
    # no line known: the Dockerfile itself
    assert "region" not in run["results"][1]["locations"][0]["physicalLocation"]
    assert first["level"] == "error"


def test_sarif_message_escapes_links_and_controls():
    doc = json.loads(render(report((mismatch(),)), "sarif"))
    text = doc["runs"][0]["results"][0]["message"]["text"]
    assert "\n" not in text and "\r" not in text
    assert "[a](" not in text and "\\[a\\]" in text


def test_sarif_fingerprint_ignores_quoted_values():
    a = json.loads(render(report((mismatch(),)), "sarif"))["runs"][0]["results"][0]
    other = Finding(**{**mismatch().as_dict(), "severity": Severity.ERROR, "actual": "b" * 40})
    b = json.loads(render(report((other,)), "sarif"))["runs"][0]["results"][0]
    assert a["partialFingerprints"] == b["partialFingerprints"]


# --- JUnit -----------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_check_per_platform():
    findings = (mismatch(platform="linux/arm64"), WARN)
    text = render(report(findings, platforms=("linux/amd64", "linux/arm64")), "junit")
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name").rsplit("[", 1)[1] for s in suites] == [
        "linux/amd64]",
        "linux/arm64]",
        "all platforms]",
    ]
    amd, arm = suites[0], suites[1]
    assert [c.get("name") for c in amd.findall("testcase")] == [
        "label-required",
        "revision-matches-head",
    ]
    assert amd.get("failures") == "0"
    failing = arm.find("testcase[@name='revision-matches-head']")
    assert failing is not None and failing.find("failure") is not None
    assert failing.get("classname") == "mb-ci.linux/arm64"
    assert arm.get("failures") == "1"
    # the XSD gives <testsuites> no attributes: consumers add the suites up
    assert root.attrib == {}
    assert [s.get("id") for s in suites] == ["0", "1", "2"]


def test_junit_is_well_formed_with_hostile_values_and_warnings_pass_unless_strict():
    text = render(report((mismatch(label="k\x00\x1b[31m"), WARN)), "junit")
    root = ET.fromstring(text.encode())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert "\x1b" not in text and "\x00" not in text
    assert cases["revision-dirty"].find("failure") is None
    # the XSD allows no system-out in a test case: a passing finding is in the suite's
    assert "revision-dirty: [warning] dirty work tree" in root.find("testsuite/system-out").text
    strict = ET.fromstring(render(report((WARN,)), "junit", RenderOptions(strict=True)).encode())
    assert strict.find(".//testcase[@name='revision-dirty']/failure") is not None


# --- GitLab Code Quality ---------------------------------------------------------------------


def test_codequality_has_gitlab_fields_and_stable_unique_fingerprints():
    findings = (mismatch(), missing(), missing(), WARN)
    issues = json.loads(render(report(findings), "codequality"))
    assert len(issues) == 4
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["path"] == "Dockerfile"
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == 4
    assert [i["severity"] for i in issues] == ["major", "major", "major", "minor"]
    assert issues[0]["location"]["lines"]["begin"] == 4
    again = json.loads(render(report(findings), "codequality"))
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]


def test_codequality_credentials_are_critical():
    leak = Finding("label-credentials", Severity.ERROR, "holds a credential", label="x")
    assert json.loads(render(report((leak,)), "codequality"))[0]["severity"] == "critical"


# --- GitHub annotations ----------------------------------------------------------------------


def test_github_escaping_follows_the_runner():
    assert gh.escape_data("a%b\r\nc") == "a%25b%0D%0Ac"
    assert gh.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = gh.command("error", {"file": "a,b:c", "line": 3, "title": None}, "m::x")
    assert line == "::error file=a%2Cb%3Ac,line=3::m::x"


def test_github_annotations_cannot_start_another_command():
    text = render(report((mismatch(),)), "github")
    lines = text.splitlines()
    assert lines[0].startswith("::error file=Dockerfile,line=4,title=mb-ci revision-matches-head::")
    assert len(lines) == 2  # the annotation and the summary line: the value added no line
    assert not lines[1].lstrip().startswith("::")
    assert "%0A" in lines[0] and "%250A" in lines[0]  # newline escaped; the literal %0A too


def test_github_summarises_beyond_ten_annotations_per_type():
    findings = tuple(missing(f"k{i}") for i in range(15)) + (WARN,)
    lines = render(report(findings), "github").splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == gh.ANNOTATION_LIMIT
    assert "6 more error findings" in errors[-1]
    assert len([line for line in lines if line.startswith("::warning")]) == 1


def test_auto_picks_github_inside_actions():
    assert resolve("auto", {"GITHUB_ACTIONS": "true"}) == "github"
    assert resolve("auto", {}) == "text"


# --- Markdown summary ------------------------------------------------------------------------


def test_summary_escapes_markdown_and_html():
    text = summary(report((mismatch(),)), OPTS)
    for raw in ("[a](", "<b>", "@all", "javascript:", "\r", "::set-output"):
        assert raw not in text
    assert "&#91;a&#93;" in text
    row = next(line for line in text.splitlines() if "revision-matches-head" in line)
    assert row.count("|") == 6  # a value's | cannot add a cell
    assert md("a|b") == "a&#124;b"


# --- Dockerfile locations --------------------------------------------------------------------


def test_label_lines_scan_and_parser(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    expected = {
        "org.opencontainers.image.title": 3,
        "org.opencontainers.image.revision": 3,
        "maintainer": 6,
        "com.example.quoted": 7,
    }
    assert _scan(path) == expected
    parsed = label_lines(path)
    assert parsed[REV] == 3 and parsed["com.example.quoted"] == 7


def test_locate_sets_lines_and_a_checkout_relative_path(tmp_path):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    git = GitFacts(root=str(tmp_path), head="a" * 40, commit_time=_git().commit_time)
    base = Report("check", "app:1", (mismatch(line=None), missing()), git=git)
    located = locate(base, None)
    assert located.dockerfile == "Dockerfile"
    assert [f.line for f in located.findings] == [3, None]
    assert locate(Report("check", "x", (), git=None), None).dockerfile is None


# --- golden files: the exact output of each reporter ------------------------------------------

EXTENSIONS = {"sarif": "sarif", "junit": "xml", "codequality": "json", "github": "txt"}


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
def test_reporter_golden(fmt, monkeypatch):
    import mb_ci.report.sarif

    monkeypatch.setattr(mb_ci.report.sarif, "__version__", "0.0.0")  # not tied to the release
    findings = (mismatch(), missing(), WARN, mismatch(platform="linux/arm64", line=None))
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    options = RenderOptions(now=when, hostname="runner-1")
    text = render(report(findings, platforms=("linux/amd64", "linux/arm64")), fmt, options)
    assert_golden(text, "ci", f"report.{EXTENSIONS[fmt]}")


def test_summary_golden():
    text = summary(report((mismatch(), missing(), WARN)), OPTS)
    assert_golden(text, "ci", "summary.md")
