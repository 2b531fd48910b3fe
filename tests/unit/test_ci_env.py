"""Which commit each CI system says it built, read from its environment (pure, no engine)."""

from __future__ import annotations

import json

import pytest

from mb_ci.checks.git import candidates
from mb_ci.facts import ci as ci_env
from mb_ci.models import CiFacts, GitFacts

A = "a" * 40
B = "b" * 40
C = "c" * 40
SHA256 = "d" * 64


def test_no_ci_at_all():
    facts = ci_env.read({"HOME": "/root", "GIT_COMMIT": A})
    assert facts == CiFacts()
    assert not facts.is_pull_request


@pytest.mark.parametrize(
    ("env", "provider", "sha", "ref"),
    [
        (
            {"GITHUB_ACTIONS": "true", "GITHUB_SHA": A, "GITHUB_REF_NAME": "main"},
            "github",
            A,
            "main",
        ),
        (
            {"GITLAB_CI": "true", "CI_COMMIT_SHA": A, "CI_COMMIT_REF_NAME": "dev"},
            "gitlab",
            A,
            "dev",
        ),
        (
            {
                "GITLAB_CI": "true",
                "CI_COMMIT_SHA": A,
                "CI_COMMIT_TAG": "v1",
                "CI_COMMIT_REF_NAME": "v1",
            },
            "gitlab",
            A,
            "v1",
        ),
        (
            {"JENKINS_URL": "http://j/", "GIT_COMMIT": A, "BRANCH_NAME": "main"},
            "jenkins",
            A,
            "main",
        ),
        (
            {"TF_BUILD": "True", "BUILD_SOURCEVERSION": A, "BUILD_SOURCEBRANCHNAME": "main"},
            "azure",
            A,
            "main",
        ),
        (
            {"BITBUCKET_BUILD_NUMBER": "7", "BITBUCKET_COMMIT": A, "BITBUCKET_BRANCH": "b"},
            "bitbucket",
            A,
            "b",
        ),
        ({"CIRCLECI": "true", "CIRCLE_SHA1": A, "CIRCLE_BRANCH": "main"}, "circleci", A, "main"),
        (
            {"BUILDKITE": "true", "BUILDKITE_COMMIT": A, "BUILDKITE_BRANCH": "main"},
            "buildkite",
            A,
            "main",
        ),
    ],
)
def test_each_provider_on_a_push(env, provider, sha, ref):
    facts = ci_env.read(env)
    assert (facts.provider, facts.sha, facts.ref_name) == (provider, sha, ref)
    assert not facts.is_pull_request


def test_shas_are_lowercased_and_trimmed():
    facts = ci_env.read({"CIRCLECI": "true", "CIRCLE_SHA1": f"  {A.upper()}\n"})
    assert facts.sha == A


@pytest.mark.parametrize(
    "value",
    ["HEAD", "main", "", "abc123", "g" * 40, "a" * 41, "a" * 65, A + "-dirty", "$GIT_COMMIT"],
)
def test_values_that_are_not_shas_are_ignored(value):
    assert ci_env.read({"BUILDKITE": "true", "BUILDKITE_COMMIT": value}).sha is None
    assert ci_env.read({"GITHUB_ACTIONS": "true", "GITHUB_SHA": value}).sha is None


def test_sha256_object_names_count():
    assert ci_env.read({"JENKINS_HOME": "/var/j", "GIT_COMMIT": SHA256}).sha == SHA256


def _event(tmp_path, payload) -> str:
    path = tmp_path / "event.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return str(path)


def test_github_pull_request_merge_and_head(tmp_path):
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_SHA": A,
        "GITHUB_EVENT_PATH": _event(tmp_path, {"pull_request": {"head": {"sha": B.upper()}}}),
    }
    facts = ci_env.read(env)
    assert (facts.sha, facts.pr_head_sha, facts.pr_merge_sha) == (A, B, A)
    assert facts.event == "pull_request"
    assert facts.is_pull_request


def test_github_pull_request_target_takes_the_merge_commit_from_the_payload(tmp_path):
    payload = {"pull_request": {"head": {"sha": B}, "merge_commit_sha": C}}
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request_target",
        "GITHUB_SHA": A,  # the base branch here, not the pull request
        "GITHUB_EVENT_PATH": _event(tmp_path, payload),
    }
    facts = ci_env.read(env)
    assert (facts.sha, facts.pr_head_sha, facts.pr_merge_sha) == (A, B, C)


def test_github_merge_group(tmp_path):
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "merge_group",
        "GITHUB_SHA": A,
        "GITHUB_EVENT_PATH": _event(tmp_path, {"merge_group": {"head_sha": C}}),
    }
    facts = ci_env.read(env)
    assert (facts.pr_head_sha, facts.pr_merge_sha) == (None, C)


@pytest.mark.parametrize(
    "payload",
    [
        "{not json",
        "",
        "[1, 2]",
        '"pull_request"',
        json.dumps({"pull_request": "yes"}),
        json.dumps({"pull_request": {"head": "b" * 40}}),
        json.dumps({"pull_request": {"head": {"sha": 12345}}}),
        json.dumps({"pull_request": {"head": {"sha": "refs/heads/main"}}}),
        "[" * 100_000 + "]" * 100_000,  # deeper than the JSON parser's recursion limit
        "\xff\xfe garbage",
    ],
)
def test_malformed_event_file_falls_back_to_the_environment(tmp_path, payload):
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_SHA": A,
        "GITHUB_EVENT_PATH": _event(tmp_path, payload),
    }
    facts = ci_env.read(env)
    assert facts.sha == A
    assert facts.pr_head_sha is None


def test_missing_event_file(tmp_path):
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": A,
        "GITHUB_EVENT_PATH": str(tmp_path / "nope.json"),
    }
    assert ci_env.read(env).sha == A
    env["GITHUB_EVENT_PATH"] = str(tmp_path)  # a directory
    assert ci_env.read(env).sha == A


def test_gitlab_merged_results_pipeline():
    env = {
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_COMMIT_SHA": A,
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": B,
    }
    facts = ci_env.read(env)
    assert (facts.pr_head_sha, facts.pr_merge_sha, facts.event) == (B, A, "merge_request_event")


def test_gitlab_plain_merge_request_pipeline_has_no_merge_commit():
    env = {"GITLAB_CI": "true", "CI_COMMIT_SHA": B, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": B}
    facts = ci_env.read(env)
    assert (facts.pr_head_sha, facts.pr_merge_sha) == (B, None)


def test_azure_pull_request():
    env = {
        "TF_BUILD": "True",
        "BUILD_REASON": "PullRequest",
        "BUILD_SOURCEVERSION": A,
        "SYSTEM_PULLREQUEST_SOURCECOMMITID": B,
    }
    facts = ci_env.read(env)
    assert (facts.pr_head_sha, facts.pr_merge_sha, facts.event) == (B, A, "PullRequest")


def test_bitbucket_pull_request_builds_the_source_commit():
    facts = ci_env.read({"BITBUCKET_COMMIT": A, "BITBUCKET_PR_ID": "12"})
    assert (facts.provider, facts.pr_head_sha, facts.pr_merge_sha) == ("bitbucket", A, None)


def test_jenkins_change_request():
    facts = ci_env.read({"JENKINS_URL": "http://j/", "GIT_COMMIT": A, "CHANGE_ID": "5"})
    assert facts.event == "pull_request"


def _git(head: str) -> GitFacts:
    import datetime as dt

    return GitFacts(root="/r", head=head, commit_time=dt.datetime.now(dt.timezone.utc))


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("either", [("head", B), ("merge", A)]),
        ("head", [("head", B)]),
        ("merge", [("merge", A)]),
    ],
)
def test_candidates_on_a_pull_request(accept, expected):
    ci = CiFacts("github", A, B, A, "pull_request")
    assert candidates(_git(A), ci, accept) == expected


def test_candidates_add_the_checkout_when_ci_checked_out_something_else():
    ci = CiFacts("github", A, B, A, "pull_request")
    assert candidates(_git(C), ci, "either")[-1] == ("checkout", C)
    assert ("checkout", C) not in candidates(_git(C), ci, "head")


def test_candidates_fall_back_to_the_checkout_when_the_asked_commit_does_not_exist():
    ci = CiFacts("gitlab", B, B, None, "merge_request_event")
    assert candidates(_git(B), ci, "merge") == [("checkout", B)]


def test_candidates_outside_a_pull_request_are_head():
    assert candidates(_git(C), CiFacts("github", A), "merge") == [("head", C)]


@pytest.mark.parametrize(
    ("label", "sha", "same"),
    [
        (A[:7], A, True),
        (A.upper(), A, True),
        (A, A[:8], True),  # an abbreviated CI value still names the labelled commit
        (A[:6], A, False),
        (A + "a" * 24, A, False),  # a SHA-256 name is not a SHA-1 name that it happens to extend
        (B[:12], A, False),
    ],
)
def test_revision_matching(label, sha, same):
    from mb_ci.checks.git import same_commit

    assert same_commit(label, sha) is same
