"""Each path imports only what it uses: measured with ``python -X importtime`` on the real CLI."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from helpers.env import clean_env

HEAVY = ("docker", "requests", "urllib3", "git", "jsonschema", "yaml")
_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|(?P<indent>\s*)(?P<name>\S+)$")


def top_level_imports(*args: str, cwd) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mb_ci", *args],
        cwd=cwd,
        env=clean_env({"DOCKER_HOST": "unix:///nonexistent/docker.sock"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    names = {m["name"].split(".")[0] for m in map(_LINE.match, proc.stderr.splitlines()) if m}
    assert "mb_ci" in names, proc.stderr[-2000:]
    return names & set(HEAVY)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--version",), set()),
        (("audit", "--help"), set()),
        # a registry reference: urllib3 alone, never the Docker SDK or requests
        (("audit", "--no-git", "-q", "docker://127.0.0.1:1/app:1"), {"urllib3"}),
        # an archive: neither the SDK nor the HTTP stack
        (("audit", "--no-git", "-q", "oci-archive:/nonexistent.tar"), set()),
        # the engine: the Docker SDK (which brings requests), never GitPython with --no-git
        (("audit", "--no-git", "-q", "mb-ci-test/absent:1"), {"docker", "requests", "urllib3"}),
    ],
)
def test_each_path_imports_only_what_it_uses(args, expected, tmp_path):
    assert top_level_imports(*args, cwd=tmp_path) == expected
