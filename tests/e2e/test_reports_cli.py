"""Reports written by the real CLI against images on the engine: colour on a terminal, the CI
formats on disk, each valid against its published schema."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from helpers.env import clean_env
from helpers.git import SOURCE
from helpers.schemas import junit_schema, sarif_validator

pytestmark = pytest.mark.docker

OCI = "org.opencontainers.image."
REV = OCI + "revision"


def _run_on_a_pty(args: list[str], env: dict[str, str]) -> str:
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mb_ci", *args],
            stdout=terminal,
            stderr=subprocess.PIPE,
            env=clean_env(env),
            timeout=60,
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(controller)
    assert proc.returncode in (0, 1), proc.stderr
    return b"".join(chunks).decode()


def test_the_cli_colours_a_terminal_unless_no_color(build_image):
    tag = build_image({OCI + "revision": "not-a-sha"})
    args = ["check", tag, "--no-git"]
    env = {"TERM": "xterm"}
    assert "\x1b[31m" in _run_on_a_pty(args, env)
    assert "\x1b[" not in _run_on_a_pty(args, {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in _run_on_a_pty([*args, "--format", "json"], env)


def test_check_writes_every_ci_report(repo, build_image, mbci):
    (repo.path / "Dockerfile").write_text(
        f'FROM scratch\nLABEL {REV}="{"0" * 40}" \\\n  org.opencontainers.image.source="{SOURCE}"\n'
    )
    tag = build_image(
        {
            REV: "0" * 40,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": "2000-01-01T00:00:00Z",
        }
    )
    out = repo.path / "out"
    out.mkdir()
    args = [f"--report={f}={out / f}" for f in ("sarif", "junit", "codequality", "github")]
    result = mbci("check", tag, "--format", "github", *args, cwd=repo.path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("::error file=Dockerfile,line=2,")
    sarif = json.loads((out / "sarif").read_text())
    assert not list(sarif_validator().iter_errors(sarif))
    regions = {
        r["ruleId"]: r["locations"][0]["physicalLocation"].get("region")
        for r in sarif["runs"][0]["results"]
    }
    assert regions["revision-matches-head"] == {"startLine": 2}
    junit = ET.parse(out / "junit").getroot()
    assert junit.find(".//testcase[@name='revision-matches-head']/failure") is not None
    quality = json.loads((out / "codequality").read_text())
    assert {i["check_name"] for i in quality} >= {"revision-matches-head"}
    assert (out / "github").read_text() == result.stdout


def test_cli_junit_report_is_valid(repo, build_image, mbci, tmp_path):
    tag = build_image({"org.opencontainers.image.revision": "0" * 40})
    out = tmp_path / "junit.xml"
    result = mbci("check", tag, f"--report=junit={out}", cwd=repo.path)
    assert result.returncode == 1, result.stderr
    assert not list(junit_schema().iter_errors(str(out)))
    suite = ET.parse(out).getroot().find("testsuite")
    stamp = dt.datetime.fromisoformat(suite.get("timestamp")).replace(tzinfo=dt.timezone.utc)
    assert abs(dt.datetime.now(dt.timezone.utc) - stamp) < dt.timedelta(days=1)
    assert suite.get("hostname")
