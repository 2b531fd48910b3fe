"""One image whose labels (and one key) are hostile, through every output channel of mb-ci.

Terminal control and bidi characters, CR/LF and %-escapes, GitHub workflow commands, Markdown and
HTML, XML breakers, CSV formulas, a credential, a token and a 100 KB value: each report, badge,
audit and Action channel must carry them inert, redacted and bounded.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from helpers import schemas
from helpers.cli import run_mbci
from helpers.env import clean_env
from helpers.git import Repo, new_repo
from helpers.runner import parse_github_output, workflow_commands

OCI = "org.opencontainers.image."
LS = "org.label-schema."
PASSWORD = "s3cretPASS"
TOKEN = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8"  # 36 characters after the prefix
HOSTILE_KEY = 'evil::key<img src=x onerror=alert(1)>|`&"%0A'
BIG = 100_000
MAX_OUTPUT = 1_000_000
IMG = "<img src=x onerror=alert(1)>"
JS = "](javascript:alert(1))"

# raw characters no terminal line may carry: C0 but LF, DEL, C1, bidi and line separators
TERMINAL_BAD = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)
XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
TRACEBACK = "Traceback (most recent call last)"

POLICY = f"""\
version: 1
strict: true
labels:
  {OCI}description:
    pattern: "[a-z ]+"
badges:
  max-length: 200
"""


def hostile_labels(head: str) -> dict[str, str]:
    return {
        OCI + "revision": head,
        OCI + "source": "@SUM(1+1)*cmd|' /C calc'!A0",
        LS + "vcs-url": f"https://user:{PASSWORD}@github.com/acme/widget",
        OCI + "created": "+cmd\x1b[31mRED\x1b[0m\x1b]0;title\x07 2024-01-01",
        LS + "build-date": "-1\r\nforged: line\u202eevil %0A%0D%25",
        OCI + "version": f'=HYPERLINK("http://evil","x"){JS}{IMG}',
        LS + "version": '" onload="alert(1) | a | b `code` ]]> <!-- & \x01\x0b\ufffe',
        OCI + "title": (
            "t\n::set-output name=x::y\n::add-mask::mask\n::error::pwned\n"
            "::stop-commands::tok\r\nghadelimiter_0123456789abcdef0123456789abcdef\nEOF\n%0A%0D%25"
        ),
        LS + "name": "::error file=x::pwned\n::warning::w\n\x1b]0;title\x07",
        OCI + "licenses": f"{IMG}{JS}|x|`y`]]>&<",
        OCI + "vendor": "\u202eevil\u2066\x01\x0b\ufffe]]><&",
        LS + "vendor": "acme \x1b[2J\x9b",
        OCI + "url": f"https://user:{PASSWORD}@github.com/acme/widget",
        OCI + "documentation": f"token {TOKEN}",
        OCI + "description": "\x1b[31m" + "A" * BIG,
        LS + "description": "short",
        HOSTILE_KEY: '::notice::from a key\'s value\n=HYPERLINK("http://evil","x")',
    }


@dataclass
class Hostile:
    repo: Repo
    tag: str
    policy: Path


@pytest.fixture(scope="module")
def hostile(build_image: Any, tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    base = tmp_path_factory.mktemp("hostile")
    repo = new_repo(base / "widget")
    policy = base / "policy.yml"
    policy.write_text(POLICY)
    return Hostile(repo, build_image(hostile_labels(repo.head)), policy)


# --- what every channel must hold ---------------------------------------------------------------


def assert_safe_output(name: str, text: str, terminal: bool = True) -> None:
    """No secret, bounded, no traceback; on a terminal, no raw control or bidi character."""
    assert PASSWORD not in text, name
    assert TOKEN not in text and TOKEN[:20] not in text, name
    assert len(text.encode("utf-8", "surrogatepass")) < MAX_OUTPUT, (name, len(text))
    assert TRACEBACK not in text, name
    if terminal:
        bad = TERMINAL_BAD.search(text)
        assert bad is None, (name, repr(bad.group(0)) if bad else "", text[:2000])


# the JSON reports are faithful data: a value comes back exactly (redacted) from json.loads
FAITHFUL = ("report.json", "audit.json")


def assert_safe_files(root: Path) -> None:
    """Every file written: reports, README, SVGs, the Action's output and summary files."""
    paths = [p for p in root.rglob("*") if p.is_file()]
    assert paths
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert_safe_output(str(path), text, terminal=path.name not in FAITHFUL)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def html_tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def assert_inert_html(html: str, allowed: set[str]) -> None:
    """Only the tags mb-ci writes; no handler, no script, no URL but https:// or a badge file."""
    for tag, attrs in html_tags(html):
        assert tag in allowed, (tag, html[:2000])
        assert set(attrs) <= {"href", "src", "alt"}, attrs
        for key in ("href", "src"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("https://", ".github/", "badges/")), value


def assert_markdown_summary(text: str) -> None:
    """A job summary: inert once rendered, and no label can add or remove a table cell."""
    import markdown

    for raw in ("<img", "onerror=", "javascript:", "onload=", "]]>"):
        assert raw not in text, raw
    for line in text.splitlines():
        assert not line.startswith("|") or line.endswith("|"), line
    tables = [block for block in text.split("\n\n") if block.startswith("|")]
    assert tables, text
    for block in tables:
        rows = block.splitlines()
        want = rows[0].count("|")
        assert all(row.count("|") == want for row in rows), block
    assert_inert_html(
        markdown.markdown(text, extensions=["tables"]),
        {"h3", "table", "thead", "tbody", "tr", "th", "td", "code", "br", "p"},
    )


def unescape_data(value: str) -> str:
    return value.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


ANNOTATION = re.compile(r"::(error|warning|notice)(?: (?P<props>[^:]*))?::(?P<message>.*)")


def assert_github(text: str) -> list[str]:
    """Each workflow command is an annotation mb-ci meant, with every value %-escaped."""
    commands = workflow_commands(text)
    assert commands, text
    for line in commands:
        m = ANNOTATION.fullmatch(line)
        assert m, line
        assert re.fullmatch(r"(?:%(?:25|0D|0A|3A|2C)|[^%])*", line), line
        props = m.group("props") or ""
        assert set(re.findall(r"(?:^|,)([a-z]+)=", props)) <= {"file", "line", "title"}, props
    # the label's own "%0A" arrives as text, not as a line break
    decoded = "\n".join(unescape_data(c) for c in commands)
    assert "%0A%0D%25" in decoded
    for line in decoded.splitlines():
        # each decoded message line is ours, or a label value quoted after a prefix
        assert not line.startswith(("::set-output", "::add-mask", "::stop-commands")), line
    return commands


# --- mb-ci check: every report format on stdout and as --report ----------------------------------

FORMATS = ["text", "json", "sarif", "junit", "codequality", "github", "auto"]


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    return schemas.sarif_validator()


def assert_report(fmt: str, text: str, sarif_validator: Any) -> None:
    if fmt in ("json", "sarif", "codequality"):
        doc = json.loads(text)
        assert "\x1b" not in text and "\r" not in text
        if fmt == "sarif":
            errors = sorted(sarif_validator.iter_errors(doc), key=str)
            assert not errors, errors[0]
            results = doc["runs"][0]["results"]
            assert any(r["ruleId"] == "label-credentials" for r in results)
            for r in results:  # SARIF §3.11.6: a bracket would make an embedded link
                assert re.search(r"(?<!\\)[\[\]]", r["message"]["text"]) is None, r
        if fmt == "json":
            labels = doc["image"]["platforms"][0]["labels"]
            # faithful data: the values round-trip, redacted
            assert labels[OCI + "title"] == hostile_labels("")[OCI + "title"]
            assert labels[OCI + "url"] == "https://user:***@github.com/acme/widget"
            assert HOSTILE_KEY in labels
    elif fmt == "junit":
        assert XML_BAD.search(text) is None, repr(XML_BAD.search(text))
        root = ET.fromstring(text.encode("utf-8"))
        assert sum(int(s.get("failures", "0")) for s in root.iter("testsuite")) >= 1
        assert_safe_output("junit", text, terminal=True)
    elif fmt in ("github", "auto"):
        assert_github(text)
        # only the summary line is not a workflow command; it quotes no label
        plain = [line for line in text.splitlines() if not line.startswith("::")]
        assert len(plain) == 1 and plain[0].startswith("mb-ci check "), plain
    else:
        assert "\u202e" not in text and "\\u202e" in text
        assert "\\x1b[31m" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_reports_are_inert_in_every_format(
    fmt: str, hostile: Hostile, sarif_validator: Any, tmp_path: Path
) -> None:
    report_fmt = "github" if fmt == "auto" else fmt
    written = tmp_path / "reports" / f"report.{report_fmt}"
    written.parent.mkdir()
    result = run_mbci(
        "check",
        hostile.tag,
        "--repo",
        str(hostile.repo.path),
        "--policy",
        str(hostile.policy),
        "--format",
        fmt,
        "--report",
        f"{report_fmt}={written}",
        env={"GITHUB_ACTIONS": "true"} if fmt == "auto" else None,
    )
    assert result.returncode == 1, result.stderr
    assert_safe_output("stderr", result.stderr)
    assert_safe_output("stdout", result.stdout, terminal=fmt not in ("json",))
    assert_report(fmt, result.stdout, sarif_validator)
    on_disk = written.read_text(encoding="utf-8")
    assert_safe_files(tmp_path)
    assert_report(report_fmt, on_disk, sarif_validator)


# --- mb-ci badges: every markup and style, into a README ---------------------------------------


@pytest.mark.parametrize("style", ["shields", "svg"])
@pytest.mark.parametrize("markup", ["markdown", "html", "rst"])
def test_badges_are_inert_in_every_markup(
    markup: str, style: str, hostile: Hostile, tmp_path: Path
) -> None:
    import markdown

    readme = tmp_path / ("README.rst" if markup == "rst" else "README.md")
    start, end = (
        (".. mb-ci:badges:start", ".. mb-ci:badges:end")
        if markup == "rst"
        else ("<!-- mb-ci:badges:start -->", "<!-- mb-ci:badges:end -->")
    )
    readme.write_text(f"# widget\n\n{start}\n{end}\n\ntext\n")
    result = run_mbci(
        "badges",
        hostile.tag,
        "--repo",
        str(hostile.repo.path),
        "--policy",
        str(hostile.policy),
        "--markup",
        markup,
        "--style",
        style,
        "--svg-dir",
        str(tmp_path / "badges"),
        "--readme",
        str(readme),
        "--report",
        f"json={tmp_path / 'badges.json'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert_safe_output("stdout", result.stdout)
    assert_safe_output("stderr", result.stderr)
    assert_safe_files(tmp_path)
    snippet = result.stdout
    assert snippet.strip() and snippet.strip() in readme.read_text()
    kinds = {b["kind"] for b in json.loads((tmp_path / "badges.json").read_text())["badges"]}
    assert {"version", "license", "created", "commit"} <= kinds
    if markup == "markdown":
        assert IMG not in snippet and JS not in snippet
        assert_inert_html(markdown.markdown(snippet), {"p", "a", "img"})
        assert_inert_html(markdown.markdown(readme.read_text()), {"h1", "p", "a", "img"})
    elif markup == "html":
        assert IMG not in snippet and '" onload="' not in snippet
        assert_inert_html(snippet, {"a", "img"})
    else:
        for line in snippet.splitlines():
            assert (
                not line
                or line.startswith("|mb-ci-")
                or re.fullmatch(r"\.\. \|mb-ci-[a-z0-9-]+\| image:: (https://|\S*badges/)\S+", line)
                or re.fullmatch(r"   :target: https://\S+", line)
                or line.startswith("   :alt: ")
            ), line
    svgs = sorted((tmp_path / "badges").glob("*.svg"))
    assert bool(svgs) == (style == "svg")
    for svg in svgs:
        text = svg.read_text(encoding="utf-8")
        assert XML_BAD.search(text) is None, svg
        root = ET.fromstring(text)
        assert all(not k.startswith("on") for el in root.iter() for k in el.attrib)
        assert not list(root.iter("{http://www.w3.org/2000/svg}script"))


# --- mb-ci audit: text, JSON and CSV ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "csv"])
def test_audit_reports_are_inert(fmt: str, hostile: Hostile, tmp_path: Path) -> None:
    written = tmp_path / f"audit.{fmt}"
    result = run_mbci(
        "audit",
        hostile.tag,
        "--repo",
        str(hostile.repo.path),
        "--policy",
        str(hostile.policy),
        "--format",
        fmt,
        "--report",
        f"{fmt}={written}",
    )
    assert result.returncode == 1, result.stderr
    assert_safe_output("stderr", result.stderr)
    assert_safe_output("stdout", result.stdout, terminal=fmt != "json")
    assert written.read_text(encoding="utf-8") == result.stdout
    if fmt == "json":
        (image,) = json.loads(result.stdout)["images"]
        assert image["verdict"] == "fail" and image["labels"][HOSTILE_KEY]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert len(rows) == 1
        for value in rows[0].values():
            assert value[:1] not in ("=", "+", "-", "@", "\t", "\r"), value
        assert rows[0]["version"].startswith("'=HYPERLINK(")
        assert rows[0]["source"].startswith("'@SUM")
        assert rows[0]["created"].startswith("'+cmd")
    else:
        assert "\\x1b[31m" in result.stdout


# --- the GitHub Action: annotations, job summary, outputs, reports and badges -----------------


def run_action(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mb_ci.entrypoint", "action"],
        env=clean_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def action_files(tmp_path: Path) -> Iterator[dict[str, Path]]:
    files = {name: tmp_path / name for name in ("output", "summary")}
    for path in files.values():
        path.write_text("")
    readme = tmp_path / "README.md"
    readme.write_text("# w\n\n<!-- mb-ci:badges:start -->\n<!-- mb-ci:badges:end -->\n")
    yield {**files, "readme": readme, "reports": tmp_path / "reports"}


@pytest.mark.parametrize("fmt", ["text", "github", "auto"])
def test_action_channels_are_inert(
    fmt: str, hostile: Hostile, action_files: dict[str, Path], tmp_path: Path
) -> None:
    reports = action_files["reports"]
    specs = ",".join(
        f"{f}={reports / ('report.' + f)}"
        for f in ("text", "json", "sarif", "junit", "codequality", "github")
    )
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(action_files["output"]),
        "GITHUB_STEP_SUMMARY": str(action_files["summary"]),
        "GITHUB_WORKSPACE": str(hostile.repo.path),
        "GITHUB_SHA": hostile.repo.head,
        "INPUT_IMAGE": hostile.tag,
        "INPUT_FORMAT": fmt,
        "INPUT_POLICY": str(hostile.policy),
        "INPUT_REPORTS": specs,
        "INPUT_BADGES": "true",
        "INPUT_README": str(action_files["readme"]),
    }
    result = run_action(env, cwd=hostile.repo.path)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    assert_safe_output("stderr", result.stderr)
    assert_safe_output("stdout", result.stdout)
    assert_safe_files(tmp_path)
    commands = assert_github(result.stdout)
    # exactly the annotations the findings give (GitHub shows 10 of a type), once each
    findings = json.loads((reports / "report.json").read_text())["findings"]
    for severity, name in (("error", "::error"), ("warning", "::warning"), ("info", "::notice")):
        count = sum(f["severity"] == severity for f in findings)
        assert sum(c.startswith(name) for c in commands) == min(count, 10), (severity, commands)
    assert sum(c.startswith("::error") for c in commands) == 10

    outputs = parse_github_output(action_files["output"].read_text())
    assert [name for name, _ in outputs] == [
        "result",
        "errors",
        "warnings",
        "revision",
        "matched-commit",
        "report-paths",
        "badge-markdown",
    ]
    values = dict(outputs)
    assert values["result"] == "fail" and values["revision"] == hostile.repo.head
    assert len(values["report-paths"].splitlines()) == 6
    badge_markdown = values["badge-markdown"]
    assert badge_markdown and IMG not in badge_markdown and JS not in badge_markdown

    summary = action_files["summary"].read_text()
    assert "### mb-ci check: ❌ failed" in summary
    assert_markdown_summary(summary)
    assert_safe_output("summary", summary)
