"""event-vs-checkout and declared-vs-built end to end: real checkouts, GitHub's published
payloads (tests/data/ci, origins in tests/data/SOURCES.md), images built on the real engine.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from helpers import paths
from helpers.git import SOURCE, Repo
from helpers.images import context_tar, new_tag

pytestmark = pytest.mark.docker

OCI = "org.opencontainers.image."
DATA = paths.DATA / "ci"


def _payload(tmp_path: Path, name: str, **pr_edits: str) -> str:
    data = json.loads((DATA / name).read_text())
    if pr_edits:
        data["pull_request"]["head"]["sha"] = pr_edits["head"]
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data))
    return str(path)


def _github(event: str, sha: str, event_path: str) -> dict[str, str]:
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_SHA": sha,
        "GITHUB_EVENT_PATH": event_path,
        "GITHUB_REPOSITORY": "acme/widget",
        "GITHUB_REF_NAME": "main",
    }


def _labels(revision: str) -> dict[str, str]:
    return {OCI + "revision": revision, OCI + "source": SOURCE, OCI + "created": _now()}


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check(mbci: Any, image: str, cwd: Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    result = mbci("check", image, "--format", "json", *extra, cwd=cwd, env=env)
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    report["_rc"] = result.returncode
    return report


def _event_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["check"] == "event-vs-checkout"]


def test_workflow_dispatch_with_a_ref_names_both_commits(repo: Repo, tmp_path, build_image, mbci):
    """actions/checkout with `ref: v1` on a workflow_dispatch run of main's tip."""
    old = repo.head
    repo.git("tag", "v1")
    tip = repo.commit("main moves on")
    repo.git("checkout", "-q", "--detach", "v1")
    env = _github(
        "workflow_dispatch", tip, _payload(tmp_path, "github-workflow_dispatch-payload.json")
    )
    report = _check(mbci, build_image(_labels(old)), repo.path, env)
    (finding,) = _event_findings(report)
    assert finding["severity"] == "warning"
    assert (finding["expected"], finding["actual"]) == (tip, old)
    assert (
        "workflow_dispatch run with a ref" in finding["message"]
        and "GITHUB_SHA" in finding["message"]
    )
    # the labels are still compared with what was checked out: the revision matched HEAD
    assert report["_rc"] == 0 and report["matched_commit"] == "head"
    assert [f["check"] for f in report["findings"]] == ["event-vs-checkout"]
    strict = mbci("check", build_image(_labels(old)), "--strict", cwd=repo.path, env=env)
    assert strict.returncode == 1 and "event-vs-checkout" in strict.stdout


def test_pull_request_checkout_of_the_head_is_quiet(repo: Repo, tmp_path, build_image, mbci):
    """pull_request with `ref: ${{ github.event.pull_request.head.sha }}`: GITHUB_SHA is the
    merge commit, HEAD the pull request's head."""
    repo.git("checkout", "-q", "-b", "feature")
    head = repo.commit("feature work", "feature.txt")
    repo.git("checkout", "-q", "main")
    repo.commit("main moves on", "main.txt")
    repo.git("merge", "-q", "--no-ff", "-m", "test merge", head)
    merge = repo.head
    repo.git("checkout", "-q", "--detach", head)
    path = _payload(tmp_path, "github-pull_request-synchronize.payload.json", head=head)
    report = _check(
        mbci, build_image(_labels(head)), repo.path, _github("pull_request", merge, path)
    )
    assert _event_findings(report) == [] and report["_rc"] == 0
    assert "event-vs-checkout" in report["checked"]

    # pull_request_target checks out the base branch, which GITHUB_SHA names
    repo.git("checkout", "-q", "--detach", "main~1")
    base = repo.head
    path = _payload(tmp_path, "github-pull_request-labeled.payload.json", head=head)
    env = _github("pull_request_target", base, path)
    report = _check(mbci, build_image(_labels(base)), repo.path, env)
    assert _event_findings(report) == []

    # the same pull_request job checked out something else altogether
    repo.git("checkout", "-q", "--detach", "main~1")
    path = _payload(tmp_path, "github-pull_request-synchronize.payload.json", head=head)
    report = _check(
        mbci, build_image(_labels(base)), repo.path, _github("pull_request", merge, path)
    )
    (finding,) = _event_findings(report)
    assert head in finding["message"] and merge in finding["message"] and base in finding["message"]


DOCKERFILE = f"""\
FROM scratch AS app
ARG VERSION=1.0.0
ARG REVISION
COPY payload.txt /payload.txt
LABEL {OCI}title="widget" \\
      {OCI}version="$VERSION"
LABEL {OCI}revision="$REVISION" {OCI}vendor="Acme"

FROM app AS debug
LABEL {OCI}title="widget-debug"
"""


def _build(engine: Any, target: str, labels: dict[str, str], buildargs: dict[str, str]) -> str:
    tag = new_tag()
    stream = engine.api.build(
        fileobj=context_tar(DOCKERFILE, {"payload.txt": uuid.uuid4().hex.encode()}),
        custom_context=True,
        tag=tag,
        target=target,
        labels=labels,
        buildargs=buildargs,
        rm=True,
        decode=True,
    )
    errors = [chunk["error"] for chunk in stream if "error" in chunk]
    assert not errors, errors
    return tag


def test_declared_vs_built_names_both_values_and_the_line(engine, repo: Repo, tmp_path, mbci):
    (repo.path / "Dockerfile").write_text(DOCKERFILE)
    # metadata-action's way: --label title=... overrides the Dockerfile's; the ARG without a
    # default is set by --build-arg and never compared
    tags = [
        _build(
            engine,
            "app",
            {OCI + "title": "gadget", OCI + "source": SOURCE},
            {"REVISION": repo.head, "VERSION": "2.0.0"},
        ),
        _build(engine, "debug", {OCI + "source": SOURCE}, {"REVISION": repo.head}),
    ]
    try:
        sarif = tmp_path / "r.sarif"
        report = _check(
            mbci,
            tags[0],
            repo.path,
            {},
            "--dockerfile",
            "Dockerfile",
            "--target",
            "app",
            f"--report=sarif={sarif}",
        )
        found = {f["label"]: f for f in report["findings"] if f["check"] == "declared-vs-built"}
        assert set(found) == {OCI + "title", OCI + "version"}
        title = found[OCI + "title"]
        assert (title["severity"], title["expected"], title["actual"]) == (
            "warning",
            "widget",
            "gadget",
        )
        assert (title["file"], title["line"]) == ("Dockerfile", 5)
        assert "'widget'" in title["message"] and "'gadget'" in title["message"]
        # VERSION has a default a --build-arg changed: information only
        assert found[OCI + "version"]["severity"] == "info"
        rules = json.loads(sarif.read_text())["runs"][0]["results"]
        (hit,) = [
            r for r in rules if r["ruleId"] == "declared-vs-built" and r["level"] == "warning"
        ]
        assert hit["locations"][0]["physicalLocation"]["region"] == {"startLine": 5}

        # the debug stage built as declared: nothing to say, with --target or as the last stage
        for extra in (("--target", "debug"), ()):
            report = _check(mbci, tags[1], repo.path, {}, "--dockerfile", "Dockerfile", *extra)
            assert [f for f in report["findings"] if f["check"] == "declared-vs-built"] == []
            assert "declared-vs-built" in report["checked"]
        # the app image against the last stage: the title is the debug stage's, line 10
        report = _check(mbci, tags[0], repo.path, {}, "--dockerfile", "Dockerfile")
        (title,) = [
            f
            for f in report["findings"]
            if f["check"] == "declared-vs-built" and f["label"] == OCI + "title"
        ]
        assert (title["expected"], title["line"]) == ("widget-debug", 10)

        bad = mbci(
            "check", tags[0], "--dockerfile", "Dockerfile", "--target", "nope", cwd=repo.path
        )
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) <= 2
        assert "Traceback" not in bad.stderr
    finally:
        for tag in tags:
            engine.images.remove(tag, force=True)


def test_licence_label_against_the_checkout_licence_file(repo: Repo, build_image, mbci):
    """A real checkout holding docker-mailserver's MIT LICENSE, images labelled MIT and GPL."""
    (repo.path / "LICENSE").write_bytes(
        (paths.DATA / "licences/mit-docker-mailserver-LICENSE").read_bytes()
    )
    repo.git("add", "LICENSE")
    repo.git("commit", "-q", "-m", "licence")
    labels = {**_labels(repo.head), OCI + "created": _now()}
    good = _check(mbci, build_image({**labels, OCI + "licenses": "MIT"}), repo.path, {})
    assert "licence-matches-repo" in good["checked"]
    assert [f for f in good["findings"] if f["check"] == "licence-matches-repo"] == []
    bad = _check(mbci, build_image({**labels, OCI + "licenses": "GPL-3.0-only"}), repo.path, {})
    (finding,) = [f for f in bad["findings"] if f["check"] == "licence-matches-repo"]
    assert (finding["severity"], finding["expected"], finding["actual"]) == (
        "warning",
        "MIT",
        "GPL-3.0-only",
    )
    assert bad["_rc"] == 0
