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
