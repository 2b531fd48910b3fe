"""`effective_on`, `--date` / `MB_CI_DATE` / the Action's `date`, optional labels and the policy's
size and date validation: before, on and after the day, and every wrong value in one line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from helpers.clock import FIXED
from helpers.facts import checkout, ci, image, policy, truthful_labels

from mb_ci.action import read_inputs
from mb_ci.checks import check_image
from mb_ci.errors import UsageError
from mb_ci.models import Severity
from mb_ci.values import parse_size
from mb_ci.vocab import OCI

DAY = dt.date(2027, 1, 15)
RULE = f"labels:\n  {OCI}vendor:\n    required: true\n    effective_on: '2027-01-15'\n"
LINT_POLICY = "version: 1\npreset: none\n" + RULE
DOCKERFILE = "FROM scratch\nLABEL org.opencontainers.image.title=widget\n"


def _vendor(text: str, as_of: dt.date | None):
    rules = dataclasses.replace(policy(text), as_of=as_of)
    found = check_image(image(truthful_labels()), checkout(), ci(), rules, now=FIXED).findings
    return [f for f in found if f.label == OCI + "vendor"]


@pytest.mark.parametrize(
    ("as_of", "severity", "says_when"),
    [
        (DAY - dt.timedelta(days=1), Severity.WARNING, True),
        (DAY, Severity.ERROR, False),
        (DAY + dt.timedelta(days=1), Severity.ERROR, False),
    ],
)
def test_a_rule_warns_before_its_day_and_fails_from_it(as_of, severity, says_when):
    (finding,) = _vendor(RULE, as_of)
    assert finding.check == "label-required"
    assert finding.severity is severity
    assert ("(fails from 2027-01-15)" in finding.message) is says_when
    assert finding.detail["effective_on"] == "2027-01-15"


def test_without_a_date_the_checks_clock_decides():
    # FIXED is in 2024: the rule is not in force yet
    (finding,) = _vendor(RULE, None)
    assert finding.severity is Severity.WARNING


def test_the_policy_wide_default_and_a_rules_own_day():
    text = (
        "effective_on: '2030-01-01'\n"
        f"labels:\n  {OCI}vendor:\n    required: true\n"
        f"  {OCI}title:\n    required: true\n    effective_on: '2027-01-15'\n"
    )
    rules = dataclasses.replace(policy(text), as_of=dt.date(2028, 6, 1))
    found = check_image(image(truthful_labels()), checkout(), ci(), rules, now=FIXED).findings
    by_label = {f.label: f for f in found}
    assert by_label[OCI + "vendor"].severity is Severity.WARNING  # the default: 2030
    assert "fails from 2030-01-01" in by_label[OCI + "vendor"].message
    assert by_label[OCI + "title"].severity is Severity.ERROR  # its own day has passed


def test_a_warning_rule_is_not_made_an_error_by_its_day():
    text = f"labels:\n  {OCI}vendor:\n    deprecated: gone\n    effective_on: '2027-01-15'\n"
    rules = dataclasses.replace(policy(text), as_of=DAY + dt.timedelta(days=1))
    found = check_image(
        image(truthful_labels(**{OCI + "vendor": "Acme"})), checkout(), ci(), rules, now=FIXED
    ).findings
    (finding,) = [f for f in found if f.check == "label-deprecated"]
    assert finding.severity is Severity.WARNING


def test_a_gate_with_a_start_date():
    from helpers.facts import platform

    text = "max_layers: {limit: 2, effective_on: '2027-01-15'}\n"
    subject = image(platforms=(dataclasses.replace(platform(truthful_labels()), layer_count=3),))
    for as_of, severity in ((DAY - dt.timedelta(days=1), Severity.WARNING), (DAY, Severity.ERROR)):
        rules = dataclasses.replace(policy(text), as_of=as_of)
        (finding,) = check_image(subject, checkout(), ci(), rules, now=FIXED).findings
        assert (finding.check, finding.severity) == ("max-layers", severity)


def test_optional_labels_warn_and_a_required_one_is_reported_once():
    text = f"optional: [{OCI}description, {OCI}source]\n"
    labels = {k: v for k, v in truthful_labels().items() if k != OCI + "source"}
    rules = dataclasses.replace(policy(text), as_of=DAY)
    found = check_image(image(labels), checkout(), ci(), rules, now=FIXED).findings
    checks = sorted((f.check, f.label, f.severity.value) for f in found)
    assert checks == [
        ("label-optional", OCI + "description", "warning"),
        ("label-required", OCI + "source", "error"),
    ]


# --- the command line, the environment and the Action -------------------------------------------


@pytest.fixture
def lint_setup(tmp_path):
    (tmp_path / "policy.yml").write_text(LINT_POLICY)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    return tmp_path


def _lint(mbci, folder, *args, env=None):
    return mbci(
        "lint-dockerfile",
        str(folder / "Dockerfile"),
        "--policy",
        str(folder / "policy.yml"),
        "--format",
        "json",
        *args,
        cwd=folder,
        env=env,
    )


@pytest.mark.parametrize(
    ("args", "env", "code", "severity"),
    [
        (("--date", "2027-01-14"), None, 0, "warning"),
        (("--date", "2027-01-15"), None, 1, "error"),
        ((), {"MB_CI_DATE": "2027-01-14"}, 0, "warning"),
        ((), {"MB_CI_DATE": "2027-03-01"}, 1, "error"),
        (("--date", "2027-01-14"), {"MB_CI_DATE": "2027-03-01"}, 0, "warning"),  # option wins
    ],
)
def test_date_and_mb_ci_date(mbci, lint_setup, args, env, code, severity):
    result = _lint(mbci, lint_setup, *args, env=env)
    assert result.returncode == code, result.stderr
    found = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "label-required"]
    assert [f["severity"] for f in found] == [severity]
    assert ("fails from 2027-01-15" in found[0]["message"]) is (severity == "warning")


@pytest.mark.parametrize(
    "bad", ["2027-02-30", "15/01/2027", "tomorrow", "2027-1-5", "20270115", "2027-W03-5"]
)
def test_a_bad_date_is_one_line_exit_2(mbci, lint_setup, bad):
    result = _lint(mbci, lint_setup, "--date", bad)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "--date" in line and "is not a date" in line and "YYYY-MM-DD" in line


def test_a_bad_mb_ci_date_is_one_line_exit_2(mbci, lint_setup):
    result = _lint(mbci, lint_setup, env={"MB_CI_DATE": "soon"})
    assert result.returncode == 2
    assert "'soon' is not a date" in result.stderr


def test_lint_dockerfile_says_the_gates_wait_for_the_build(mbci, tmp_path):
    (tmp_path / "policy.yml").write_text("version: 1\npreset: none\nmax_layers: 3\nmax_size: 1MB\n")
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    result = _lint(mbci, tmp_path)
    assert result.returncode == 0, result.stderr
    found = {f["check"]: f for f in json.loads(result.stdout)["findings"]}
    assert set(found) == {"max-layers", "max-size"}
    for finding in found.values():
        assert finding["severity"] == "info"
        assert "unknown before the build" in finding["message"]


def test_the_action_reads_its_date_input():
    env = {"INPUT_IMAGE": "app:1", "INPUT_DATE": " 2027-01-15 "}
    assert read_inputs(env).check.date == DAY
    assert read_inputs({"INPUT_IMAGE": "app:1", "MB_CI_DATE": "2027-01-15"}).check.date == DAY
    assert read_inputs({"INPUT_IMAGE": "app:1"}).check.date is None
    with pytest.raises(UsageError, match="input 'date': '2027-13-01' is not a date"):
        read_inputs({"INPUT_IMAGE": "app:1", "INPUT_DATE": "2027-13-01"})


# --- validation: one line, the file and the line --------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "effective_on: 2027-02-30\n",
            ":2: effective_on: '2027-02-30' is not a day of the calendar",
        ),
        (
            "effective_on: next week\n",
            ":2: effective_on: 'next week' is not a date: write YYYY-MM-DD",
        ),
        (
            f"labels:\n  {OCI}vendor:\n    effective_on: '15.01.2027'\n",
            f":4: labels.{OCI}vendor.effective_on: '15.01.2027' is not a date",
        ),
        ("max_size: -5MB\n", ":2: max_size: '-5MB' is not a size: give bytes, or a number with"),
        ("max_size: -5\n", ":2: max_size: '-5' is not a size"),
        ("max_config_size: 10 parsecs\n", ":2: max_config_size: '10 parsecs' is not a size"),
        ("max_size: {limit: 5XB}\n", ":2: max_size.limit: '5XB' is not a size"),
        ("max_layers: -1\n", ":2: max_layers: '-1' is not a layer count"),
        (
            "max_layers: {limit: 4, effective_on: '2027-02-29'}\n",
            ":2: max_layers.effective_on: '2027-02-29' is not a day of the calendar",
        ),
    ],
)
def test_validate_explains_a_bad_date_or_size_in_one_line(mbci, tmp_path, body, message):
    path = tmp_path / "policy.yml"
    path.write_text("version: 1\n" + body)
    result = mbci("policy", "validate", str(path))
    assert result.returncode == 2, result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert f"{path}{message}" in line


@pytest.mark.parametrize(
    ("text", "size"),
    [
        (0, 0),
        (4096, 4096),
        ("4096", 4096),
        ("500MB", 500_000_000),
        ("500 kB", 500_000),
        ("1.5GiB", 1_610_612_736),
        ("64KiB", 65_536),
        (" 2 TB ", 2 * 10**12),
        ("-1", None),
        (-1, None),
        ("1.5 gib", None),
        ("1e9", None),
        (True, None),
        ("9" * 13, None),
    ],
)
def test_sizes(text, size):
    assert parse_size(text) == size


def test_validate_lists_the_rules_that_only_warn_as_of_the_day(mbci, tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text(
        "version: 1\npreset: [redhat, preflight]\n"
        "max_size: {limit: 1GB, effective_on: '2027-03-01'}\n"
    )
    early = mbci("policy", "validate", str(path), "--date", "2026-01-01")
    assert early.returncode == 0, early.stderr
    assert early.stdout.splitlines()[1:] == [
        f"{path}: warns until 2026-06-07, fails from it: "
        "labels.org.opencontainers.image.created, labels.cpe",
        f"{path}: warns until 2027-03-01, fails from it: max_size",
    ]
    late = mbci("policy", "validate", str(path), "--date", "2027-03-01")
    assert late.stdout.splitlines()[1:] == []
    bad = mbci("policy", "validate", str(path), "--date", "2026-1-1")
    assert bad.returncode == 2 and "--date: '2026-1-1' is not a date" in bad.stderr
