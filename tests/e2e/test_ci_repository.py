"""A checkout without a remote: the repository CI names stands in for it, and never silently."""

from __future__ import annotations

import json

import pytest
from helpers.clock import now

from mb_ci.facts import ci as ci_env


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/widget"},
            "https://github.com/acme/widget",
        ),
        (
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_REPOSITORY": "acme/widget",
                "GITHUB_SERVER_URL": "https://ghe.example.com",
            },
            "https://ghe.example.com/acme/widget",
        ),
        ({"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "not a repo"}, None),
        (
            {"GITLAB_CI": "true", "CI_PROJECT_URL": "https://gitlab.example.com/g/p"},
            "https://gitlab.example.com/g/p",
        ),
        (
            {"JENKINS_URL": "http://j", "GIT_URL": "https://bot:hunter2@git.example.com/o/r.git"},
            "https://git.example.com/o/r.git",
        ),
        (
            {"TF_BUILD": "True", "BUILD_REPOSITORY_URI": "https://dev.azure.com/o/p/_git/r"},
            "https://dev.azure.com/o/p/_git/r",
        ),
        (
            {"CIRCLECI": "true", "CIRCLE_REPOSITORY_URL": "git@github.com:acme/widget.git"},
            "git@github.com:acme/widget.git",
        ),
        ({"BUILDKITE": "true", "BUILDKITE_REPO": "not a url at all"}, None),
        ({}, None),
    ],
)
def test_repository_url_per_provider_without_credentials(env, expected):
    assert ci_env.read(env).repository_url == expected


def _image(build_image, head, source):
    return build_image(
        {
            "org.opencontainers.image.revision": head,
            "org.opencontainers.image.source": source,
            # now, not when the module was loaded: the repository is made after that, and a
            # long run would put the commit after the image's creation
            "org.opencontainers.image.created": now(),
        }
    )


GITLAB = {"GITLAB_CI": "true", "CI_PROJECT_URL": "https://gitlab.example.com/acme/widget"}


def test_check_compares_source_with_the_ci_repository_when_there_is_no_remote(
    make_repo, build_image, mbci
):
    repo = make_repo(origin=None)
    good = _image(build_image, repo.head, "https://gitlab.example.com/acme/widget.git")
    bad = _image(build_image, repo.head, "https://gitlab.example.com/acme/other")
    ok = mbci("check", good, cwd=repo.path, env=GITLAB)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    failed = mbci("check", bad, "--format", "json", cwd=repo.path, env=GITLAB)
    assert failed.returncode == 1
    finding = next(
        f for f in json.loads(failed.stdout)["findings"] if f["check"] == "source-matches-remote"
    )
    assert finding["expected"] == "https://gitlab.example.com/acme/widget"
    assert "gitlab" in finding["message"]
    # outside CI the same image cannot be compared: a warning, not a pass in silence
    alone = mbci("check", bad, cwd=repo.path)
    assert alone.returncode == 0
    assert "cannot be compared" in alone.stdout


def test_labels_take_source_from_ci_or_warn(make_repo, mbci):
    repo = make_repo(origin=None)
    from_ci = mbci("labels", cwd=repo.path, env=GITLAB)
    assert from_ci.returncode == 0, from_ci.stderr
    labels = json.loads(from_ci.stdout)
    assert labels["org.opencontainers.image.source"] == "https://gitlab.example.com/acme/widget"
    assert from_ci.stderr == ""
    alone = mbci("labels", cwd=repo.path)
    assert alone.returncode == 0
    assert "org.opencontainers.image.source" not in json.loads(alone.stdout)
    assert alone.stderr.count("\n") == 1 and "no source label" in alone.stderr
