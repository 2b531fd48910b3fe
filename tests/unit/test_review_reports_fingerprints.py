"""Every result of one SARIF run has its own fingerprint, as in Code Quality.

Code scanning merges results of a run that share ``partialFingerprints`` into one alert: two
variables no ARG declares in one label gave two findings with one fingerprint, and one of them
vanished from the alerts.
"""

from __future__ import annotations

import json

from mb_ci.pipeline import lint
from mb_ci.policy import Policy
from mb_ci.report import render

DOCKERFILE = "FROM scratch\nLABEL a=$X$Y$1 b=$X\n"


def _report(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    return lint(str(path), Policy(preset="none"))


def test_sarif_fingerprints_are_unique_in_a_run(tmp_path):
    report = _report(tmp_path)
    undefined = [f for f in report.findings if f.check == "dockerfile-undefined-var"]
    assert len([f for f in undefined if f.label == "a"]) == 3  # the case this is about
    results = json.loads(render(report, "sarif"))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["mbCiFinding/v1"] for r in results]
    assert len(prints) == len(report.findings) and len(set(prints)) == len(prints)


def test_sarif_fingerprints_are_stable_across_runs(tmp_path):
    first = render(_report(tmp_path), "sarif")
    again = render(_report(tmp_path), "sarif")
    assert first == again


def test_code_quality_fingerprints_are_unique_too(tmp_path):
    issues = json.loads(render(_report(tmp_path), "codequality"))
    prints = [i["fingerprint"] for i in issues]
    assert len(prints) > 3 and len(set(prints)) == len(prints)
