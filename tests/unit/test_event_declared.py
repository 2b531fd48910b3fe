"""event-vs-checkout and declared-vs-built over in-memory facts: the cases CI and builds give.

The pull-request cases are the checkouts each CI leaves (tests/e2e/test_event_checkout.py runs
the same ones against real repositories and GitHub's published payloads).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from helpers.clock import FIXED
from helpers.facts import HEAD, OCI, OTHER, PARENT, REVISION, checkout, ci, image, policy

from mb_ci.checks import check_image
from mb_ci.dockerfile.parse import evaluate, read
from mb_ci.models import Commit, Finding, Severity

MERGE = "d" * 40
TITLE = OCI + "title"


def event(git_kw: dict[str, object], **ci_kw: object) -> list[Finding]:
    result = check_image(image(), checkout(**git_kw), ci(**ci_kw), policy(""), now=FIXED)
    return [f for f in result.findings if f.check == "event-vs-checkout"]


@pytest.mark.parametrize(
    "ci_kw",
    [
        # push, workflow_dispatch without a ref: GITHUB_SHA is HEAD
        {"provider": "github", "sha": HEAD, "event": "push"},
        # pull_request, actions/checkout with ref: head.sha: GITHUB_SHA is the merge commit
        {
            "provider": "github",
            "sha": MERGE,
            "pr_head_sha": HEAD,
            "pr_merge_sha": MERGE,
            "event": "pull_request",
            "pull_request": True,
        },
        # pull_request_target / workflow_run check out the base branch, GITHUB_SHA
        {
            "provider": "github",
            "sha": HEAD,
            "pr_head_sha": OTHER,
            "pr_merge_sha": MERGE,
            "event": "pull_request_target",
            "pull_request": True,
        },
        {"provider": "github", "sha": HEAD, "pr_head_sha": OTHER, "event": "workflow_run"},
        # an abbreviated SHA from a CI that names one (7+ digits)
        {"provider": "gitlab", "sha": HEAD[:8]},
        # no CI at all: nothing to compare
        {},
    ],
)
def test_quiet_where_the_checkout_is_a_commit_ci_names(ci_kw):
    assert event({}, **ci_kw) == []


def test_a_merge_made_in_the_checkout_of_the_commit_ci_names_is_quiet():
    """Bitbucket's pull-request clone merges the destination into BITBUCKET_COMMIT."""
    commits = {HEAD: Commit(HEAD, FIXED, (OTHER, PARENT))}
    found = event(
        {"commits": commits},
        provider="bitbucket",
        sha=OTHER,
        pr_head_sha=OTHER,
        pull_request=True,
    )
    assert found == []


def test_workflow_dispatch_with_another_ref_names_both_commits_and_the_cause():
    (finding,) = event({}, provider="github", sha=OTHER, event="workflow_dispatch")
    assert finding.severity is Severity.WARNING
    assert finding.expected == OTHER and finding.actual == HEAD
    assert OTHER in finding.message and HEAD in finding.message
    assert "GITHUB_SHA" in finding.message and "workflow_dispatch run with a ref" in finding.message
    assert finding.label == REVISION


def test_pull_request_checkout_of_an_unrelated_commit_fires():
    found = event(
        {},
        provider="github",
        sha=MERGE,
        pr_head_sha=OTHER,
        pr_merge_sha=MERGE,
        event="pull_request",
        pull_request=True,
    )
    assert len(found) == 1 and "actions/checkout with `ref:`" in found[0].message


def test_other_ci_names_its_own_variable():
    (finding,) = event({}, provider="gitlab", sha=OTHER)
    assert "CI_COMMIT_SHA" in finding.message


def test_labels_are_still_compared_with_head():
    """The revision label names HEAD: revision-matches-head passes, event-vs-checkout warns."""
    result = check_image(image(), checkout(), ci(provider="github", sha=OTHER), policy(""), FIXED)
    checks = {f.check for f in result.findings}
    assert checks == {"event-vs-checkout"}


def declared(dockerfile: str, labels: dict[str, str], target: str | None = None) -> list[Finding]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Dockerfile"
        path.write_text(dockerfile)
        final = evaluate(read(path), target)
    from helpers.facts import truthful_labels

    subject = image(truthful_labels(**labels))
    result = check_image(subject, checkout(), ci(), policy(""), FIXED, declared=final)
    return [f for f in result.findings if f.check == "declared-vs-built"]


def test_an_overwritten_literal_names_both_values_and_the_line():
    (f,) = declared(f"FROM scratch\n\nLABEL {TITLE}=widget\n", {TITLE: "gadget"})
    assert (f.expected, f.actual, f.line, f.severity) == ("widget", "gadget", 3, Severity.WARNING)
    assert "'widget'" in f.message and "'gadget'" in f.message and "line 3" in f.message


def test_a_value_from_an_arg_default_is_information_only():
    text = f"FROM scratch\nARG V=1.0\nLABEL {OCI}version=$V\n"
    (f,) = declared(text, {OCI + "version": "2.0"})
    assert f.severity is Severity.INFO and "--build-arg" in f.message


def test_values_only_known_at_build_time_are_never_compared():
    # an ARG without a default, and an ENV only the base image can set
    text = f"FROM example/base\nARG REV\nLABEL {REVISION}=$REV\nLABEL {TITLE}=${{BASE_ENV}}\n"
    assert declared(text, {TITLE: "x"}) == []


def test_target_chooses_the_stage():
    text = f"FROM scratch AS app\nLABEL {TITLE}=app\nFROM scratch AS debug\nLABEL {TITLE}=debug\n"
    assert declared(text, {TITLE: "app"}, target="app") == []
    (f,) = declared(text, {TITLE: "app"})
    assert f.expected == "debug" and f.detail["stage"] == "debug"


def test_the_policy_can_raise_it_to_an_error():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Dockerfile"
        path.write_text(f"FROM scratch\nLABEL {TITLE}=widget\n")
        final = evaluate(read(path))
    from helpers.facts import truthful_labels

    rules = policy("checks:\n  declared-vs-built: error\n")
    result = check_image(
        image(truthful_labels(**{TITLE: "x"})), checkout(), ci(), rules, FIXED, declared=final
    )
    assert [f.severity for f in result.findings] == [Severity.ERROR]


def test_the_action_inputs_reach_the_check_options():
    """action.yml's `target`, `base` and `no-base-lookup`, as the composite step passes them."""
    from mb_ci.action import read_inputs

    env = {
        "INPUT_IMAGE": "app:1",
        "INPUT_DOCKERFILE": "docker/Dockerfile",
        "INPUT_TARGET": "runtime",
        "INPUT_BASE": "docker://registry.example/base:1",
        "INPUT_NO_BASE_LOOKUP": "true",
    }
    check = read_inputs(env).check
    assert (check.dockerfile, check.target, check.base) == (
        "docker/Dockerfile",
        "runtime",
        "docker://registry.example/base:1",
    )
    assert check.no_base_lookup is True
    default = read_inputs({"INPUT_IMAGE": "app:1"}).check
    assert (default.target, default.base, default.no_base_lookup) == (None, None, False)


def test_a_credential_in_an_overwritten_value_is_never_in_the_message():
    url = OCI + "url"
    (f,) = declared(
        f"FROM scratch\nLABEL {url}=https://example.com/widget\n",
        {url: "https://builder:hunter2@example.com/widget"},
    )
    assert "hunter2" not in f.message and "example.com/widget" in f.message
