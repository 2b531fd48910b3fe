"""The example workflow's own shell steps, run in a real clone: one commit, then nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from helpers.env import clean_env
from helpers.git import git
from helpers.paths import ROOT

from mb_ci.badges.readme import END, START

WORKFLOW = ROOT / "examples" / "workflows" / "badges.yml"


def steps() -> dict[str, dict]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    return {s.get("name", s.get("uses")): s for s in doc["jobs"]["badges"]["steps"]}


def test_workflow_shape():
    doc = yaml.safe_load(WORKFLOW.read_text())
    job = doc["jobs"]["badges"]
    assert doc["permissions"] == {"contents": "read"}
    assert job["permissions"] == {"contents": "write"}
    assert "github.actor != 'github-actions[bot]'" in job["if"]
    assert "[skip ci]" in job["if"]
    pr = steps()["Badges are up to date (pull requests)"]
    assert pr["if"] == "github.event_name == 'pull_request'" and "--check" in pr["run"]
    for name in ("Write the badges", "Commit the badges"):
        assert steps()[name]["if"] == "github.event_name != 'pull_request'"
    assert "[skip ci]" in steps()["Commit the badges"]["run"]


def test_commit_step_commits_once(tmp_path, build_image, make_repo):
    tag = build_image({"org.opencontainers.image.revision": "5" * 40})
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    clone = make_repo(origin=str(remote), name="clone")
    (clone.path / "README.md").write_text(f"# App\n\n{START}\n{END}\n")
    clone.git("add", "README.md")
    clone.git("commit", "-q", "-m", "readme")
    clone.git("push", "-q", "origin", "HEAD:main")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "mb-ci").write_text(f'#!/bin/sh\nexec {sys.executable} -m mb_ci "$@"\n')
    (bindir / "mb-ci").chmod(0o755)
    env = clean_env({"PATH": f"{bindir}:/usr/bin:/bin", "GITHUB_REF_NAME": "main",
                     "HOME": str(tmp_path)})  # fmt: skip
    script = "\n".join(
        steps()[name]["run"].replace("app:ci", tag)
        for name in ("Write the badges", "Commit the badges")
    )

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-e", "-c", script], cwd=clone.path, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    first = run()
    assert first.returncode == 0, first.stderr
    log = git(remote, "log", "--format=%s", "main").splitlines()
    assert log[0] == "docs: update image badges [skip ci]" and len(log) == 3
    files = git(remote, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert ".github/badges/commit.svg" in files

    second = run()
    assert second.returncode == 0, second.stderr
    assert "badges unchanged" in second.stdout
    assert git(remote, "log", "--format=%s", "main").splitlines() == log


@pytest.mark.parametrize("name", ["Write the badges", "Badges are up to date (pull requests)"])
def test_steps_use_self_hosted_svg(name):
    assert "--style svg --readme README.md" in steps()[name]["run"]
