"""Run the Action the way the GitHub runner runs a container action, and read what it wrote back.

The runner starts ``docker run --workdir /github/workspace`` as root with the workspace, the
runner's temp dirs (/github/home, /github/workflow, /github/file_commands) and the engine socket
mounted, ``INPUT_<NAME>`` variables spelled with the input's own hyphens, and ``GITHUB_OUTPUT``
and ``GITHUB_STEP_SUMMARY`` pointing at files it created (owned by the runner's user) before the
step. The workspace belongs to that user, uid 1001 on hosted runners.

``run_composite`` runs action.yml's composite steps instead: each ``run:`` as that user, in a
stand-in for the ubuntu runner (its Python 3.12 and git), with the runner's paths and variables.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

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
    ensure_base()
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
    # the composite action's outputs as the runner maps them (action.yml's ``value:``)
    action_outputs: dict[str, str] = field(default_factory=dict)

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


# The composite action, run the way the runner runs one: each step's ``run:`` with its shell,
# as the runner's user, with the runner's environment and paths. ``uses:`` steps (actions/cache)
# are what the runner would fetch; the harness stands in for the cache with ``tool_cache``,
# kept between runs (warm) or new (cold).

RUNNER_IMAGE = "mb-ci-test/runner:py3.12-git"
RUNNER_DOCKERFILE = f"""FROM {BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
"""
ACTION_PATH = "/home/runner/work/_actions/acme/mb-ci/v1"
WORKSPACE = "/home/runner/work/widget/widget"
TOOL_CACHE = "/opt/hostedtoolcache"
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def build_runner_image(engine: Any) -> str:
    """An ubuntu-runner stand-in: the runner's Python 3.12 and git, nothing of mb-ci. Kept
    under a fixed tag, like the base image, since only its Dockerfile changes it."""
    if subprocess.run(["docker", "image", "inspect", RUNNER_IMAGE], capture_output=True).returncode:
        ensure_base()
        build = subprocess.run(
            ["docker", "build", "-q", "-t", RUNNER_IMAGE, "-"],
            input=RUNNER_DOCKERFILE,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert build.returncode == 0, build.stderr[-3000:]
    return RUNNER_IMAGE


def ensure_base() -> None:
    if subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode:
        if MAKE_BASE.is_file():
            subprocess.run(["bash", str(MAKE_BASE)], check=True, capture_output=True)
        else:
            pytest.skip(f"{BASE_IMAGE} is missing; scripts/testbed --full builds a stand-in")


def evaluate(text: str, context: Mapping[str, Any]) -> str:
    """``${{ a.b.c }}`` and ``${{ a.b || 'literal' }}``, the only expressions action.yml uses."""

    def one(match: re.Match[str]) -> str:
        for alternative in match.group(1).split("||"):
            alternative = alternative.strip()
            if alternative.startswith("'"):
                return alternative.strip("'")
            value: Any = context
            head, _, rest = alternative.partition(".")
            value = value.get(head, {})
            # steps.<id>.outputs.<name> and inputs.<name>: ids and names may hold hyphens
            for part in rest.split(".") if rest else []:
                value = value.get(part, "") if isinstance(value, Mapping) else ""
            if value:
                return str(value)
        return ""

    return _EXPR.sub(one, text)


def load_action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return loaded


def run_composite(
    runner_image: str,
    workspace: Path,
    temp: Path,
    inputs: Mapping[str, str],
    env: Mapping[str, str] | None = None,
    event: Mapping[str, Any] | None = None,
    tool_cache: Path | None = None,
) -> ActionRun:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    given = {
        name: inputs.get(name, spec.get("default", "")) for name, spec in action["inputs"].items()
    }
    assert set(inputs) <= set(given), set(inputs) - set(given)
    home, runner_temp, commands = temp / "home", temp / "_temp", temp / "_runner_file_commands"
    tool_cache = tool_cache or temp / "hostedtoolcache"
    for d in (home, runner_temp, commands, tool_cache):
        d.mkdir(parents=True, exist_ok=True)
    (runner_temp / "_github_workflow").mkdir(exist_ok=True)
    (runner_temp / "_github_workflow" / "event.json").write_text(json.dumps(event or {}))
    chown_tree(temp)
    chown_tree(tool_cache)
    socket_gid = os.stat("/var/run/docker.sock").st_gid
    base = {
        "HOME": "/home/runner",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": WORKSPACE,
        "GITHUB_EVENT_PATH": "/home/runner/work/_temp/_github_workflow/event.json",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REPOSITORY": "acme/widget",
        "GITHUB_ACTION_PATH": ACTION_PATH,
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": "/home/runner/work/_temp",
        "RUNNER_TOOL_CACHE": TOOL_CACHE,
        "PATH": "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
        **(env or {}),
    }
    context: dict[str, Any] = {
        "inputs": given,
        "github": {"action_path": ACTION_PATH, "workspace": WORKSPACE},
        "runner": {"os": "Linux", "temp": base["RUNNER_TEMP"], "tool_cache": TOOL_CACHE},
        "steps": {},
    }
    stdout, stderr, summary = [], [], []
    outputs: list[tuple[str, str]] = []
    returncode = 0
    for number, step in enumerate(action["runs"]["steps"]):
        if "uses" in step:
            continue
        out_file, summary_file = f"set_output_{number}", f"step_summary_{number}"
        script = f"script_{number}.sh"
        for name in (out_file, summary_file):
            (commands / name).write_text("")
        (runner_temp / script).write_text(step["run"])
        chown_tree(temp)
        variables = {
            **base,
            "GITHUB_OUTPUT": f"/home/runner/work/_temp/_runner_file_commands/{out_file}",
            "GITHUB_STEP_SUMMARY": f"/home/runner/work/_temp/_runner_file_commands/{summary_file}",
            **{k: evaluate(str(v), context) for k, v in step.get("env", {}).items()},
        }
        assert step["shell"] == "bash"
        cmd = ["docker", "run", "--rm", "--user", f"{RUNNER_UID}:{RUNNER_UID}"]
        cmd += ["--group-add", str(socket_gid), "--workdir", WORKSPACE]
        for key, value in variables.items():
            cmd += ["-e", f"{key}={value}"]
        for source, target in [
            ("/var/run/docker.sock", "/var/run/docker.sock"),
            (str(ROOT), f"{ACTION_PATH}:ro"),
            (str(workspace), WORKSPACE),
            (str(home), "/home/runner"),
            (str(runner_temp), "/home/runner/work/_temp"),
            (str(commands), "/home/runner/work/_temp/_runner_file_commands"),
            (str(tool_cache), TOOL_CACHE),
        ]:
            cmd += ["-v", f"{source}:{target}"]
        # the runner's own command line for `shell: bash`
        cmd += [runner_image, "bash", "--noprofile", "--norc", "-e", "-o", "pipefail"]
        cmd += [f"/home/runner/work/_temp/{script}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        stdout.append(proc.stdout)
        stderr.append(proc.stderr)
        summary.append((commands / summary_file).read_text())
        written = parse_github_output((commands / out_file).read_text())
        if step.get("id"):
            context["steps"][step["id"]] = {"outputs": dict(written)}
        if step.get("id") == "mb-ci":
            outputs = written
        if proc.returncode:
            returncode = proc.returncode
            break
    mapped = {name: evaluate(spec["value"], context) for name, spec in action["outputs"].items()}
    joined = "".join
    return ActionRun(
        returncode, joined(stdout), joined(stderr), outputs, joined(summary), workspace, mapped
    )
