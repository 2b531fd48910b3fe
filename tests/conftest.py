"""Fixtures only: real git repositories in temp dirs, a real Docker engine, a loopback registry
and the mb-ci CLI. What they are built from lives in ``helpers/``, which tests import directly.

``tests/unit`` needs none of the engine fixtures; ``tests/e2e`` skips a test whose engine or
registry is missing, unless ``MB_CI_REQUIRE_ENGINE`` is set (``scripts/test`` sets it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from helpers.cli import Result, run_mbci
from helpers.git import ORIGIN, Repo, new_repo
from helpers.images import build_scratch

if TYPE_CHECKING:
    from helpers.registry import AccessLog


UNIT = Path(__file__).resolve().parent / "unit"
# what a unit test may not ask for: it runs without an engine, a registry or the Action's image
E2E_FIXTURES = frozenset({"engine", "build_image", "action_image", "audit_registry"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(UNIT):
            needs = E2E_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            if needs:
                raise pytest.UsageError(
                    f"{item.nodeid} needs {', '.join(sorted(needs))}: move it to tests/e2e"
                )


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


@pytest.fixture(scope="session")
def build_image(engine: Any) -> Iterator[Callable[..., str]]:
    """Build ``FROM scratch`` images with the given labels; returns the tag. Removed at the end.

    ``busybox=True`` copies Debian's static busybox in, for images that must run a command.
    """
    built: list[str] = []

    def build(
        labels: dict[str, str] | None = None,
        tag: str | None = None,
        busybox: bool = False,
        extra: str = "",
    ) -> str:
        tag = build_scratch(engine, labels, tag=tag, busybox=busybox, extra=extra)
        built.append(tag)
        return tag

    yield build
    for tag in built:
        try:
            engine.images.remove(tag, force=True)
        except Exception:
            pass


@pytest.fixture(scope="session")
def action_image(engine: Any) -> Iterator[str]:
    """The project's own image (the root Dockerfile), built once per session."""
    from helpers.runner import build_action_image

    yield from build_action_image(engine)


@pytest.fixture(scope="session")
def audit_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AccessLog]:
    """A real registry (distribution 2.8) on a free loopback port, no auth, no TLS."""
    if shutil.which("docker-registry") is None:
        if os.environ.get("MB_CI_REQUIRE_ENGINE"):
            raise RuntimeError("the tests need docker-registry (scripts/testbed --full)")
        pytest.skip("docker-registry is not installed")
    from helpers.registry import AccessLog, start_registry

    real = start_registry(tmp_path_factory.mktemp("audit-registry"))
    yield AccessLog(real.host, real.log, real.proc)
    real.stop()
