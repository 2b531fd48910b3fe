"""Start-up stays light: `--version` and `--help` load none of the heavy dependencies."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.env import clean_env

from mb_ci import __version__

HEAVY = (
    "docker",
    "git",
    "jsonschema",
    "requests",
    "urllib3",
    "yaml",
    "regex",
    "license_expression",
)


def imported(*args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Top-level packages imported by ``python -m mb_ci ARGS``, from ``-X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mb_ci", *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":
                names.add(name.split(".")[0])
    return names, proc


@pytest.mark.parametrize(
    "args",
    [["--version"], ["--help"], [], ["check", "--help"], ["policy", "--help"]],
)
def test_no_heavy_imports(args):
    names, proc = imported(*args)
    assert "mb_ci" in names, proc.stderr[-2000:]  # the measurement itself works
    assert not names & set(HEAVY), sorted(names & set(HEAVY))


def test_version_and_help_output():
    _, version = imported("--version")
    assert (version.returncode, version.stdout) == (0, f"mb-ci {__version__}\n")
    _, helped = imported("--help")
    assert helped.returncode == 0
    assert "exit codes: 0 passed, 1 error-level findings" in helped.stdout
    for command in ("check", "labels", "policy", "checks"):
        assert f"    {command} " in helped.stdout


def test_the_measurement_sees_heavy_imports_when_they_happen(tmp_path):
    """``policy validate`` needs YAML and jsonschema: the detector must notice them."""
    path = tmp_path / "p.yml"
    path.write_text("version: 1\n")
    names, proc = imported("policy", "validate", str(path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {"yaml", "jsonschema"} <= names
