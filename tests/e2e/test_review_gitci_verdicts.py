"""Verdicts in CI layouts the pull-request tests do not cover: tags, checkouts by SHA, heads
that are merges, Buildkite's merge refspec, Jenkins without GIT_COMMIT, and ``version``.

Each checkout is laid out as the CI system's own checkout code leaves it (actions/checkout's
refspecs, Buildkite's ``git fetch origin refs/pull/N/merge`` + ``git checkout FETCH_HEAD``,
Jenkins' local merge), in real git repositories, against images built FROM scratch. GitHub's
payload examples come from tests/data/ci (origins in tests/data/SOURCES.md).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.git import ORIGIN, Repo, git, new_repo
from test_gitci_payloads import (
    assert_passes,
    findings,
    github,
    image_labels,
    labels_then_check,
    local_merge,
    payload,
    run_check,
)

pytestmark = pytest.mark.docker

OCI = "org.opencontainers.image."
SYNCED_TIME = "2026-03-02T10:00:00Z"  # main, when the branch last merged it
HEAD_TIME = "2026-03-02T11:00:00Z"  # main merged into the branch ("Update branch")
BASE_TIME = "2026-03-02T12:00:00Z"  # main's tip, tagged v1.2.3
MERGE_TIME = "2026-03-03T10:00:00Z"


def _at(when: str) -> dict[str, str]:
    return {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}


@dataclass
class Hosted:
    """main (tagged v1.2.3 at its tip), a pull request whose head is itself a merge commit (an
    older main merged into the branch, tagged v2.0.0-rc.1), and GitHub's test merge of that head
    into main."""

    repo: Repo
    base: str
    head: str
    merge: str


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Hosted:
    repo = new_repo(tmp_path_factory.mktemp("hosted") / "widget", origin=None)
    repo.git("commit", "-q", "--amend", "--no-edit", "--reset-author", env=_at("2026-02-01T10:00Z"))
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", "feature.txt", env=_at("2026-03-01T10:00Z"))
    repo.git("checkout", "-q", "main")
    synced = repo.commit("main moves on", "main.txt", env=_at(SYNCED_TIME))
    repo.git("checkout", "-q", "feature")
    repo.git(
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge branch 'main' into feature",
        synced,
        env=_at(HEAD_TIME),
    )
    head = repo.head
    repo.git("tag", "v2.0.0-rc.1")
    repo.git("checkout", "-q", "main")
    base = repo.commit("main moves on again", "main.txt", env=_at(BASE_TIME))
    repo.git("tag", "-a", "v1.2.3", "-m", "release 1.2.3", env=_at(BASE_TIME))
    repo.git("merge", "-q", "--no-ff", "-m", f"Merge {head} into {base}", head, env=_at(MERGE_TIME))
    merge = repo.head
    repo.git("update-ref", "refs/pull/1/merge", merge)
    repo.git("update-ref", "refs/pull/1/head", head)
    repo.git("reset", "-q", "--hard", base)
    return Hosted(repo, base, head, merge)


def fetch_checkout(tmp_path: Path, hosted: Hosted, *fetch: str, at: str = "FETCH_HEAD") -> Repo:
    """``git init`` + one ``git fetch`` + a detached checkout, as CI checkout code does it."""
    path = tmp_path / "work"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "remote", "add", "origin", ORIGIN)
    git(path, "fetch", "-q", f"file://{hosted.repo.path}", *fetch)
    git(path, "checkout", "-q", "--detach", at)
    return Repo(path)


def strict(mbci: Any, image: str, work: Repo, env: dict[str, str]) -> dict[str, Any]:
    result = mbci("check", image, "--strict", "--format", "json", cwd=work.path, env=env)
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    report["_rc"] = result.returncode
    return report


def test_a_tag_pushed_on_a_merge_commit_is_no_local_merge(tmp_path, hosted, build_image, mbci):
    """actions/checkout fetches a tag push as ``+SHA:refs/tags/NAME`` (no refs/remotes); the
    merge commit the tag points at was pushed, so no "made in the checkout" warning."""
    release = hosted.repo.git("rev-parse", "refs/pull/1/merge")
    hosted.repo.git("tag", "v1.3.0", release)
    try:
        work = fetch_checkout(
            tmp_path, hosted, "--no-tags", "--depth=1", f"+{release}:refs/tags/v1.3.0", at="v1.3.0"
        )
        env = github("push", release, str(tmp_path / "none.json"), GITHUB_REF_NAME="v1.3.0")
        lbls, report = labels_then_check(mbci, build_image, work, env)
        assert lbls[OCI + "version"] == "1.3.0"
        assert_passes(report, "head")
        assert findings(report) == []
        assert strict(mbci, build_image(lbls), work, env)["_rc"] == 0
    finally:
        hosted.repo.git("tag", "-d", "v1.3.0")


def test_a_pull_request_head_that_is_a_merge_checked_out_by_sha(
    tmp_path, hosted, build_image, mbci
):
    """``ref: ${{ github.event.pull_request.head.sha }}`` fetches the SHA into no ref at all."""
    work = fetch_checkout(tmp_path, hosted, "--no-tags", "--depth=1", hosted.head)

    def edit(d: dict[str, Any]) -> None:
        d["pull_request"]["head"]["sha"] = hosted.head

    event = payload("github-pull_request-synchronize.payload.json", tmp_path, edit)
    env = github("pull_request", hosted.merge, event)
    report = strict(mbci, build_image(image_labels(hosted.head, HEAD_TIME)), work, env)
    assert_passes(report, "head")
    assert findings(report, "revision-matches-head") == []
    lbls, again = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == hosted.head
    assert_passes(again, "head")
    assert findings(again) == []


def test_buildkite_merge_refspec_is_no_local_merge(tmp_path, hosted, build_image, mbci):
    """The agent runs ``git fetch origin refs/pull/N/merge`` and ``git checkout -f FETCH_HEAD``;
    GitHub made that merge commit, and later steps get it as BUILDKITE_COMMIT."""
    work = fetch_checkout(tmp_path, hosted, "--no-tags", "refs/pull/1/merge")
    env = {
        "CI": "true",
        "BUILDKITE": "true",
        "BUILDKITE_COMMIT": hosted.merge,
        "BUILDKITE_PULL_REQUEST": "1",
        "BUILDKITE_PULL_REQUEST_USING_MERGE_REFSPEC": "true",
        "BUILDKITE_BRANCH": "feature",
        "BUILDKITE_REPO": ORIGIN,
    }
    lbls, report = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == hosted.merge
    assert_passes(report, "head")
    assert findings(report) == []


def test_jenkins_without_git_commit_finds_the_head_in_its_local_merge(
    tmp_path, hosted, build_image, mbci
):
    """A scripted Pipeline has no GIT_COMMIT in its environment; the checkout is what it built."""
    work = fetch_checkout(
        tmp_path,
        hosted,
        "+refs/pull/1/head:refs/remotes/origin/PR-1",
        "+refs/heads/main:refs/remotes/origin/main",
        at="origin/PR-1",
    )
    merged = local_merge(work, hosted.head, hosted.base)
    env = {"JENKINS_URL": "https://jenkins.example/", "CHANGE_ID": "1", "BRANCH_NAME": "PR-1"}
    report = run_check(mbci, build_image(image_labels(hosted.head, HEAD_TIME)), work, env)
    assert_passes(report, "head")
    assert report["ci"]["pr_head_sha"] == hosted.head
    # labels names the head it found, not the local merge nobody can fetch
    lbls, again = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == hosted.head != merged
    assert_passes(again, "head")
    assert not findings(again)


@pytest.mark.parametrize(("allow", "written"), [(True, "1.2.3"), (False, "v1.2.3")])
def test_labels_write_the_version_the_policy_accepts(
    tmp_path, hosted, build_image, mbci, allow, written
):
    work = fetch_checkout(tmp_path, hosted, "+refs/tags/v1.2.3:refs/tags/v1.2.3", at="v1.2.3")
    policy = f"version: 1\ngit:\n  version:\n    allow-v-prefix: {str(allow).lower()}\n"
    (work.path / ".mb-ci.yml").write_text(policy)
    lbls, report = labels_then_check(mbci, build_image, work, {})
    assert lbls[OCI + "version"] == written
    assert_passes(report, "head")
    assert findings(report) == []


def test_labels_prefer_the_tag_ci_was_started_for(tmp_path, hosted, build_image, mbci):
    """Several tags at HEAD: a floating ``v1`` and ``latest`` sort before ``v1.2.4``."""
    for tag in ("v1.2.4", "v1", "latest"):
        hosted.repo.git("tag", "-f", tag, hosted.base)
    try:
        work = fetch_checkout(tmp_path, hosted, "+refs/tags/*:refs/tags/*", at=hosted.base)
        env = github("push", hosted.base, str(tmp_path / "none.json"), GITHUB_REF_NAME="v1")
        lbls, report = labels_then_check(mbci, build_image, work, env)
        assert lbls[OCI + "version"] == "v1"
        assert_passes(report, "head")
        out = mbci("labels", cwd=work.path)  # no CI: a tag that names a version wins
        assert json.loads(out.stdout)[OCI + "version"] == "1.2.3"
    finally:
        hosted.repo.git("tag", "-d", "v1.2.4", "v1", "latest")


def test_version_is_compared_with_the_tags_of_the_commit_the_revision_matched(
    tmp_path, hosted, build_image, mbci
):
    """pull_request_target checks out main, tagged v1.2.3; the image comes from the head, which
    carries v2.0.0-rc.1. Its version is the head's tag, not main's."""
    work = fetch_checkout(
        tmp_path,
        hosted,
        "+refs/heads/*:refs/remotes/origin/*",
        "+refs/pull/1/head:refs/remotes/pull/1/head",
        "+refs/tags/*:refs/tags/*",
        at=hosted.base,
    )

    def edit(d: dict[str, Any]) -> None:
        d["pull_request"]["head"]["sha"] = hosted.head
        d["pull_request"]["merge_commit_sha"] = hosted.merge

    env = github(
        "pull_request_target",
        hosted.base,
        payload("github-pull_request-labeled.payload.json", tmp_path, edit),
    )
    right = {**image_labels(hosted.head, HEAD_TIME), OCI + "version": "2.0.0-rc.1"}
    assert_passes(run_check(mbci, build_image(right), work, env), "head")
    wrong = {**image_labels(hosted.head, HEAD_TIME), OCI + "version": "1.2.3"}
    report = run_check(mbci, build_image(wrong), work, env)
    (finding,) = findings(report, "version-matches-tag")
    assert finding["severity"] == "error" and finding["expected"] == "v2.0.0-rc.1"
    assert "the head commit" in finding["message"]

    (work.path / ".mb-ci.yml").write_text("version: 1\ngit:\n  revision:\n    accept: head\n")
    lbls, again = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == hosted.head
    assert lbls[OCI + "version"] == "2.0.0-rc.1"
    assert_passes(again, "head")


def test_a_payload_without_the_heads_sha_says_so(tmp_path, hosted, build_image, mbci):
    work = fetch_checkout(tmp_path, hosted, "--no-tags", "refs/pull/1/merge")

    def edit(d: dict[str, Any]) -> None:
        del d["pull_request"]["head"]["sha"]

    env = github(
        "pull_request",
        hosted.merge,
        payload("github-pull_request-opened.payload.json", tmp_path, edit),
    )
    report = run_check(mbci, build_image(image_labels(hosted.head, HEAD_TIME)), work, env)
    messages = [f["message"] for f in findings(report, "revision-matches-head")]
    assert any("pull_request.head.sha" in m and "head commit is unknown" in m for m in messages)
    out = mbci("labels", cwd=work.path, env=env)
    assert out.returncode == 0 and "pull_request.head.sha" in out.stderr


def test_workflow_run_on_a_shallow_default_branch_says_how_to_fetch_the_head(
    tmp_path, hosted, build_image, mbci
):
    """fetch-depth: 2 fetches a merge commit's parents; workflow_run.head_sha is no parent of
    the default branch's tip, so the hint must not send the user there."""
    work = fetch_checkout(
        tmp_path, hosted, "--no-tags", "--depth=1", f"+{hosted.base}:refs/remotes/origin/main"
    )

    def edit(d: dict[str, Any]) -> None:
        d["workflow_run"]["head_sha"] = hosted.head

    event = payload("github-workflow_run-completed.with-pull-requests.payload.json", tmp_path, edit)
    env = github("workflow_run", hosted.base, event)
    report = run_check(mbci, build_image(image_labels(hosted.head, HEAD_TIME)), work, env)
    assert_passes(report, "head")
    (finding,) = findings(report, "created-after-commit")
    assert finding["severity"] == "warning"
    assert "fetch-depth: 0" in finding["message"] and "fetch-depth: 2" not in finding["message"]


@pytest.mark.parametrize("spec", [None, "commit"])
def test_a_commit_dated_in_the_future_labels_and_checks_the_current_time(
    tmp_path, build_image, mbci, spec
):
    """The committer's clock was a day ahead (a drifted VM): created cannot be the commit time
    (created-not-future) and a truthful image built now must not fail created-after-commit."""
    ahead = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).replace(microsecond=0)
    repo = new_repo(tmp_path / "widget")
    repo.commit("from the future", env=_at(ahead.isoformat()))
    args = ("labels",) if spec is None else ("labels", "--created", spec)
    out = mbci(*args, cwd=repo.path)
    assert out.returncode == 0 and "in the future" in out.stderr, out.stderr
    lbls = json.loads(out.stdout)
    created = dt.datetime.fromisoformat(lbls[OCI + "created"].replace("Z", "+00:00"))
    assert created < ahead
    report = run_check(mbci, build_image(lbls), repo, {})
    assert_passes(report, "head")
    assert findings(report) == []

    stale = {**lbls, OCI + "created": (created - dt.timedelta(hours=1)).isoformat()}
    (finding,) = findings(run_check(mbci, build_image(stale), repo, {}), "created-after-commit")
    assert finding["severity"] == "error"


def test_source_date_epoch_before_the_commit_is_said_on_stderr(tmp_path, mbci):
    """Epoch 0 (reproducible images) is kept, as a policy may turn created-after-commit off, but
    `labels` no longer hands over a value `check` fails without a word."""
    repo = new_repo(tmp_path / "widget")
    out = mbci("labels", cwd=repo.path, env={"SOURCE_DATE_EPOCH": "0"})
    assert out.returncode == 0
    assert json.loads(out.stdout)[OCI + "created"] == "1970-01-01T00:00:00Z"
    assert "SOURCE_DATE_EPOCH=0 is before the commit's time" in out.stderr
    epoch = repo.git("log", "-1", "--format=%ct")
    same = mbci("labels", cwd=repo.path, env={"SOURCE_DATE_EPOCH": epoch})
    assert same.returncode == 0 and same.stderr == ""
