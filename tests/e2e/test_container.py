"""The mb-ci image: how Jenkins and GitLab run it, its labels, its lock, and mb-ci on itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from helpers.cli import run_mbci
from helpers.paths import ROOT

OCI = "org.opencontainers.image."


def docker(
    *args: str, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], input=input, capture_output=True, text=True, timeout=timeout
    )


# --- without an engine ------------------------------------------------------------------------


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_lock_covers_every_runtime_dependency_with_hashes():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = (ROOT / "requirements/container.txt").read_text()
    pinned = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock, re.M)}
    missing = {_name(r) for r in project["dependencies"]} - pinned
    assert not missing, f"run scripts/lock-container: {sorted(missing)} not in the lock"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[2].strip())
    assert all("--hash=sha256:" in block for block in blocks)


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("action.yml", "vendor.github-actions"),
        ("templates/gitlab-ci.yml", "vendor.gitlab-ci"),
        ("examples/workflows/mb-ci.yml", "vendor.github-workflows"),
    ],
)
def test_ci_files_validate_against_their_public_schemas(path, schema):
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(ROOT / path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_inputs_are_the_ones_the_entry_point_reads():
    import yaml

    spec = yaml.safe_load((ROOT / "action.yml").read_text())
    # the composite action hands every input to the entry point as the container runner did,
    # and takes every output from the step that runs it
    assert spec["runs"]["using"] == "composite"
    (step,) = [s for s in spec["runs"]["steps"] if s.get("id") == "mb-ci"]
    assert '"action"' in step["run"] and "mb_ci.entrypoint" in step["run"]
    passed = {k: v for k, v in step["env"].items() if k.startswith("INPUT_")}
    # portable variable names: `_` for the input's `-`, which mb_ci/action.py reads too
    portable = {
        f"INPUT_{n.upper().replace('-', '_')}": f"${{{{ inputs.{n} }}}}" for n in spec["inputs"]
    }
    assert passed == portable
    for name, output in spec["outputs"].items():
        assert output["value"].startswith(f"${{{{ steps.mb-ci.outputs.{name} "), name
    source = (ROOT / "mb_ci/action.py").read_text()
    for name in spec["inputs"]:
        assert f'"{name}"' in source, f"input {name} is never read"
    for name in spec["outputs"]:
        assert f'"{name}"' in source, f"output {name} is never written"
    assert {"image", "policy", "repo-path", "format", "reports", "fail-on", "platform"} <= set(
        spec["inputs"]
    )
    assert spec["inputs"]["image"]["required"] is True
    assert os.access(ROOT / "docker-entrypoint.sh", os.X_OK)


# --- the image --------------------------------------------------------------------------------


@pytest.mark.docker
def test_image_runs_cat_with_stdin_like_jenkins(action_image):
    proc = docker("run", "-i", "--rm", action_image, "cat", input="hello jenkins\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello jenkins\n"


@pytest.mark.docker
def test_image_runs_sh_c_like_gitlab(action_image):
    proc = docker(
        "run", "--rm", action_image, "sh", "-c", "echo ok && mb-ci --version && git --version"
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "ok" and lines[1].startswith("mb-ci ") and lines[2].startswith("git version")


GIT_JOB = r"""
set -e
cd /tmp
git config --global user.email ci@example.invalid
git config --global user.name ci
git init -q sub && echo one > sub/f && git -C sub add f && git -C sub commit -qm one
git init -q top && cd top
git -c protocol.file.allow=always submodule add -q /tmp/sub s
git commit -qm two && echo three > g && git add g && git commit -qm three
cd /tmp && git clone -q --depth 1 file:///tmp/top c && cd c
git -c protocol.file.allow=always submodule update --init -q
git fetch -q --deepen 1
echo "commits=$(git rev-list --count HEAD)"
echo "submodule=$(cat s/f)"
git ls-remote https://127.0.0.1:9/x.git 2>&1 | head -1 || true
dpkg -s perl >/dev/null 2>&1 || echo "no perl package"
"""


@pytest.mark.docker
def test_image_git_does_what_a_ci_job_asks_of_it_without_perl(action_image):
    """The image carries git's program and commands, not Debian's package and its perl: a
    job can still clone, fetch deeper, init submodules and reach HTTPS remotes."""
    proc = docker("run", "--rm", "--entrypoint", "sh", action_image, "-c", GIT_JOB)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "commits=2" in out and "submodule=one" in out
    assert "Failed to connect to 127.0.0.1 port 9" in out  # the https transport is there
    assert "is not a git command" not in out + proc.stderr
    assert "no perl package" in out  # perl-base, in every Debian image, stays


@pytest.mark.docker
def test_image_runs_mb_ci_for_options_and_subcommands(action_image):
    version = docker("run", "--rm", action_image, "--version")
    assert version.returncode == 0 and version.stdout.startswith("mb-ci ")
    checks = docker("run", "--rm", action_image, "checks")
    assert checks.returncode == 0 and "revision-matches-head" in checks.stdout
    typo = docker("run", "--rm", action_image, "chekc")
    assert typo.returncode == 2 and "invalid choice" in typo.stderr


@pytest.mark.docker
def test_image_waits_briefly_for_a_tcp_engine_then_reports_it(action_image):
    proc = docker(
        "run",
        "--rm",
        "-e",
        "DOCKER_HOST=tcp://127.0.0.1:9",
        "-e",
        "MB_CI_ENGINE_WAIT=1",
        action_image,
        "check",
        "--no-git",
        "app:1",
    )
    assert proc.returncode == 3, proc.stderr
    assert "did not answer within 1s" in proc.stderr


@pytest.mark.docker
def test_image_has_no_pip_cache_and_labels_itself(action_image):
    proc = docker("run", "--rm", action_image, "sh", "-c", "ls /root/.cache/pip 2>&1 || echo none")
    assert proc.stdout.strip().endswith("none")
    labels = json.loads(
        docker("image", "inspect", "-f", "{{json .Config.Labels}}", action_image).stdout
    )
    assert labels[OCI + "title"] == "mb-ci"
    assert labels[OCI + "licenses"] == "Apache-2.0"
    head = run_mbci("labels", "--format", "json", cwd=ROOT)
    assert labels[OCI + "revision"] == json.loads(head.stdout)[OCI + "revision"]


@pytest.mark.docker
def test_dogfood_the_image_passes_mb_ci_check_against_this_checkout(action_image, tmp_path):
    """What CI does: build this image with labels from `mb-ci labels`, then check it with itself."""
    args = ["check", action_image, "--repo", "/src", "--report", "junit=/out/junit.xml", "-v"]
    mounts = ["-v", f"{ROOT}:/src:ro", "-v", f"{tmp_path}:/out"]
    if not json.loads(run_mbci("labels", cwd=ROOT).stdout).get(OCI + "source"):
        # a checkout without a remote has no source to label the image with
        (tmp_path / "policy.yml").write_text(
            f"version: 1\nlabels:\n  {OCI}source:\n    required: false\n"
        )
        args += ["--policy", "/out/policy.yml"]
    proc = docker(
        "run",
        "--rm",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        *mounts,
        action_image,
        *args,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed" in proc.stdout
    assert "revision-matches-head" in (tmp_path / "junit.xml").read_text()


@pytest.mark.docker
def test_cli_reads_a_checkout_owned_by_another_user_in_the_container(action_image, repo):
    """gitfacts' own `-c safe.directory`, without the Action's GIT_CONFIG_* variables."""
    from helpers.runner import make_workspace

    make_workspace(repo.path)
    proc = docker("run", "--rm", "-v", f"{repo.path}:/w", "-w", "/w", action_image, "labels")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[OCI + "revision"] == repo.head
    plain = docker(
        "run", "--rm", "-v", f"{repo.path}:/w", "-w", "/w", action_image, "git", "status"
    )
    assert plain.returncode != 0 and "dubious ownership" in plain.stderr  # what git alone does
