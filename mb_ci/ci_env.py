"""Read which commit the CI system built, and the pull request's head and merge commits."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from mb_ci import urls
from mb_ci.formats import is_git_sha
from mb_ci.models import CiFacts
from mb_ci.safety import strip_credentials

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
        return CiFacts(
            "azure",
            sha,
            head,
            sha if head else None,
            env.get("BUILD_REASON"),
            env.get("BUILD_SOURCEBRANCHNAME"),
        )
    if env.get("BITBUCKET_BUILD_NUMBER") or env.get("BITBUCKET_COMMIT"):
        sha = _sha(env.get("BITBUCKET_COMMIT"))
        pr = bool(env.get("BITBUCKET_PR_ID"))
        return CiFacts(
            "bitbucket",
            sha,
            sha if pr else None,
            None,
            "pull_request" if pr else None,
            env.get("BITBUCKET_TAG") or env.get("BITBUCKET_BRANCH"),
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
        return CiFacts(
            "jenkins",
            _sha(env.get("GIT_COMMIT")),
            None,
            None,
            "pull_request" if env.get("CHANGE_ID") else None,
            env.get("TAG_NAME") or env.get("BRANCH_NAME"),
        )
    return CiFacts()


def _github(env: Mapping[str, str]) -> CiFacts:
    sha = _sha(env.get("GITHUB_SHA"))
    event_name = env.get("GITHUB_EVENT_NAME")
    event = _event(env.get("GITHUB_EVENT_PATH"))
    pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    head = merge = None
    if pr is not None:
        head_obj = pr.get("head")
        head = _sha(head_obj.get("sha")) if isinstance(head_obj, dict) else None
        if event_name == "pull_request_target":
            # GITHUB_SHA is the base branch here; the merge commit is only in the payload
            merge = _sha(pr.get("merge_commit_sha"))
        else:
            # GITHUB_SHA is refs/pull/N/merge, the synthetic merge commit actions/checkout uses
            merge = sha
    elif event_name == "merge_group":
        group = event.get("merge_group")
        merge = _sha(group.get("head_sha")) if isinstance(group, dict) else None
    return CiFacts("github", sha, head, merge, event_name, env.get("GITHUB_REF_NAME"))


def _event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_EVENT_BYTES)
        data = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        # a missing, truncated or absurdly nested payload: fall back to the environment alone
        return {}
    return data if isinstance(data, dict) else {}
