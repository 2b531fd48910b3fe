"""SARIF as two consumers read it: the official schema with format checking on, and Microsoft's
SARIF multitool ``validate`` (npm ``@microsoft/sarif-multitool``, installed by scripts/testbed)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from helpers.paths import ROOT
from helpers.schemas import SARIF_SCHEMA

from mb_ci.models import Finding, GitFacts, Report, Severity
from mb_ci.report import render
from mb_ci.report.sarif import artifact_location, repository_uri

SCHEMA = SARIF_SCHEMA
MULTITOOL = ROOT / ".venv" / "sarif-multitool" / "node_modules" / ".bin" / "sarif-multitool"
REV = "org.opencontainers.image.revision"
# paths as checkouts really name them: spaces, a percent sign, non-ASCII, a hash
PATHS = ["docker files/Dockerfile", "100%/Dockerfile", "café/Dockerfile.ü", "a#b/Dockerfile"]


@pytest.fixture(scope="module")
def validator():
    from jsonschema import Draft4Validator, FormatChecker

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # Draft 4's own checker knows no `uri-reference`; the full checker does (rfc3986-validator)
    checker = FormatChecker()
    assert not checker.conforms("a b", "uri-reference"), "format checking is not on"
    return Draft4Validator(schema, format_checker=checker)


def _report(dockerfile: str | None, remote: str | None, findings: tuple[Finding, ...]) -> Report:
    git = GitFacts(
        root="/w",
        head="a" * 40,
        commit_time=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        remote_normalized=remote,
    )
    return Report("check", "app:1", findings, git=git, dockerfile=dockerfile)


def _findings(policy: str = ".mb-ci.yml") -> tuple[Finding, ...]:
    return (
        Finding("revision-matches-head", Severity.ERROR, "wrong revision", label=REV, line=3),
        Finding("label-pattern", Severity.ERROR, "no match", label="x", line=7, file=policy),
        Finding("label-required", Severity.WARNING, "missing", label="y"),
    )


@pytest.mark.parametrize("path", [*PATHS, "/srv/outside checkout/Dockerfile"])
def test_paths_are_uris_valid_with_format_checking(validator, path):
    doc = json.loads(render(_report(path, "https://github.com/acme/widget", _findings()), "sarif"))
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, errors[0]
    location = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    uri = location["artifactLocation"]["uri"]
    assert not set(uri) & {" ", "é", "ü", "#"}
    if path.startswith("/"):
        assert uri == "file:///srv/outside%20checkout/Dockerfile"
        assert "uriBaseId" not in location["artifactLocation"]
    else:
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        from urllib.parse import unquote

        assert unquote(uri) == path


def test_artifact_location_encodes_each_segment():
    assert artifact_location("100%/a b/é") == {
        "uri": "100%25/a%20b/%C3%A9",
        "uriBaseId": "%SRCROOT%",
    }


@pytest.mark.parametrize(
    "remote",
    ["/home/runner/work/widget", "../widget", "file:///srv/git/widget", "C:/src/widget", None],
)
def test_no_local_path_in_repository_uri(validator, remote):
    doc = json.loads(render(_report("Dockerfile", remote, _findings()), "sarif"))
    assert "versionControlProvenance" not in doc["runs"][0]
    assert not list(validator.iter_errors(doc))


def test_remote_repository_uri_is_kept():
    assert repository_uri("https://github.com/acme/widget") == "https://github.com/acme/widget"
    assert repository_uri("https://dev.azure.com/org/My Project/_git/repo") == (
        "https://dev.azure.com/org/My%20Project/_git/repo"
    )
    assert repository_uri("/srv/git/widget") is None


def _multitool(tmp_path: Path, doc: str) -> list[dict[str, object]]:
    if not MULTITOOL.exists():
        pytest.skip("sarif-multitool is missing (scripts/testbed --full installs it with npm)")
    log, out = tmp_path / "in.sarif", tmp_path / "validation.sarif"
    log.write_text(doc, encoding="utf-8")
    proc = subprocess.run(
        [str(MULTITOOL), "validate", str(log), "--output", str(out), "--log", "ForceOverwrite"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results: list[dict[str, object]] = json.loads(out.read_text(encoding="utf-8-sig"))["runs"][0][
        "results"
    ]
    return results


def test_multitool_finds_no_errors(tmp_path):
    findings = _findings("policies/100% strict.yml")
    for path in PATHS:
        doc = render(_report(path, "https://github.com/acme/widget", findings), "sarif")
        errors = [r for r in _multitool(tmp_path, doc) if r.get("level") == "error"]
        assert errors == [], json.dumps(errors[:2], indent=1)


def test_multitool_does_flag_a_raw_path(tmp_path):
    """The consumer can fail: a space in an artifact URI is an error (SARIF1002)."""
    doc = render(_report("Dockerfile", None, _findings()), "sarif")
    doc = doc.replace('"uri": "Dockerfile"', '"uri": "docker files/Dockerfile"')
    errors = [r for r in _multitool(tmp_path, doc) if r.get("level") == "error"]
    assert {r["ruleId"] for r in errors} == {"SARIF1002"}
