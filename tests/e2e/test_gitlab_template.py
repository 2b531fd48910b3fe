"""The GitLab CI template's job, run locally by gitlab-ci-local against the built mb-ci image.

gitlab-ci-local (npm, installed by scripts/testbed --full) runs the job in the local engine. No
registry can be reached here, so the engine's socket stands in for the docker:dind service, and
its helper image is a local stand-in built from python:3.12-slim when the real one is absent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from helpers.git import SOURCE
from helpers.paths import ROOT

pytestmark = pytest.mark.docker

LOCAL = ROOT / ".venv" / "gitlab-ci-local" / "node_modules" / ".bin" / "gitlab-ci-local"
UTIL = "firecow/gitlab-ci-local-util:latest"


@pytest.fixture(scope="module")
def gitlab_ci_local() -> str:
    tool = str(LOCAL) if LOCAL.exists() else shutil.which("gitlab-ci-local")
    if tool is None or shutil.which("rsync") is None:
        pytest.skip("gitlab-ci-local or rsync is missing (scripts/testbed --full installs them)")
    if subprocess.run(["docker", "image", "inspect", UTIL], capture_output=True).returncode:
        # it copies artifacts out with bash and rsync in this image
        dockerfile = (
            "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y "
            "--no-install-recommends rsync && rm -rf /var/lib/apt/lists/*\n"
        )
        build = subprocess.run(
            ["docker", "build", "-q", "-t", UTIL, "-"],
            input=dockerfile,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert build.returncode == 0, build.stderr
    return tool


OVERRIDES = """\
include:
  - local: mb-ci.gitlab-ci.yml
variables:
  MB_CI_TOOL_IMAGE: {tool}
  MB_CI_IMAGE: {image}
mb-ci:
  services: []          # no registry to pull docker:dind from: the host engine's socket instead
  variables:
    DOCKER_HOST: unix:///var/run/docker.sock
    DOCKER_TLS_VERIFY: ""
    DOCKER_CERT_PATH: ""
  artifacts:            # gitlab-ci-local exports `paths` only, so list the reports there too
    paths: [mb-ci.sarif, mb-ci-junit.xml, gl-code-quality-report.json]
"""


def test_template_job_keeps_junit_and_code_quality_reports_when_it_fails(
    gitlab_ci_local, action_image, build_image, repo
):
    shutil.copy(ROOT / "templates" / "gitlab-ci.yml", repo.path / "mb-ci.gitlab-ci.yml")
    (repo.path / "Dockerfile").write_text(
        'FROM scratch\nLABEL org.opencontainers.image.revision=""\n'
    )
    tag = build_image(
        {
            "org.opencontainers.image.revision": "0" * 40,  # not the commit: the check fails
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": "2000-01-01T00:00:00Z",
        }
    )
    (repo.path / ".gitlab-ci.yml").write_text(OVERRIDES.format(tool=action_image, image=tag))
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "ci")
    proc = subprocess.run(
        [gitlab_ci_local, "--volume", "/var/run/docker.sock:/var/run/docker.sock", "mb-ci"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log
    assert "revision-matches-head" in log
    assert "exported artifacts" in log, log  # when: always
    junit = ET.parse(repo.path / "mb-ci-junit.xml").getroot()
    failed = junit.find(".//testcase[@name='revision-matches-head']/failure")
    assert failed is not None
    quality = json.loads((repo.path / "gl-code-quality-report.json").read_text())
    issue = next(i for i in quality if i["check_name"] == "revision-matches-head")
    assert issue["location"] == {"path": "Dockerfile", "lines": {"begin": 2}}
    assert issue["severity"] == "major"
    sarif = json.loads((repo.path / "mb-ci.sarif").read_text())
    assert sarif["runs"][0]["results"]
