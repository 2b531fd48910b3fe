"""``mb-ci lint-dockerfile``: the image policy applied to a Dockerfile, with Dockerfile lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import paths

from mb_ci.models import Finding, Severity
from mb_ci.pipeline import lint
from mb_ci.policy import Policy, load
from mb_ci.report.locations import checkout_root

DATA = paths.DATA / "dockerfiles"
OCI = "org.opencontainers.image."
POLICY = """\
version: 1
preset: oci
labels:
  org.opencontainers.image.version:
    format: semver
  org.opencontainers.image.created:
    format: rfc3339
  org.opencontainers.image.revision:
    format: git-sha
# the fixtures write their revision and created into the file to test other things; that
# value is stale at the next commit (dockerfile-fixed-value), tested on its own below
checks:
  dockerfile-fixed-value: off
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(POLICY)
    return path


def findings(name: str, policy_file: Path) -> list[Finding]:
    return list(lint(str(DATA / name), load(policy_file)).findings)


def by_check(items: list[Finding], check: str) -> list[Finding]:
    return [f for f in items if f.check == check]


def test_missing_required_exits_1_at_the_last_label_line(
    mbci: Callable[..., Any], policy_file: Path
) -> None:
    path = DATA / "missing-required.Dockerfile"
    res = mbci("lint-dockerfile", str(path), "--policy", str(policy_file), "--format", "json")
    assert res.returncode == 1, res.stderr
    data = json.loads(res.stdout)
    missing = {f["label"]: f["line"] for f in data["findings"] if f["check"] == "label-required"}
    # LABEL on line 3, and a two-line LABEL starting on line 4: the last LABEL instruction
    assert missing == {OCI + "created": 4, OCI + "source": 4}


def test_no_label_at_all_points_at_from(policy_file: Path) -> None:
    found = by_check(findings("no-labels.Dockerfile", policy_file), "label-required")
    assert len(found) == 3 and {f.line for f in found} == {2}


def test_arg_default_expands_and_passes_semver(mbci: Callable[..., Any], policy_file: Path) -> None:
    path = DATA / "arg-version.Dockerfile"
    res = mbci("lint-dockerfile", str(path), "--policy", str(policy_file))
    assert res.returncode == 0, res.stdout
    assert "1.2.3" in res.stdout


def test_arg_default_that_is_not_semver_fails(tmp_path: Path, policy_file: Path) -> None:
    text = (DATA / "arg-version.Dockerfile").read_text().replace("1.2.3", "1.2")
    (tmp_path / "Dockerfile").write_text(text)
    found = lint(str(tmp_path / "Dockerfile"), load(policy_file)).findings
    fmt = [f for f in found if f.check == "label-format"]
    assert [(f.label, f.actual, f.line) for f in fmt] == [(OCI + "version", "1.2", 3)]


def test_arg_declared_only_before_from_is_flagged(policy_file: Path) -> None:
    found = findings("arg-before-from.Dockerfile", policy_file)
    scope = by_check(found, "dockerfile-arg-scope")
    assert len(scope) == 1 and scope[0].severity is Severity.ERROR
    assert scope[0].line == 3 and "ARG VCS_REF" in scope[0].message
    assert "after that stage's FROM" in scope[0].message
    assert [f.label for f in by_check(found, "label-required")] == [OCI + "revision"]
    assert findings("arg-redeclared.Dockerfile", policy_file) == []


def test_final_stage_inherits_the_builder_stage(policy_file: Path) -> None:
    assert findings("two-stage.Dockerfile", policy_file) == []
    # COPY --from does not carry labels: the three provenance labels are missing at line 8
    found = findings("two-stage-copy.Dockerfile", policy_file)
    assert {(f.check, f.line) for f in found} == {("label-required", 8)}


def test_build_time_value_is_info_not_a_format_error(policy_file: Path) -> None:
    found = findings("build-time.Dockerfile", policy_file)
    assert {f.check for f in found} == {"dockerfile-build-time-value"}
    assert all(f.severity is Severity.INFO for f in found)
    assert {f.label for f in found} == {OCI + "created", OCI + "revision", OCI + "source"}


def test_onbuild_label_is_for_child_images(policy_file: Path) -> None:
    # `docker build` gives this file's image no source label: ONBUILD sets it in child images
    (found,) = findings("onbuild.Dockerfile", policy_file)
    assert (found.check, found.label, found.line) == ("label-required", OCI + "source", 4)
    assert "ONBUILD LABEL sets it for images built FROM this one" in found.message


def test_misspelt_key_gets_did_you_mean(policy_file: Path) -> None:
    found = findings("typo.Dockerfile", policy_file)
    unknown = by_check(found, "dockerfile-unknown-key")
    assert [(f.label, f.expected) for f in unknown] == [(OCI + "revison", OCI + "revision")]
    required = by_check(found, "label-required")
    assert "misspelling" in required[0].message


def test_required_label_only_from_base_image_says_so(policy_file: Path) -> None:
    found = by_check(findings("base-image.Dockerfile", policy_file), "label-required")
    assert len(found) == 1 and found[0].label == OCI + "source"
    assert "base image alpine:3.19" in found[0].message and found[0].line == 5


def test_sarif_points_at_the_dockerfile(mbci: Callable[..., Any], policy_file: Path) -> None:
    res = mbci(
        "lint-dockerfile",
        "missing-required.Dockerfile",
        "--policy",
        str(policy_file),
        "--format",
        "sarif",
        cwd=DATA,
    )
    assert res.returncode == 1
    results = json.loads(res.stdout)["runs"][0]["results"]
    places = {
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    }
    # named from the checkout's root, as code scanning resolves it (this suite's own checkout
    # when it has one); tests/test_review_reports_lint.py proves it in a repository of its own
    path = DATA / "missing-required.Dockerfile"
    root = checkout_root(path)
    uri = path.resolve().relative_to(root).as_posix() if root else path.name
    assert places == {(uri, 4)}


def test_several_paths_and_bad_input(mbci: Callable[..., Any], policy_file: Path) -> None:
    good, bad = DATA / "arg-version.Dockerfile", DATA / "no-labels.Dockerfile"
    res = mbci("lint-dockerfile", str(good), str(bad), "--policy", str(policy_file))
    assert res.returncode == 1
    assert res.stdout.count("mb-ci lint-dockerfile") == 2
    res = mbci("lint-dockerfile", str(good), str(bad), "--format", "json")
    assert res.returncode == 2 and "one Dockerfile per run" in res.stderr
    res = mbci("lint-dockerfile", "/nonexistent/Dockerfile")
    assert res.returncode == 3
    assert res.stderr.strip().count("\n") == 0 and "no such file" in res.stderr
    assert "Traceback" not in res.stderr


def test_hostile_values_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Dockerfile").write_text(
        'FROM scratch\nLABEL org.opencontainers.image.revision="\x1b]0;pwned\x07"\n'
    )
    from mb_ci.cli import main

    assert main(["lint-dockerfile", str(tmp_path / "Dockerfile"), "--repo", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "pwned" in out


TEXT_REPORT = """\
mb-ci lint-dockerfile missing-required.Dockerfile

  ✗ org.opencontainers.image.created      (missing)
      error [label-required] required label org.opencontainers.image.created is missing
  ✓ org.opencontainers.image.description  a widget
  ! org.opencontainers.image.revision     0123456789abcdef0123456789abcdef01234567
      warning [dockerfile-fixed-value] label org.opencontainers.image.revision is written in \
the Dockerfile: every such image claims the same commit; set it from an ARG passed at build time
        actual:   0123456789abcdef0123456789abcdef01234567
  ✗ org.opencontainers.image.source       (missing)
      error [label-required] required label org.opencontainers.image.source is missing
  ✓ org.opencontainers.image.title        widget

missing-required.Dockerfile:3: warning [dockerfile-fixed-value] label \
org.opencontainers.image.revision is written in the Dockerfile: every such image claims the \
same commit; set it from an ARG passed at build time
missing-required.Dockerfile:4: error [label-required] required label \
org.opencontainers.image.created is missing
missing-required.Dockerfile:4: error [label-required] required label \
org.opencontainers.image.source is missing

FAILED: 2 errors, 1 warning
"""


def test_text_report_exact(mbci: Callable[..., Any], tmp_path: Path) -> None:
    res = mbci("lint-dockerfile", "missing-required.Dockerfile", "--repo", str(tmp_path), cwd=DATA)
    assert res.returncode == 1
    assert res.stdout == TEXT_REPORT


@pytest.mark.parametrize(
    ("dockerfile", "fixed"),
    [
        # the docker-mailserver idiom: a placeholder default that a build may forget to replace
        ("ARG VCS_REF=unknown\nLABEL {R}=$VCS_REF\n", "takes the default of ARG VCS_REF"),
        ("ARG BUILD_DATE=1970-01-01T00:00:00Z\nLABEL {C}=${BUILD_DATE}\n", "ARG BUILD_DATE"),
        ("LABEL {R}=0123456789abcdef0123456789abcdef01234567\n", "is written in the Dockerfile"),
        # passed at build time: nothing fixed
        ("ARG VCS_REF\nLABEL {R}=$VCS_REF\n", None),
        ('ARG VCS_REF=""\nLABEL {R}=$VCS_REF\n', None),
        # not a revision or a time: a fixed version or title is how Dockerfiles are written
        ("ARG VERSION=1.2.3\nLABEL org.opencontainers.image.version=$VERSION\n", None),
    ],
)
def test_fixed_revision_and_created_are_stale_at_the_next_build(
    tmp_path: Path, dockerfile: str, fixed: str | None
) -> None:
    path = tmp_path / "Dockerfile"
    text = dockerfile.replace("{R}", OCI + "revision").replace("{C}", OCI + "created")
    path.write_text("FROM scratch\n" + text)
    found = by_check(list(lint(str(path), Policy()).findings), "dockerfile-fixed-value")
    if fixed is None:
        assert found == []
        return
    [one] = found
    assert (
        fixed in one.message
        and one.severity is Severity.WARNING
        and one.line == text.count("\n") + 1
    )
    if "unknown" in text:
        assert "('unknown' is not even a commit)" in one.message
