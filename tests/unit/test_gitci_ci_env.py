"""CI facts from the real payload examples, resolved against commit facts; pure, no engine."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from helpers import paths

from mb_ci.checks import check_image
from mb_ci.facts import ci as ci_env
from mb_ci.facts.git import _signature_time
from mb_ci.models import CiFacts, Commit, GitFacts, ImageFacts, PlatformFacts, Report
from mb_ci.policy import GitPolicy, Policy

DATA = paths.DATA / "ci"
OCI = "org.opencontainers.image."
SOURCE = "https://github.com/acme/widget"
UTC = dt.timezone.utc
H, B, M, L = "1" * 40, "2" * 40, "3" * 40, "4" * 40
T_HEAD = dt.datetime(2026, 3, 1, 10, tzinfo=UTC)
T_BASE = dt.datetime(2026, 3, 2, 10, tzinfo=UTC)
T_MERGE = dt.datetime(2026, 3, 3, 10, tzinfo=UTC)
NOW = dt.datetime(2026, 4, 1, tzinfo=UTC)


def real(event: str, name: str) -> dict[str, str]:
    """The environment of a GitHub job with one of the real payload examples, unchanged."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_SHA": M,
        "GITHUB_EVENT_PATH": str(DATA / name),
    }


def test_real_pull_request_payload():
    facts = ci_env.read(real("pull_request", "github-pull_request-opened.payload.json"))
    assert (facts.pr_head_sha, facts.pr_merge_sha) == (
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        M,
    )
    assert facts.problems == ()


def test_real_pull_request_target_payload_takes_merge_commit_sha():
    facts = ci_env.read(real("pull_request_target", "github-pull_request-labeled.payload.json"))
    assert facts.pr_merge_sha == "c4295bd74fb0f4fda03689c3df3f2803b658fd85"
    # opened: GitHub has not made the test merge yet, merge_commit_sha is null
    opened = ci_env.read(real("pull_request_target", "github-pull_request-opened.payload.json"))
    assert opened.pr_merge_sha is None and opened.is_pull_request


def test_real_merge_group_and_workflow_run_and_push_payloads():
    group = ci_env.read(real("merge_group", "github-merge_group-checks_requested.payload.json"))
    assert (group.pr_head_sha, group.pr_merge_sha) == (
        None,
        "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d",
    )
    run = ci_env.read(
        real("workflow_run", "github-workflow_run-completed.with-pull-requests.payload.json")
    )
    assert run.pr_head_sha == "3484a3fb816e0859fd6e1cea078d76385ff50625"
    push = ci_env.read(real("push", "github-push-with-new-branch.payload.json"))
    assert not push.is_pull_request and push.sha == M


@pytest.mark.parametrize("event", ["pull_request", "pull_request_target"])
def test_pull_request_without_payload_is_a_pull_request_with_a_problem(tmp_path, event):
    env = {**real(event, "x"), "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    facts = ci_env.read(env)
    assert facts.is_pull_request and facts.pr_head_sha is None
    assert facts.pr_merge_sha == (M if event == "pull_request" else None)
    (problem,) = facts.problems
    assert "GITHUB_EVENT_PATH" in problem and "cannot be read" in problem
    del env["GITHUB_EVENT_PATH"]
    assert "is not set" in ci_env.read(env).problems[0]


def test_pull_request_payload_that_is_not_an_object(tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(["pull_request"]))
    facts = ci_env.read({**real("pull_request", "x"), "GITHUB_EVENT_PATH": str(path)})
    assert "is not a JSON object" in facts.problems[0]


def _git(head: str, *commits: Commit) -> GitFacts:
    times = {c.sha: c.time for c in commits}
    return GitFacts(
        "/r",
        head,
        times.get(head, T_MERGE),
        remote_name="origin",
        remote_url=SOURCE,
        remote_normalized=SOURCE,
        commits={c.sha: c for c in commits},
    )


MERGE = Commit(M, T_MERGE, (B, H))  # GitHub's and Azure's test merge: first parent the target
HEAD = Commit(H, T_HEAD, (B,))
BASE = Commit(B, T_BASE)


def test_azure_without_source_commit_takes_the_second_parent():
    env = {"TF_BUILD": "True", "BUILD_REASON": "PullRequest", "BUILD_SOURCEVERSION": M}
    facts = ci_env.read(env)
    assert (facts.pr_head_sha, facts.pr_merge_sha, facts.head_parent) == (None, M, 2)
    resolved = ci_env.resolve(facts, _git(M, MERGE, HEAD, BASE))
    assert (resolved.pr_head_sha, resolved.pr_merge_sha) == (H, M)
    # the merge commit is not in the checkout: nothing to resolve, and no guess
    assert ci_env.resolve(facts, _git(B, BASE)).pr_head_sha is None
    assert ci_env.resolve(facts, None) == facts


def test_azure_push_build_is_no_pull_request():
    facts = ci_env.read(
        {"TF_BUILD": "True", "BUILD_REASON": "IndividualCI", "BUILD_SOURCEVERSION": M}
    )
    assert not facts.is_pull_request and facts.head_parent is None


def test_jenkins_merge_and_head_strategies():
    env = {"JENKINS_URL": "https://j/", "CHANGE_ID": "3", "GIT_COMMIT": L}
    facts = ci_env.read(env)
    local = Commit(L, T_MERGE, (H, B), fetched=False)  # the target merged into the PR head
    resolved = ci_env.resolve(facts, _git(L, local, HEAD, BASE))
    assert (resolved.pr_head_sha, resolved.pr_merge_sha) == (H, L)
    head_only = ci_env.resolve(ci_env.read({**env, "GIT_COMMIT": H}), _git(H, HEAD))
    assert (head_only.pr_head_sha, head_only.pr_merge_sha) == (H, None)
    # the head strategy on a PR whose head is itself a merge (main merged into the branch)
    fetched = Commit(L, T_MERGE, (H, B), fetched=True)
    merged_head = ci_env.resolve(facts, _git(L, fetched, HEAD, BASE))
    assert (merged_head.pr_head_sha, merged_head.pr_merge_sha) == (L, None)
    branch = ci_env.read({"JENKINS_URL": "https://j/", "GIT_COMMIT": H})
    assert not branch.is_pull_request


def _image(revision: str, created: str) -> ImageFacts:
    labels = {OCI + "revision": revision, OCI + "created": created, OCI + "source": SOURCE}
    return ImageFacts("img", "docker-daemon", (PlatformFacts("linux/amd64", labels),))


def _findings(image: ImageFacts, git: GitFacts, ci: CiFacts, accept: str = "either"):
    return check_image(image, git, ci, Policy(git=GitPolicy(accept=accept)), now=NOW)


PR = CiFacts("github", M, H, M, "pull_request")


@pytest.mark.parametrize(
    ("revision", "created", "matched", "failing"),
    [
        (H, "2026-03-01T10:00:00Z", "head", []),
        (H[:7], "2026-03-01T10:00:00Z", "head", []),
        (H, "2026-03-01T09:00:00Z", "head", ["created-after-commit"]),
        (M, "2026-03-03T10:00:00Z", "merge", []),
        (M, "2026-03-01T10:00:00Z", "merge", ["created-after-commit"]),
        (B, "2026-03-01T10:00:00Z", None, ["revision-matches-head"]),
    ],
)
def test_created_is_compared_with_the_commit_the_revision_matched(
    revision, created, matched, failing
):
    result = _findings(_image(revision, created), _git(M, MERGE, HEAD, BASE), PR)
    assert result.matched_commit == matched
    assert sorted(f.check for f in result.findings if f.severity.value == "error") == failing


def test_without_the_head_object_created_is_not_compared_with_the_merge():
    result = _findings(_image(H, "2026-03-01T10:00:00Z"), _git(M, MERGE), PR)
    (finding,) = result.findings
    assert (finding.check, finding.severity.value) == ("created-after-commit", "warning")
    assert H in finding.message and "shallow" in finding.message


def test_local_merge_is_a_warning_and_a_fetched_one_is_not():
    ci = CiFacts("jenkins", L, H, L, "pull_request", pull_request=True)
    local = Commit(L, T_MERGE, (H, B), fetched=False)
    (warning,) = _findings(_image(L, "2026-03-03T10:00:00Z"), _git(L, local, HEAD), ci).findings
    assert warning.severity.value == "warning" and "exists in no remote" in warning.message
    fetched = Commit(L, T_MERGE, (H, B), fetched=True)
    assert not _findings(_image(L, "2026-03-03T10:00:00Z"), _git(L, fetched, HEAD), ci).findings


def test_verbose_text_never_prints_none():
    from mb_ci.report import RenderOptions, render

    for ci in (
        CiFacts("github", M, None, M, "merge_group"),
        CiFacts("github", M, None, None, "pull_request", pull_request=True),
        CiFacts("github", None, H, None, "workflow_run"),
    ):
        report = Report("check", "img", (), git=_git(M, MERGE), ci=ci, matched_commit="merge")
        text = render(report, "text", RenderOptions(verbose=True))
        assert "None" not in text, text
        assert "pr-head=-" in text or "pr-merge=-" in text


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("A U Thor <a@example.com> 1700000000 +0000", "2023-11-14T22:13:20+00:00"),
        ("A <a@b> 1700000000 -0530", "2023-11-14T16:43:20-05:30"),
        ("A <weird > email> 1700000000 +0100", "2023-11-14T23:13:20+01:00"),
        # a zone no clock has (git fsck's badTimezone) keeps the instant, shown in UTC
        ("A <a@b> 1 +0", "1970-01-01T00:00:01+00:00"),
        ("A <a@b> 1700000000 +9959", "2023-11-14T22:13:20+00:00"),
    ],
)
def test_commit_signature_times(signature, expected):
    when = _signature_time(signature)
    assert when is not None and when.isoformat() == expected


@pytest.mark.parametrize("signature", ["", "A <a@b>", "A <a@b> x +0000", "A <a@b> 1"])
def test_malformed_signature_times(signature):
    assert _signature_time(signature) is None


def test_commit_lookup_by_abbreviation():
    git = _git(M, MERGE, HEAD, Commit("1" * 7 + "2" * 33, T_BASE))
    assert git.commit(M[:7]) == MERGE
    assert git.commit(H[:7]) is None  # ambiguous between two commits
    assert git.commit(H[:6]) is None
    assert git.commit(H.upper()) == HEAD
