"""Run the Action the way the GitHub runner runs a container action, and read what it wrote back.

The runner starts ``docker run --workdir /github/workspace`` as root with the workspace, the
runner's temp dirs (/github/home, /github/workflow, /github/file_commands) and the engine socket
mounted, ``INPUT_<NAME>`` variables spelled with the input's own hyphens, and ``GITHUB_OUTPUT``
and ``GITHUB_STEP_SUMMARY`` pointing at files it created (owned by the runner's user) before the
step. The workspace belongs to that user, uid 1001 on hosted runners.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import run_mbci
from helpers.paths import ROOT

RUNNER_UID = 1001
BASE_IMAGE = "python:3.12-slim"
MAKE_BASE = ROOT.parent / "shared" / "tools" / "make-python-base.sh"


def chown_tree(path: Path, uid: int = RUNNER_UID) -> None:
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, uid, uid)
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, uid)


def build_action_image(engine: Any) -> Iterator[str]:
    """Build the repository's Dockerfile once, labelled from this checkout like CI does."""
    if subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode:
        if MAKE_BASE.is_file():
            subprocess.run(["bash", str(MAKE_BASE)], check=True, capture_output=True)
        else:
            pytest.skip(f"{BASE_IMAGE} is missing; scripts/testbed --full builds a stand-in")
    labels = run_mbci("labels", "--format", "build-args", cwd=ROOT)
    assert labels.returncode == 0, labels.stderr
    tag = f"mb-ci-test/action:{uuid.uuid4().hex[:10]}"
    build = subprocess.run(
        ["docker", "build", "-q", *labels.stdout.split(), "-t", tag, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    yield tag
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)


@dataclass
class ActionRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: list[tuple[str, str]]
    summary: str
    workspace: Path

    @property
    def output(self) -> dict[str, str]:
        return dict(self.outputs)


def parse_github_output(text: str) -> list[tuple[str, str]]:
    """``$GITHUB_OUTPUT`` as the runner reads it: ``name=value`` or ``name<<DELIM`` blocks."""
    lines = text.split("\n")
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            assert i < len(lines), f"unterminated block for {name!r}"
            i += 1
            out.append((name, "\n".join(body)))
        else:
            name, _, value = line.partition("=")
            out.append((name, value))
    return out


def make_workspace(path: Path) -> Path:
    """Hand a checkout to the runner's user, as actions/checkout leaves it."""
    chown_tree(path)
    return path


def run_action(
    image: str,
    workspace: Path,
    temp: Path,
    inputs: Mapping[str, str],
    env: Mapping[str, str] | None = None,
    event: Mapping[str, Any] | None = None,
    args: tuple[str, ...] = ("action",),
) -> ActionRun:
    home, workflow, commands = temp / "_github_home", temp / "_github_workflow", temp / "cmds"
    for d in (home, workflow, commands):
        d.mkdir(parents=True, exist_ok=True)
    (workflow / "event.json").write_text(json.dumps(event or {}))
    out_name, summary_name = f"set_output_{uuid.uuid4()}", f"step_summary_{uuid.uuid4()}"
    (commands / out_name).write_text("")
    (commands / summary_name).write_text("")
    chown_tree(temp)
    variables = {
        "HOME": "/github/home",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_OUTPUT": f"/github/file_commands/{out_name}",
        "GITHUB_STEP_SUMMARY": f"/github/file_commands/{summary_name}",
        "GITHUB_REPOSITORY": "acme/widget",
        "RUNNER_OS": "Linux",
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
        **(env or {}),
    }
    cmd = ["docker", "run", "--rm", "--workdir", "/github/workspace"]
    for key, value in variables.items():
        cmd += ["-e", f"{key}={value}"]
    cmd += [
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "-v",
        f"{home}:/github/home",
        "-v",
        f"{workflow}:/github/workflow",
        "-v",
        f"{commands}:/github/file_commands",
        "-v",
        f"{workspace}:/github/workspace",
        image,
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return ActionRun(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        parse_github_output((commands / out_name).read_text()),
        (commands / summary_name).read_text(),
        workspace,
    )


def workflow_commands(stdout: str) -> list[str]:
    """Lines the runner would take for workflow commands (it strips leading whitespace), with
    everything between ``::stop-commands::TOKEN`` and ``::TOKEN::`` ignored, as it does."""
    out: list[str] = []
    stopped: str | None = None
    for raw in stdout.splitlines():
        line = raw.lstrip()
        if stopped is not None:
            if line == f"::{stopped}::":
                stopped = None
            continue
        if line.startswith("::stop-commands::"):
            stopped = line.removeprefix("::stop-commands::")
            continue
        if line.startswith("::"):
            out.append(line)
    return out
