"""`mb-ci labels` derives the web URL from a real checkout's remote, and `check` passes that
image against every other spelling of the repository (real git, real Docker engine)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import paths
from helpers.cli import run_mbci
from helpers.git import Repo, new_repo

DATA = json.loads((paths.DATA / "urls" / "remote-spellings.json").read_text())
GROUPS: list[dict[str, Any]] = DATA["groups"]
SOURCE = "org.opencontainers.image.source"


def _labels(repo: Repo, remote: str) -> dict[str, str]:
    repo.git("remote", "set-url", "origin", remote)
    result = run_mbci("labels", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    labels: dict[str, str] = json.loads(result.stdout)
    return labels


@pytest.mark.parametrize("group", GROUPS, ids=[g["name"] for g in GROUPS])
def test_labels_derives_the_web_url_of_each_spelling(group: dict[str, Any], tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "widget", group["spellings"][0]["url"])
    for spelling in group["spellings"]:
        assert _labels(repo, spelling["url"])[SOURCE] == spelling["web"], spelling["url"]


@pytest.mark.docker
@pytest.mark.parametrize("group", GROUPS, ids=[g["name"] for g in GROUPS])
def test_check_passes_the_labelled_image_against_every_spelling(
    group: dict[str, Any], tmp_path: Path, build_image: Callable[..., str]
) -> None:
    spellings = [s["url"] for s in group["spellings"]]
    repo = new_repo(tmp_path / "widget", spellings[0])
    tag = build_image(_labels(repo, spellings[0]))
    for remote in spellings:
        repo.git("remote", "set-url", "origin", remote)
        result = run_mbci("check", tag, "--format", "json", cwd=repo.path)
        assert result.returncode == 0, (remote, result.stdout, result.stderr)
        assert "s3cret" not in result.stdout + result.stderr


@pytest.mark.docker
def test_check_fails_another_repository_and_warns_on_case_only(
    tmp_path: Path, build_image: Callable[..., str]
) -> None:
    repo = new_repo(tmp_path / "widget", "git@git.example.com:acme/widget.git")
    labels = _labels(repo, "git@git.example.com:acme/widget.git")

    other = build_image({**labels, SOURCE: "https://git.example.com.evil.io/acme/widget"})
    result = run_mbci("check", other, "--format", "json", cwd=repo.path)
    assert result.returncode == 1, result.stderr
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["label"] == SOURCE]
    assert (finding["check"], finding["severity"]) == ("source-matches-remote", "error")

    cased = build_image({**labels, SOURCE: "https://git.example.com/Acme/Widget"})
    result = run_mbci("check", cased, "--format", "json", cwd=repo.path)
    assert result.returncode == 0, result.stdout
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["label"] == SOURCE]
    assert (finding["check"], finding["severity"]) == ("source-matches-remote", "warning")
    assert "only in letter case" in finding["message"]

    # a GitLab job names its server: GitLab ignores case, so nothing to say
    env = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": repo.head,
        "CI_PROJECT_URL": "https://git.example.com/acme/widget",
    }
    result = run_mbci("check", cased, "--format", "json", cwd=repo.path, env=env)
    assert result.returncode == 0, result.stdout
    assert [f for f in json.loads(result.stdout)["findings"] if f["label"] == SOURCE] == []
