"""The sharded-audit examples: valid for their CI systems, and split and merge the same way."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from helpers.paths import ROOT

GITHUB = "examples/workflows/audit-shards.yml"
GITLAB = "examples/gitlab/audit-shards.gitlab-ci.yml"


@pytest.mark.parametrize(
    ("path", "schema"), [(GITHUB, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci")]
)
def test_examples_validate_against_their_public_schemas(path, schema):
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(ROOT / path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _commands(job: dict) -> str:
    steps = job.get("steps") or [{"run": line} for line in job.get("script", ())]
    return "\n".join(str(step.get("run", "")) for step in steps)


def test_github_matrix_shards_eight_ways_and_merges_every_shard():
    flow = yaml.safe_load((ROOT / GITHUB).read_text())
    audit, report = flow["jobs"]["audit"], flow["jobs"]["report"]
    assert audit["strategy"]["matrix"]["shard"] == list(range(1, 9))
    assert audit["strategy"]["fail-fast"] is False  # every shard reports, or the merge refuses
    run = _commands(audit)
    assert "--shard ${{ matrix.shard }}/8" in run and "--format json" in run
    assert "--report-only" in run and report["needs"] == "audit"
    assert "mb-ci audit --merge audit-*.json" in _commands(report)
    assert "pip install mb-ci" not in (ROOT / GITHUB).read_text()


def test_gitlab_parallel_matrix_shards_eight_ways_and_merges_every_shard():
    pipeline = yaml.safe_load((ROOT / GITLAB).read_text())
    audit, report = pipeline["audit"], pipeline["audit-report"]
    assert audit["parallel"]["matrix"] == [{"SHARD": [str(n) for n in range(1, 9)]}]
    run = _commands(audit)
    assert '--shard "$SHARD/8"' in run and "--format json" in run and "--report-only" in run
    assert audit["artifacts"]["paths"] == ["audit-$SHARD.json"]
    assert report["needs"] == ["audit"]
    assert "mb-ci audit --merge audit-*.json" in _commands(report)
    assert "pip install mb-ci" not in (ROOT / GITLAB).read_text()


KUBERNETES = "examples/workflows/kubernetes-audit.yml"


def test_the_kubernetes_example_validates_and_its_audit_step_runs(tmp_path):
    """The example's own audit step, run as GitHub would run it, on a pod list a stand-in
    kubectl prints (no cluster here); images on a closed port are rows with a reason."""
    import json
    import os
    import shutil

    from helpers.pods import pod, pod_list

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(ROOT / KUBERNETES),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (ROOT / KUBERNETES).read_text()
    assert "pip install mb-ci" not in text
    flow = yaml.safe_load(text)
    steps = {s.get("name"): s for s in flow["jobs"]["audit"]["steps"]}
    listing = pod_list(
        [
            pod(
                "web-0",
                "shop",
                [
                    {
                        "name": "web",
                        "image": "127.0.0.1:9/web:1",
                        "image_id": f"127.0.0.1:9/web@sha256:{'1' * 64}",
                    }
                ],
            )
        ]
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (tmp_path / "pods.json").write_text(json.dumps(listing))
    mbci = bindir / "mb-ci"
    mbci.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mb_ci "$@"\n')
    mbci.chmod(0o755)
    summary = tmp_path / "summary-file"
    env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_STEP_SUMMARY": str(summary),
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [shutil.which("bash") or "bash", "-e", "-c", steps["Audit what the pods run"]["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "fleet" / "index.html").read_text()
    assert page.startswith("<!doctype html>") and "shop/web-0/web" in page
    assert json.loads((tmp_path / "fleet" / "audit.json").read_text())["summary"]["unreadable"] == 1
    assert summary.read_text().startswith("### mb-ci audit: ⚠️ some images could not be read")
    assert "shop/web&#45;0/web" in summary.read_text()
