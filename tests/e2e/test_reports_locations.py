"""Where each report points: a label's LABEL line, else the policy rule's line, never elsewhere.

End to end through the CLI: a real checkout, a real ``FROM scratch`` image, a policy file, and a
Dockerfile in a directory whose name needs percent-encoding in a SARIF URI.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

from helpers.git import SOURCE

from mb_ci.report.github import escape_property

OCI = "org.opencontainers.image."
DIRECTORY = "docker files/100% café"
# line 1 FROM; line 3 sets the version (which breaks the policy's pattern); vendor is not set
DOCKERFILE = f"""\
FROM scratch
LABEL {OCI}source="{SOURCE}"
LABEL {OCI}version="latest"
"""
POLICY = f"""\
version: 1
labels:
  {OCI}version:
    pattern: '[0-9]+\\.[0-9]+\\.[0-9]+'
  {OCI}vendor:
    required: true
  com.example.tier:
    enum: [gold, silver]
"""


def _check(repo, build_image, mbci, tmp_path: Path) -> tuple[int, dict[str, Path]]:
    folder = repo.path / DIRECTORY
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    (repo.path / ".mb-ci.yml").write_text(POLICY, encoding="utf-8")
    tag = build_image(
        {
            OCI + "revision": repo.head,
            OCI + "source": SOURCE,
            OCI + "created": "2099-01-01T00:00:00Z",
            OCI + "version": "latest",
            "com.example.tier": "bronze",  # set by the build, not by the Dockerfile
        }
    )
    out = {fmt: tmp_path / f"report.{fmt}" for fmt in ("sarif", "codequality", "json", "junit")}
    result = mbci(
        "check",
        tag,
        "--dockerfile",
        f"{DIRECTORY}/Dockerfile",
        "--format",
        "github",
        *(f"--report={fmt}={path}" for fmt, path in out.items()),
        cwd=repo.path,
    )
    assert result.returncode == 1, result.stderr
    out["github"] = tmp_path / "github.txt"
    out["github"].write_text(result.stdout)
    return result.returncode, out


def test_every_report_points_at_the_label_line_or_the_policy_rule(
    repo, build_image, mbci, tmp_path
):
    _, out = _check(repo, build_image, mbci, tmp_path)
    dockerfile = f"{DIRECTORY}/Dockerfile"
    # what each finding must point at: (file, line)
    expected = {
        "label-pattern": (dockerfile, 3),  # the Dockerfile sets the version on line 3
        "label-required": (".mb-ci.yml", 5),  # vendor: set nowhere, the rule is on line 5
        "label-enum": (".mb-ci.yml", 7),  # tier: set by the build only
    }

    data = json.loads(out["json"].read_text())
    got = {f["check"]: (f["file"], f["line"]) for f in data["findings"]}
    assert {check: got[check] for check in expected} == expected

    sarif = json.loads(out["sarif"].read_text())
    for result in sarif["runs"][0]["results"]:
        if result["ruleId"] not in expected:
            continue
        path, line = expected[result["ruleId"]]
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert urllib.parse.unquote(uri) == path
        if path != ".mb-ci.yml":
            assert " " not in uri and "é" not in uri and "%25" in uri
        assert physical["region"] == {"startLine": line}

    quality = json.loads(out["codequality"].read_text())
    for issue in quality:
        if issue["check_name"] in expected:
            path, line = expected[issue["check_name"]]
            assert issue["location"] == {"path": path, "lines": {"begin": line}}

    annotations = out["github"].read_text().splitlines()
    for check, (path, line) in expected.items():
        (hit,) = [a for a in annotations if f"title=mb-ci {check}" in a]
        assert f"file={escape_property(path)},line={line}," in hit

    junit = out["junit"].read_text()
    assert f"at:       {dockerfile}:3" in junit and "at:       .mb-ci.yml:5" in junit
