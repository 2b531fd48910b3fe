"""Pull-request builds end to end: real webhook payloads and the CI variables each CI documents.

Every scenario runs in a checkout laid out as that CI leaves it (real git repositories in temp
dirs), with the SHAs of GitHub's published payload examples (tests/data/ci, origins in
tests/data/SOURCES.md) rewritten at run time to the test repository's commits, against images
built FROM scratch on the real engine. The commits are dated so that the merge commit is newer
than the pull request's head, as on a real pull request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import paths
from helpers.git import ORIGIN, Repo, git, new_repo

pytestmark = pytest.mark.docker

DATA = paths.DATA / "ci"
OCI = "org.opencontainers.image."
SOURCE = "https://github.com/acme/widget"
HEAD_TIME = "2026-03-01T10:00:00Z"  # the pull request's head
BASE_TIME = "2026-03-02T10:00:00Z"  # the target branch moved on after the PR branched
MERGE_TIME = "2026-03-03T10:00:00Z"  # the merge commit CI (or GitHub) made for the PR build


def _at(when: str) -> dict[str, str]:
    return {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}


@dataclass
class Upstream:
    """The hosting side: main, a feature branch and the PR's merge ref, like refs/pull/1/merge."""

    repo: Repo
    base: str  # main's tip
    head: str  # the feature branch's tip: the pull request's head
    merge: str  # main merged with the head, first parent main (GitHub's test merge)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    repo = new_repo(tmp_path_factory.mktemp("upstream") / "widget", origin=None)
    repo.git("commit", "-q", "--amend", "--no-edit", "--reset-author", env=_at("2026-02-01T10:00Z"))
    fork = repo.head
    repo.git("checkout", "-q", "-b", "feature")
    head = repo.commit("feature work", "feature.txt", env=_at(HEAD_TIME))
    repo.git("checkout", "-q", "main")
    base = repo.commit("main moves on", "main.txt", env=_at(BASE_TIME))
    repo.git("merge", "-q", "--no-ff", "-m", "Merge head into base", head, env=_at(MERGE_TIME))
    merge = repo.head
    repo.git("update-ref", "refs/pull/1/merge", merge)
    repo.git("update-ref", "refs/pull/1/head", head)
    repo.git("reset", "-q", "--hard", base)
    assert fork != base
    return Upstream(repo, base, head, merge)


def checkout(
    tmp_path: Path, up: Upstream, commit: str, refspecs: tuple[str, ...], depth: int | None = None
) -> Repo:
    """A CI checkout: fetch the refspecs from upstream, detach at ``commit``, origin on GitHub."""
    path = tmp_path / "work"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "remote", "add", "origin", ORIGIN)
    deep = () if depth is None else (f"--depth={depth}",)
    git(path, "fetch", "-q", *deep, f"file://{up.repo.path}", *refspecs)
    git(path, "checkout", "-q", "--detach", commit)
    return Repo(path)


def local_merge(work: Repo, into: str, other: str, when: str = MERGE_TIME) -> str:
    """A merge commit made in the checkout itself (Jenkins' merge strategy, Bitbucket PRs)."""
    work.git("checkout", "-q", "--detach", into)
    work.git("merge", "-q", "--no-ff", "-m", "local merge", other, env=_at(when))
    return work.head


def payload(name: str, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> str:
    """One of GitHub's published payload examples with its SHAs rewritten to ours."""
    data = json.loads((DATA / name).read_text())
    edit(data)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data))
    return str(path)


def github(event: str, sha: str, event_path: str, **extra: str) -> dict[str, str]:
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_SHA": sha,
        "GITHUB_EVENT_PATH": event_path,
        "GITHUB_REPOSITORY": "acme/widget",
        "GITHUB_REF_NAME": "1/merge",
        **extra,
    }


def image_labels(revision: str, created: str) -> dict[str, str]:
    return {OCI + "revision": revision, OCI + "created": created, OCI + "source": SOURCE}


def run_check(mbci: Any, image: str, work: Repo, env: Mapping[str, str]) -> dict[str, Any]:
    result = mbci("check", image, "--format", "json", cwd=work.path, env=env)
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    report["_rc"] = result.returncode
    return report


def findings(report: Mapping[str, Any], check: str | None = None) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if check is None or f["check"] == check]


def assert_passes(report: Mapping[str, Any], matched: str) -> None:
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert report["_rc"] == 0 and not errors, errors
    assert report["matched_commit"] == matched


def labels_then_check(
    mbci: Any, build_image: Any, work: Repo, env: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, Any]]:
    """What ``mb-ci labels`` writes in this CI context, built into an image, then checked."""
    out = mbci("labels", cwd=work.path, env=env)
    assert out.returncode == 0, out.stderr
    lbls: dict[str, str] = json.loads(out.stdout)
    return lbls, run_check(mbci, build_image(lbls), work, env)


PR_REFS = (
    "+refs/heads/*:refs/remotes/origin/*",
    "+refs/pull/1/merge:refs/remotes/pull/1/merge",
)


# --- GitHub, through the real payloads -----------------------------------------------------


def test_pull_request_image_from_the_head_passes_created_against_the_head(
    tmp_path, upstream, build_image, mbci
):
    """The issue's case: revision matched the head, created was compared with the merge."""
    work = checkout(tmp_path, upstream, upstream.merge, PR_REFS)

    def edit(d: dict[str, Any]) -> None:
        d["pull_request"]["head"]["sha"] = upstream.head

    env = github(
        "pull_request",
        upstream.merge,
        payload("github-pull_request-opened.payload.json", tmp_path, edit),
    )
    image = build_image(image_labels(upstream.head, HEAD_TIME))
    report = run_check(mbci, image, work, env)
    assert_passes(report, "head")
    assert not findings(report, "created-after-commit")
    assert report["ci"]["pr_head_sha"] == upstream.head

    # one second before the head's commit time (beyond the clock skew) still fails
    early = build_image(image_labels(upstream.head, "2026-03-01T09:00:00Z"))
    bad = run_check(mbci, early, work, env)
    (finding,) = findings(bad, "created-after-commit")
    assert finding["severity"] == "error"
    assert "head commit" in finding["message"] and HEAD_TIME in finding["expected"]

    lbls, again = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == upstream.merge
    assert_passes(again, "merge")


def test_pull_request_with_accept_head_labels_the_head(tmp_path, upstream, build_image, mbci):
    work = checkout(tmp_path, upstream, upstream.merge, PR_REFS)
    (work.path / ".mb-ci.yml").write_text("version: 1\ngit:\n  revision:\n    accept: head\n")

    def edit(d: dict[str, Any]) -> None:
        d["pull_request"]["head"]["sha"] = upstream.head

    path = payload("github-pull_request-synchronize.payload.json", tmp_path, edit)
    env = github("pull_request", upstream.merge, path)
    lbls, report = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == upstream.head
    assert lbls[OCI + "created"] == HEAD_TIME
    assert_passes(report, "head")


def test_pull_request_target_checks_out_the_base(tmp_path, upstream, build_image, mbci):
    """HEAD is the base branch's tip; the payload names the head and the merge commit."""
    work = checkout(tmp_path, upstream, upstream.base, PR_REFS)

    def edit(d: dict[str, Any]) -> None:
        d["pull_request"]["head"]["sha"] = upstream.head
        d["pull_request"]["merge_commit_sha"] = upstream.merge

    path = payload("github-pull_request-labeled.payload.json", tmp_path, edit)
    env = github("pull_request_target", upstream.base, path)
    report = run_check(mbci, build_image(image_labels(upstream.head, HEAD_TIME)), work, env)
    assert_passes(report, "head")
    merged = run_check(mbci, build_image(image_labels(upstream.merge, MERGE_TIME)), work, env)
    assert_passes(merged, "merge")
    lbls, again = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == upstream.base
    assert lbls[OCI + "created"] == BASE_TIME
    assert_passes(again, "checkout")


def test_merge_group_and_verbose_never_prints_none(tmp_path, upstream, build_image, mbci):
    work = checkout(tmp_path, upstream, upstream.merge, PR_REFS)

    def edit(d: dict[str, Any]) -> None:
        d["merge_group"]["head_sha"] = upstream.merge
        d["merge_group"]["base_sha"] = upstream.base

    path = payload("github-merge_group-checks_requested.payload.json", tmp_path, edit)
    env = github("merge_group", upstream.merge, path)
    lbls, report = labels_then_check(mbci, build_image, work, env)
    assert_passes(report, "merge")
    text = mbci("check", build_image(lbls), "-v", cwd=work.path, env=env)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "pr-merge=" + upstream.merge in text.stdout
    assert "None" not in text.stdout


def test_push(tmp_path, upstream, build_image, mbci):
    work = checkout(tmp_path, upstream, upstream.base, PR_REFS[:1])

    def edit(d: dict[str, Any]) -> None:
        d["after"] = d["head_commit"]["id"] = upstream.base

    env = github(
        "push", upstream.base, payload("github-push-with-new-branch.payload.json", tmp_path, edit)
    )
    _, report = labels_then_check(mbci, build_image, work, env)
    assert_passes(report, "head")
    wrong = run_check(mbci, build_image(image_labels(upstream.head, HEAD_TIME)), work, env)
    assert findings(wrong, "revision-matches-head")[0]["severity"] == "error"


def test_workflow_run_reads_the_triggering_runs_head(tmp_path, upstream, build_image, mbci):
    """A workflow_run job runs on the default branch; the image comes from the run's head_sha."""
    work = checkout(tmp_path, upstream, upstream.base, PR_REFS)

    def edit(d: dict[str, Any]) -> None:
        d["workflow_run"]["head_sha"] = upstream.head

    path = payload("github-workflow_run-completed.with-pull-requests.payload.json", tmp_path, edit)
    env = github("workflow_run", upstream.base, path)
    report = run_check(mbci, build_image(image_labels(upstream.head, HEAD_TIME)), work, env)
    assert_passes(report, "head")
    assert report["ci"]["pr_head_sha"] == upstream.head


@pytest.mark.parametrize("broken", ["missing", "truncated"])
def test_pull_request_without_a_readable_payload_never_calls_the_merge_head(
    tmp_path, upstream, build_image, mbci, broken
):
    work = checkout(tmp_path, upstream, upstream.merge, PR_REFS)
    path = tmp_path / "event.json"
    if broken == "truncated":
        text = (DATA / "github-pull_request-opened.payload.json").read_text()
        path.write_text(text[: len(text) // 2])
    env = github("pull_request", upstream.merge, str(path))
    image = build_image(image_labels(upstream.merge, MERGE_TIME))
    report = run_check(mbci, image, work, env)
    assert_passes(report, "merge")
    (warning,) = findings(report, "revision-matches-head")
    assert warning["severity"] == "warning"
    assert (
        "GITHUB_EVENT_PATH" in warning["message"] and "head commit is unknown" in warning["message"]
    )
    out = mbci("labels", cwd=work.path, env=env)
    assert out.returncode == 0 and "GITHUB_EVENT_PATH" in out.stderr


def test_shallow_pull_request_checkout_says_it_cannot_compare(
    tmp_path, upstream, build_image, mbci
):
    """actions/checkout's default fetch-depth 1 holds the merge commit but not the head."""
    work = checkout(tmp_path, upstream, upstream.merge, PR_REFS[1:], depth=1)
    assert work.git("rev-parse", "--is-shallow-repository") == "true"

    def edit(d: dict[str, Any]) -> None:
        d["pull_request"]["head"]["sha"] = upstream.head

    env = github(
        "pull_request",
        upstream.merge,
        payload("github-pull_request-opened.payload.json", tmp_path, edit),
    )
    report = run_check(mbci, build_image(image_labels(upstream.head, HEAD_TIME)), work, env)
    assert_passes(report, "head")
    (finding,) = findings(report, "created-after-commit")
    assert finding["severity"] == "warning"
    assert upstream.head in finding["message"] and "fetch-depth" in finding["message"]
    strict = mbci(
        "check",
        build_image(image_labels(upstream.head, HEAD_TIME)),
        "--strict",
        cwd=work.path,
        env=env,
    )
    assert strict.returncode == 1


# --- the CI variables each CI documents ----------------------------------------------------


def test_gitlab_merged_results_pipeline(tmp_path, upstream, build_image, mbci):
    # the runner fetches refs/pipelines/<id>, which points at the merge commit GitLab made
    work = checkout(tmp_path, upstream, upstream.merge, ("+refs/pull/1/merge:refs/pipelines/77",))
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_COMMIT_SHA": upstream.merge,
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": upstream.head,
        "CI_MERGE_REQUEST_IID": "1",
        "CI_PROJECT_URL": SOURCE,
    }
    assert_passes(
        run_check(mbci, build_image(image_labels(upstream.head, HEAD_TIME)), work, env), "head"
    )
    _, report = labels_then_check(mbci, build_image, work, env)
    assert_passes(report, "merge")
    assert not findings(report)  # GitLab's merge commit is in a fetched ref: no local-merge note


@pytest.mark.parametrize("depth", [None, 1])
def test_azure_pull_request_without_source_commit_finds_the_head_among_parents(
    tmp_path, upstream, build_image, mbci, depth
):
    work = checkout(tmp_path, upstream, upstream.merge, PR_REFS[1:], depth=depth)
    env = {
        "TF_BUILD": "True",
        "BUILD_REASON": "PullRequest",
        "BUILD_SOURCEVERSION": upstream.merge,
        "SYSTEM_PULLREQUEST_PULLREQUESTID": "1",
        "BUILD_REPOSITORY_URI": SOURCE,
    }
    report = run_check(mbci, build_image(image_labels(upstream.head, HEAD_TIME)), work, env)
    assert_passes(report, "head")
    assert report["ci"]["pr_head_sha"] == upstream.head
    created = findings(report, "created-after-commit")
    # the merge commit object names its parents even in a shallow clone; the head's time is
    # known only when its object was fetched
    assert [f["severity"] for f in created] == ([] if depth is None else ["warning"])
    base = run_check(mbci, build_image(image_labels(upstream.base, BASE_TIME)), work, env)
    assert findings(base, "revision-matches-head")[0]["severity"] == "error"


def test_bitbucket_pull_request_local_merge(tmp_path, upstream, build_image, mbci):
    """Bitbucket merges the destination into the source commit in the clone step."""
    work = checkout(tmp_path, upstream, upstream.head, PR_REFS[:1])
    merged = local_merge(work, upstream.head, upstream.base)
    env = {
        "CI": "true",
        "BITBUCKET_BUILD_NUMBER": "9",
        "BITBUCKET_COMMIT": upstream.head,
        "BITBUCKET_PR_ID": "7",
        "BITBUCKET_BRANCH": "feature",
    }
    assert_passes(
        run_check(mbci, build_image(image_labels(upstream.head, HEAD_TIME)), work, env), "head"
    )
    # labels names the pull request's head, not the merge nobody can fetch, and check passes
    # that without a warning (so --strict passes too)
    lbls, report = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == upstream.head
    assert_passes(report, "head")
    assert findings(report, "revision-matches-head") == []
    # an image labelled with the local merge passes, with a warning that says why it should not
    report = run_check(mbci, build_image(image_labels(merged, MERGE_TIME)), work, env)
    assert_passes(report, "checkout")
    (warning,) = findings(report, "revision-matches-head")
    assert warning["severity"] == "warning" and "exists in no remote" in warning["message"]


def test_jenkins_merge_strategy(tmp_path, upstream, build_image, mbci):
    """GIT_COMMIT is a merge of the target into the PR head that the agent made locally."""
    work = checkout(tmp_path, upstream, upstream.head, PR_REFS[:1])
    merged = local_merge(work, upstream.head, upstream.base)
    env = {
        "JENKINS_URL": "https://jenkins.example/",
        "GIT_COMMIT": merged,
        "CHANGE_ID": "1",
        "BRANCH_NAME": "PR-1",
        "GIT_URL": SOURCE,
    }
    report = run_check(mbci, build_image(image_labels(upstream.head, HEAD_TIME)), work, env)
    assert_passes(report, "head")
    assert not findings(report)
    # labels names the head (the merge exists in no remote); check passes it without a warning
    lbls, again = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == upstream.head
    assert_passes(again, "head")
    assert not findings(again)
    # an image labelled with the local merge passes, with a warning that says why it should not
    report = run_check(mbci, build_image(image_labels(merged, MERGE_TIME)), work, env)
    assert_passes(report, "merge")
    (warning,) = findings(report, "revision-matches-head")
    assert "jenkins made in the checkout" in warning["message"]


def test_jenkins_head_strategy(tmp_path, upstream, build_image, mbci):
    work = checkout(tmp_path, upstream, upstream.head, PR_REFS[:1])
    env = {"JENKINS_URL": "https://j/", "GIT_COMMIT": upstream.head, "CHANGE_ID": "1"}
    _, report = labels_then_check(mbci, build_image, work, env)
    assert_passes(report, "head")
    assert not findings(report)


def test_jenkins_head_strategy_on_a_head_that_is_a_merge(tmp_path, upstream, build_image, mbci):
    """A PR head that is itself a merge (main merged into the branch) is fetched, not local."""
    refs = ("+refs/pull/1/merge:refs/remotes/origin/PR-1",)
    work = checkout(tmp_path, upstream, upstream.merge, refs)
    env = {"JENKINS_URL": "https://j/", "GIT_COMMIT": upstream.merge, "CHANGE_ID": "1"}
    lbls, report = labels_then_check(mbci, build_image, work, env)
    assert lbls[OCI + "revision"] == upstream.merge
    assert_passes(report, "head")
    assert not findings(report)
    parent = run_check(mbci, build_image(image_labels(upstream.base, BASE_TIME)), work, env)
    assert findings(parent, "revision-matches-head")[0]["severity"] == "error"


@pytest.mark.parametrize("accept", ["either", "head", "merge"])
def test_build_labels_what_check_accepts_on_a_pull_request(
    tmp_path, upstream, engine, mbci, accept
):
    """`mb-ci build` checks its own image in the same CI context, whatever the policy accepts."""
    work = checkout(tmp_path, upstream, upstream.merge, PR_REFS)
    (work.path / ".mb-ci.yml").write_text(f"version: 1\ngit:\n  revision:\n    accept: {accept}\n")
    (work.path / "Dockerfile").write_text("FROM scratch\nCOPY payload.txt /\n")  # untracked
    (work.path / "payload.txt").write_text("x\n")

    def edit(d: dict[str, Any]) -> None:
        d["pull_request"]["head"]["sha"] = upstream.head

    env = github(
        "pull_request",
        upstream.merge,
        payload("github-pull_request-synchronize.payload.json", tmp_path, edit),
    )
    tag = f"mb-ci-test/gitci-build-{accept}:pr"
    try:
        res = mbci("build", ".", "-t", tag, "--format", "json", cwd=work.path, env=env)
        assert res.returncode == 0, res.stderr[-2000:] + res.stdout
        report = json.loads(res.stdout)
        expected = {"either": "merge", "head": "head", "merge": "merge"}[accept]
        assert report["result"] == "pass" and report["matched_commit"] == expected
        labels = engine.images.get(tag).labels
        commit = upstream.head if accept == "head" else upstream.merge
        assert labels[OCI + "revision"] == commit
        assert labels[OCI + "created"] == (HEAD_TIME if accept == "head" else MERGE_TIME)
    finally:
        try:
            engine.images.remove(tag, force=True)
        except Exception:
            pass
