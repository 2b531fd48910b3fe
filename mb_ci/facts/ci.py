"""Read which commit the CI system built, and the pull request's head and merge commits."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from mb_ci.facts import urls
from mb_ci.models import CiFacts, GitFacts
from mb_ci.safety import strip_credentials
from mb_ci.values import is_git_sha

MAX_EVENT_BYTES = 25 * 1024 * 1024


def _sha(value: Any) -> str | None:
    """A value from the environment, kept only if it looks like a commit SHA."""
    if isinstance(value, str) and is_git_sha(value.strip()):
        return value.strip().lower()
    return None


# where each CI system names the repository it built (a fallback for a checkout with no remote)
_REPOSITORY_VARS = {
    "gitlab": "CI_PROJECT_URL",
    "azure": "BUILD_REPOSITORY_URI",
    "bitbucket": "BITBUCKET_GIT_HTTP_ORIGIN",
    "circleci": "CIRCLE_REPOSITORY_URL",
    "buildkite": "BUILDKITE_REPO",
    "jenkins": "GIT_URL",
}
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def read(env: Mapping[str, str]) -> CiFacts:
    facts = _read(env)
    url = _repository_url(facts.provider, env)
    return dataclasses.replace(facts, repository_url=url) if url else facts


def _repository_url(provider: str | None, env: Mapping[str, str]) -> str | None:
    if provider == "github":
        repository = env.get("GITHUB_REPOSITORY", "")
        server = env.get("GITHUB_SERVER_URL") or "https://github.com"
        url = f"{server.rstrip('/')}/{repository}" if _GITHUB_REPOSITORY.match(repository) else ""
    else:
        url = env.get(_REPOSITORY_VARS.get(provider or "", ""), "")
    if not url or urls.parse(url) is None:
        return None
    return strip_credentials(url.strip())


def _read(env: Mapping[str, str]) -> CiFacts:
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env)
    if env.get("GITLAB_CI"):
        head = _sha(env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"))
        sha = _sha(env.get("CI_COMMIT_SHA"))
        # In a merged-results pipeline CI_COMMIT_SHA is the merge commit; the source branch SHA is
        # only set there (https://docs.gitlab.com/ee/ci/variables/predefined_variables.html).
        return CiFacts(
            "gitlab",
            sha,
            head,
            sha if head and sha != head else None,
            env.get("CI_PIPELINE_SOURCE"),
            env.get("CI_COMMIT_TAG") or env.get("CI_COMMIT_REF_NAME"),
        )
    if env.get("TF_BUILD"):
        sha = _sha(env.get("BUILD_SOURCEVERSION"))
        head = _sha(env.get("SYSTEM_PULLREQUEST_SOURCECOMMITID"))
        reason = env.get("BUILD_REASON")
        # A PR build checks out refs/pull/N/merge and BUILD_SOURCEVERSION is that merge commit;
        # SYSTEM_PULLREQUEST_SOURCECOMMITID (the head) is set only for some repository types
        # (https://learn.microsoft.com/azure/devops/pipelines/build/variables). Without it the
        # head is the merge commit's second parent: the merge is source into target.
        pr = reason == "PullRequest" or bool(env.get("SYSTEM_PULLREQUEST_PULLREQUESTID"))
        return CiFacts(
            "azure",
            sha,
            head,
            sha if (head or pr) and sha != head else None,
            reason,
            env.get("BUILD_SOURCEBRANCHNAME"),
            pull_request=pr or head is not None,
            head_parent=2 if pr and head is None else None,
        )
    if env.get("BITBUCKET_BUILD_NUMBER") or env.get("BITBUCKET_COMMIT"):
        # In a pull-request pipeline BITBUCKET_COMMIT is the source branch's commit; the clone
        # step may merge the destination into it, making HEAD a merge commit that exists only
        # in the checkout (https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/)
        sha = _sha(env.get("BITBUCKET_COMMIT"))
        pr = bool(env.get("BITBUCKET_PR_ID"))
        return CiFacts(
            "bitbucket",
            sha,
            sha if pr else None,
            None,
            "pull_request" if pr else None,
            env.get("BITBUCKET_TAG") or env.get("BITBUCKET_BRANCH"),
            pull_request=pr,
        )
    if env.get("CIRCLECI"):
        return CiFacts(
            "circleci",
            _sha(env.get("CIRCLE_SHA1")),
            None,
            None,
            None,
            env.get("CIRCLE_TAG") or env.get("CIRCLE_BRANCH"),
        )
    if env.get("BUILDKITE"):
        # BUILDKITE_COMMIT may be the literal "HEAD" on the first step; _sha() drops it
        return CiFacts(
            "buildkite",
            _sha(env.get("BUILDKITE_COMMIT")),
            None,
            None,
            None,
            env.get("BUILDKITE_TAG") or env.get("BUILDKITE_BRANCH"),
        )
    if env.get("JENKINS_URL") or env.get("JENKINS_HOME"):
        sha = _sha(env.get("GIT_COMMIT"))
        pr = bool(env.get("CHANGE_ID"))
        # A multibranch change request (https://www.jenkins.io/doc/book/pipeline/multibranch/):
        # with the "merge" strategy the agent merges the target into the PR head and GIT_COMMIT
        # is that local merge commit, whose first parent is the head; with the "head" strategy
        # GIT_COMMIT is the head itself. resolve() tells them apart in the checkout.
        return CiFacts(
            "jenkins",
            sha,
            None,
            sha if pr else None,
            "pull_request" if pr else None,
            env.get("TAG_NAME") or env.get("BRANCH_NAME"),
            pull_request=pr,
            head_parent=1 if pr else None,
        )
    return CiFacts()


_PR_EVENTS = ("pull_request", "pull_request_target")


def _github(env: Mapping[str, str]) -> CiFacts:
    sha = _sha(env.get("GITHUB_SHA"))
    event_name = env.get("GITHUB_EVENT_NAME")
    ref = env.get("GITHUB_REF_NAME")
    event, problem = _event(env.get("GITHUB_EVENT_PATH"))
    pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    if event_name in _PR_EVENTS and pr is None:
        # Without the payload the head is unknown; GITHUB_SHA is still the merge commit on
        # pull_request (and the base branch on pull_request_target), never the head.
        why = problem or "it has no pull_request object"
        return CiFacts(
            "github",
            sha,
            None,
            sha if event_name == "pull_request" else None,
            event_name,
            ref,
            pull_request=True,
            problems=(
                f"the {event_name} event payload (GITHUB_EVENT_PATH) {why}: the pull request's "
                "head commit is unknown",
            ),
        )
    head = merge = None
    problems: tuple[str, ...] = ()
    if pr is not None:
        head_obj = pr.get("head")
        head = _sha(head_obj.get("sha")) if isinstance(head_obj, dict) else None
        if head is None:
            problems = (
                f"the {event_name} event payload (GITHUB_EVENT_PATH) has no pull_request.head.sha "
                "that is a commit SHA: the pull request's head commit is unknown",
            )
        if event_name == "pull_request_target":
            # GITHUB_SHA is the base branch here; the merge commit is only in the payload
            merge = _sha(pr.get("merge_commit_sha"))
        else:
            # GITHUB_SHA is refs/pull/N/merge, the synthetic merge commit actions/checkout uses
            merge = sha
    elif event_name == "merge_group":
        group = event.get("merge_group")
        merge = _sha(group.get("head_sha")) if isinstance(group, dict) else None
    elif event_name == "workflow_run":
        # GITHUB_SHA is the default branch's tip; the image comes from the run that triggered
        # this one, which built workflow_run.head_sha (the PR head when a PR triggered it)
        run = event.get("workflow_run")
        head = _sha(run.get("head_sha")) if isinstance(run, dict) else None
    return CiFacts(
        "github", sha, head, merge, event_name, ref, pull_request=pr is not None, problems=problems
    )


def _event(path: str | None) -> tuple[dict[str, Any], str | None]:
    """The event payload, and why it could not be read (``None`` when it could)."""
    if not path:
        return {}, "is not set"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_EVENT_BYTES + 1)
    except OSError as e:
        return {}, f"cannot be read ({e.strerror or e})"
    if len(raw) > MAX_EVENT_BYTES:
        return {}, f"is larger than {MAX_EVENT_BYTES // (1024 * 1024)} MiB"
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        # a truncated or absurdly nested payload: fall back to the environment alone
        return {}, "is not valid JSON"
    if not isinstance(data, dict):
        return {}, "is not a JSON object"
    return data, None


def resolve(ci: CiFacts, git: GitFacts | None) -> CiFacts:
    """Fill in the pull request's head where CI names only a merge commit (``head_parent``).

    Needs the merge commit's object, which even a shallow clone holds. When the commit CI names
    is no merge, CI built the head itself (Jenkins' "head" strategy).
    """
    merge_sha = ci.pr_merge_sha
    parent = ci.head_parent
    if git is None or parent is None or ci.pr_head_sha:
        return ci
    if not merge_sha and ci.sha is None:
        # CI names no commit at all (a scripted Jenkins pipeline has no GIT_COMMIT in its
        # environment): what it built is the checkout
        ci = dataclasses.replace(ci, pr_merge_sha=git.head)
        merge_sha = git.head
    if not merge_sha:
        return ci
    commit = git.commit(merge_sha)
    if commit is None:
        return ci
    # Jenkins' head strategy builds the PR head, which may itself be a merge commit (main merged
    # into the branch); that one was fetched, while the merge strategy's commit is local
    fetched_head = ci.provider == "jenkins" and commit.fetched is True
    if not commit.is_merge or fetched_head:
        return dataclasses.replace(ci, pr_head_sha=commit.sha, pr_merge_sha=None)
    if len(commit.parents) < parent:
        return ci
    return dataclasses.replace(ci, pr_head_sha=commit.parents[parent - 1])
