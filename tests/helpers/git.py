"""Real git repositories in temp dirs: init, commit, remotes (never a git mock)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from helpers.env import clean_env

ORIGIN = "git@github.com:acme/widget.git"
SOURCE = "https://github.com/acme/widget"


def git(path: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in ``path`` as a fixed author, outside any CI; returns stdout, stripped."""
    full = clean_env(
        {
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            **(env or {}),
        }
    )
    return subprocess.run(
        ["git", "-c", f"safe.directory={path}", *args],
        cwd=path,
        env=full,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@dataclass
class Repo:
    """A real git repository in a temp dir."""

    path: Path

    def git(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        return git(self.path, *args, env=env)

    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def commit(
        self,
        message: str = "change",
        filename: str = "file.txt",
        env: Mapping[str, str] | None = None,
    ) -> str:
        target = self.path / filename
        target.write_text(f"{message} {uuid.uuid4()}\n")
        self.git("add", filename)
        self.git("commit", "-q", "-m", message, env=env)
        return self.head


def new_repo(path: Path, origin: str | None = ORIGIN) -> Repo:
    """A repository at ``path`` on branch ``main`` with one commit and ``origin`` as remote."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if origin:
        git(path, "remote", "add", "origin", origin)
    repo = Repo(path)
    repo.commit("initial")
    return repo
