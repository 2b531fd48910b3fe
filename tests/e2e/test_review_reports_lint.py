"""``lint-dockerfile`` run from a subfolder of the checkout, or given an absolute path, names the
Dockerfile from the checkout's root, as GitHub code scanning, annotations and GitLab's Code
Quality widget resolve paths (and as ``check`` already does). It used to name ``Dockerfile``,
which those consumers read as the Dockerfile at the root, or ``file:///abs/path``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

SUB = "svc/my api"
DOCKERFILE = "FROM scratch\nLABEL org.opencontainers.image.version=1\n"


@pytest.fixture
def sub(repo):
    folder = repo.path / SUB
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(DOCKERFILE)
    (repo.path / "Dockerfile").write_text("FROM scratch\n")  # the file it must not point at
    return folder


def _run(mbci, cwd, fmt, path="Dockerfile"):
    result = mbci("lint-dockerfile", path, "--format", fmt, cwd=cwd)
    assert result.returncode == 1, result.stderr
    return result.stdout


def test_sarif_from_a_subfolder(mbci, sub):
    results = json.loads(_run(mbci, sub, "sarif"))["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"svc/my%20api/Dockerfile"}


def test_sarif_given_an_absolute_path(mbci, sub, repo):
    out = _run(mbci, repo.path, "sarif", str(sub / "Dockerfile"))
    location = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "svc/my%20api/Dockerfile",
        "uriBaseId": "%SRCROOT%",
    }


def test_code_quality_github_json_junit_from_a_subfolder(mbci, sub):
    paths = {i["location"]["path"] for i in json.loads(_run(mbci, sub, "codequality"))}
    assert paths == {f"{SUB}/Dockerfile"}
    annotations = [line for line in _run(mbci, sub, "github").splitlines() if line.startswith("::")]
    assert annotations and all(f"file={SUB}/Dockerfile,line=2," in a for a in annotations)
    findings = json.loads(_run(mbci, sub, "json"))["findings"]
    assert {(f["file"], f["line"]) for f in findings} == {(f"{SUB}/Dockerfile", 2)}
    failures = ET.fromstring(_run(mbci, sub, "junit")).iter("failure")
    assert all(f"at:       {SUB}/Dockerfile:2" in (f.text or "") for f in failures)


def test_text_keeps_the_path_as_typed(mbci, sub):
    """An editor's terminal opens ``PATH:LINE`` from where the command ran."""
    lines = [line for line in _run(mbci, sub, "text").splitlines() if ": error [" in line]
    assert lines and all(line.startswith("Dockerfile:2: ") for line in lines)


def test_outside_any_checkout_the_path_is_as_given(mbci, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "Dockerfile").write_text(DOCKERFILE)
    results = json.loads(_run(mbci, tmp_path, "sarif", "plain/Dockerfile"))["runs"][0]["results"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "plain/Dockerfile"
    )
