"""The pre-commit hook in ``.pre-commit-hooks.yaml``, run by the real ``pre-commit`` in a temp repo.

The hook repository is a copy of this working tree, committed in a temp dir (pre-commit installs a
hook repo from a git commit); the project's own checkout is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import paths
from helpers.env import clean_env
from helpers.git import git
from helpers.paths import ROOT

DATA = paths.DATA / "dockerfiles"
HOOK_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "mb_ci")


def _pre_commit() -> str:
    found = Path(sys.executable).parent / "pre-commit"
    path = str(found) if found.exists() else shutil.which("pre-commit")
    if path is None:
        pytest.fail("pre-commit is not installed: pip install -e '.[dev]'")
    return path


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A committed copy of the tree: (path, commit)."""
    dest = tmp_path_factory.mktemp("hook-repo")
    for name in HOOK_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", ".")
    git(dest, "commit", "-q", "-m", "hook repo")
    return dest, git(dest, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hook environment for the module: pre-commit builds it on first use."""
    return tmp_path_factory.mktemp("pre-commit-home")


def _project(path: Path, hook_repo: tuple[Path, str], dockerfile: str) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    config = {
        "repos": [
            {
                "repo": str(hook_repo[0]),
                "rev": hook_repo[1],
                "hooks": [{"id": "mb-ci-lint-dockerfile"}],
            }
        ]
    }
    (path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (path / "docker").mkdir()
    shutil.copy(DATA / dockerfile, path / "docker" / "Dockerfile")
    (path / "README.md").write_text("not a Dockerfile\n")
    git(path, "add", ".")
    return path


def _run(project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_pre_commit(), "run", "--all-files", "--color", "never"],
        cwd=project,
        env=clean_env({"PRE_COMMIT_HOME": str(home)}),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_hook_fails_on_missing_label_and_passes_on_good_dockerfile(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    bad = _project(tmp_path / "bad", hook_repo, "missing-required.Dockerfile")
    res = _run(bad, pre_commit_home)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "mb-ci lint-dockerfile" in res.stdout and "Failed" in res.stdout
    assert (
        "docker/Dockerfile:4: error [label-required] required label "
        "org.opencontainers.image.created is missing"
    ) in res.stdout
    good = _project(tmp_path / "good", hook_repo, "arg-version.Dockerfile")
    res = _run(good, pre_commit_home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Passed" in res.stdout


def test_hook_uses_the_projects_policy(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    project = _project(tmp_path / "policy", hook_repo, "arg-version.Dockerfile")
    (project / ".mb-ci.yml").write_text(
        "version: 1\nlabels:\n  org.opencontainers.image.licenses:\n    required: true\n"
    )
    git(project, "add", ".")
    res = _run(project, pre_commit_home)
    assert res.returncode == 1
    assert "org.opencontainers.image.licenses is missing" in res.stdout
