"""Shared fixtures: real git repositories in temp dirs, a real Docker engine, and the mb-ci CLI."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CI_PREFIXES = (
    "GITHUB_",
    "GITLAB",
    "CI_",
    "JENKINS",
    "GIT_COMMIT",
    "TF_BUILD",
    "BUILD_",
    "SYSTEM_",
    "BITBUCKET_",
    "CIRCLE",
    "BUILDKITE",
    "CHANGE_",
    "RUNNER_",
    "INPUT_",
    "MB_CI_",
    "SOURCE_DATE_EPOCH",
    "NO_COLOR",
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
)
ORIGIN = "git@github.com:acme/widget.git"
SOURCE = "https://github.com/acme/widget"


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without any CI system's variables, so tests behave the same everywhere."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(CI_PREFIXES) and k not in ("CI",)
    }
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.update(extra or {})
    return env


def git(path: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
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
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if origin:
        git(path, "remote", "add", "origin", origin)
    repo = Repo(path)
    repo.commit("initial")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A checkout with one commit and origin ``git@github.com:acme/widget.git``."""
    return new_repo(tmp_path / "widget")


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Repo]:
    counter = iter(range(1000))

    def make(origin: str | None = ORIGIN, name: str | None = None) -> Repo:
        return new_repo(tmp_path / (name or f"repo{next(counter)}"), origin)

    return make


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_mbci(
    *args: str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> Result:
    """Run the real CLI in a subprocess, with a CI-free environment plus ``env``."""
    proc = subprocess.run(
        [sys.executable, "-m", "mb_ci", *args],
        cwd=cwd,
        env=clean_env(env),
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def mbci() -> Callable[..., Result]:
    return run_mbci


def _engine() -> Any:
    try:
        import docker

        client = docker.from_env()
        client.ping()
        return client
    except Exception as e:
        if os.environ.get("MB_CI_REQUIRE_ENGINE"):
            raise RuntimeError(f"the tests need a Docker engine: {e}") from e
        return None


@pytest.fixture(scope="session")
def engine() -> Iterator[Any]:
    """A real Docker engine. Skips the test without one, unless MB_CI_REQUIRE_ENGINE is set."""
    client = _engine()
    if client is None:
        pytest.skip("no Docker engine (run scripts/test, which starts one)")
    yield client
    client.close()


def _context_tar(dockerfile: str, files: Mapping[str, bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in {"Dockerfile": dockerfile.encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


BUSYBOX = Path("/bin/busybox")


@pytest.fixture(scope="session")
def build_image(engine: Any) -> Iterator[Callable[..., str]]:
    """Build ``FROM scratch`` images with the given labels; returns the tag. Removed at the end.

    ``busybox=True`` copies Debian's static busybox in, for images that must run a command.
    """
    built: list[str] = []

    def build_sync(
        labels: Mapping[str, str] | None = None,
        tag: str | None = None,
        busybox: bool = False,
        extra: str = "",
    ) -> str:
        tag = tag or f"mb-ci-test/{uuid.uuid4().hex[:12]}:latest"
        files = {"payload.txt": uuid.uuid4().hex.encode()}
        lines = ["FROM scratch", "COPY payload.txt /payload.txt"]
        if busybox:
            files["busybox"] = BUSYBOX.read_bytes()
            lines += ["COPY busybox /bin/busybox", 'CMD ["/bin/busybox", "sleep", "3600"]']
        if extra:
            lines.append(extra)
        errors: list[str] = []
        # one retry: under heavy load the engine has been seen to fail one of these trivial
        # FROM scratch builds transiently; that is the test bed's hiccup, not the code under test
        for _attempt in range(2):
            stream = engine.api.build(
                fileobj=_context_tar("\n".join(lines) + "\n", files),
                custom_context=True,
                tag=tag,
                labels=dict(labels or {}),
                rm=True,
                decode=True,
            )
            errors = [chunk["error"] for chunk in stream if "error" in chunk]
            if not errors:
                break
        if errors:
            raise RuntimeError(f"test image build failed: {errors}")
        built.append(tag)
        return tag

    yield build_sync
    for tag in built:
        try:
            engine.images.remove(tag, force=True)
        except Exception:
            pass


@pytest.fixture(scope="session")
def action_image(engine: Any) -> Iterator[str]:
    """The project's own image (the root Dockerfile), built once per session; see runner.py."""
    from runner import build_action_image

    yield from build_action_image(engine)
