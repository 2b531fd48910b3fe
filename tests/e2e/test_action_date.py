"""The Action's `date` input: a policy rule with a later `effective_on` warns (result pass) until
that day and fails from it, on a real engine image and a real checkout."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.clock import now
from helpers.env import clean_env
from helpers.git import SOURCE
from helpers.runner import parse_github_output, workflow_commands

REV = "org.opencontainers.image.revision"
POLICY = (
    "version: 1\n"
    "labels:\n"
    "  org.opencontainers.image.licenses:\n"
    "    required: true\n"
    "    effective_on: '2031-05-01'\n"
)


@pytest.mark.parametrize(
    ("day", "code", "result", "level"),
    [("2031-04-30", 0, "pass", "warning"), ("2031-05-01", 1, "fail", "error")],
)
def test_the_date_input(repo, build_image, tmp_path, day, code, result, level):
    (repo.path / ".mb-ci.yml").write_text(POLICY)
    tag = build_image(
        {
            REV: repo.head,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": now(),
        }
    )
    out = tmp_path / "output"
    out.write_text("")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(out),
        "GITHUB_WORKSPACE": str(repo.path),
        "GITHUB_SHA": repo.head,
        "INPUT_IMAGE": tag,
        "INPUT_DATE": day,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mb_ci.entrypoint", "action"],
        env=clean_env(env),
        cwd=repo.path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert dict(parse_github_output(out.read_text()))["result"] == result
    (command,) = workflow_commands(proc.stdout)
    assert command.startswith(f"::{level} ")
    assert ("fails from 2031-05-01" in command) is (level == "warning")
