"""The command line contract: usage errors, output files, --strict, and the crash handler."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from helpers.cli import run_mbci
from helpers.git import SOURCE

from mb_ci import cli

OCI = "org.opencontainers.image."


def test_python_dash_m_runs_the_cli():
    result = run_mbci("checks")
    assert result.returncode == 0
    assert re.search(r"^revision-matches-head +error +", result.stdout, re.M)
    listed = json.loads(run_mbci("checks", "--format", "json").stdout)
    assert {"id", "severity", "summary", "help"} <= set(listed[0])


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["no-such-command"],
        ["check"],  # IMAGE missing
        ["check", "img", "--bogus"],
        ["labels", "--format", "yaml"],
        ["policy"],
        ["policy", "frobnicate"],
        ["check", "img", "--timeout", "soon"],
    ],
)
def test_usage_errors_exit_2(args):
    result = run_mbci(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_unknown_format_exits_2_before_any_work(tmp_path):
    # no checkout, no such image: the format is still judged first
    result = run_mbci("check", "no-such-image:1", "--format", "xml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("mb-ci: error: unknown format 'xml' (choose one of text, json")
    bad_report = run_mbci("check", "no-such-image:1", "--report", "json", cwd=tmp_path)
    assert bad_report.returncode == 2
    assert "--report json: expected FORMAT=PATH" in bad_report.stderr


def test_bad_image_reference_exits_2(repo):
    result = run_mbci("check", "docker-daemon:", cwd=repo.path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


@pytest.fixture
def truthful(repo, build_image):
    created = run_mbci("labels", cwd=repo.path)
    labels = json.loads(created.stdout)
    assert labels[OCI + "source"] == SOURCE
    return repo, build_image(labels)


def test_output_and_report_files(truthful, tmp_path):
    repo, tag = truthful
    out = tmp_path / "out" / "report.txt"
    out.parent.mkdir()
    side = tmp_path / "side.json"
    result = run_mbci("check", tag, "--output", str(out), "--report", f"json={side}", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text().startswith(f"mb-ci check {tag}\n")
    assert "\x1b[" not in out.read_text()
    assert json.loads(side.read_text())["result"] == "pass"
    as_json = run_mbci("check", tag, "--format", "json", "-o", str(out), cwd=repo.path)
    assert as_json.returncode == 0
    assert json.loads(out.read_text())["subject"] == tag


def test_output_into_a_missing_directory_exits_2(truthful, tmp_path):
    repo, tag = truthful
    result = run_mbci("check", tag, "--output", str(tmp_path / "nope" / "r.txt"), cwd=repo.path)
    assert result.returncode == 2
    assert "cannot write" in result.stderr
    assert not (tmp_path / "nope").exists()


def test_strict_fails_on_warnings(truthful, tmp_path):
    repo, tag = truthful
    (repo.path / "file.txt").write_text("uncommitted\n")  # revision-dirty is a warning
    relaxed = run_mbci("check", tag, cwd=repo.path)
    assert relaxed.returncode == 0, relaxed.stdout
    assert "[revision-dirty]" in relaxed.stdout
    assert "passed: 0 errors, 1 warning" in relaxed.stdout
    strict = run_mbci("check", tag, "--strict", cwd=repo.path)
    assert strict.returncode == 1
    assert "FAILED: 0 errors, 1 warning" in strict.stdout


def test_environment_defaults(truthful, tmp_path):
    repo, tag = truthful
    result = run_mbci(
        "check", tag, cwd=tmp_path, env={"MB_CI_REPO": str(repo.path), "MB_CI_FORMAT": "json"}
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["git"]["head"] == repo.head


def test_labels_formats(repo):
    repo.git("tag", "v1.4.0")
    env_out = run_mbci(
        "labels", "--format", "env", cwd=repo.path, env={"SOURCE_DATE_EPOCH": "1700000000"}
    )
    assert sorted(env_out.stdout.splitlines()) == [
        "BUILD_DATE=2023-11-14T22:13:20Z",
        f"VCS_REF={repo.head}",
        f"VCS_URL={SOURCE}",
        "VERSION=1.4.0",
    ]
    args = run_mbci("labels", "--format", "build-args", "--preset", "label-schema", cwd=repo.path)
    lines = args.stdout.splitlines()
    assert f"--label org.label-schema.vcs-ref={repo.head}" in lines
    assert "--label org.label-schema.schema-version=1.0" in lines
    github = run_mbci("labels", "--format", "github", cwd=repo.path).stdout
    delimiter = re.search(r"^labels<<(\S+)$", github, re.M).group(1)
    assert github.endswith(f"\n{delimiter}\n")
    assert f"revision={repo.head}\n" in github
    for epoch in ("yesterday", "99999999999999999"):
        bad = run_mbci("labels", cwd=repo.path, env={"SOURCE_DATE_EPOCH": epoch})
        assert bad.returncode == 2, bad.stderr
        assert bad.stderr.startswith("mb-ci: error: SOURCE_DATE_EPOCH=")
        assert bad.stderr.count("\n") == 1


def test_internal_error_exits_4_with_a_crash_log(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken(args):
        raise KeyError("a bug")

    monkeypatch.setattr("mb_ci.commands.checks.run", broken)
    assert cli.main(["checks"]) == 4
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    match = re.fullmatch(
        r"mb-ci: internal error: KeyError: 'a bug'; details in (\S+) "
        r"\(please attach it to an issue\)\n",
        err,
    )
    assert match, err
    log = Path(match.group(1)).read_text()
    assert log.startswith("mb-ci ")
    assert "Traceback" in log
    assert "KeyError: 'a bug'" in log


def test_an_internal_error_message_stays_on_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken(args):
        raise ValueError("first\nsecond \x1b[2J https://u:pw@h/")

    monkeypatch.setattr("mb_ci.commands.checks.run", broken)
    assert cli.main(["checks"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "ValueError: first\\nsecond \\x1b[2J https://u:***@h/; details in " in err


def test_an_mbci_error_is_one_line_without_traceback(monkeypatch, capsys):
    from mb_ci.errors import CheckoutError

    def failing(args):
        raise CheckoutError("line one\nline two \x1b[31m", "a hint")

    monkeypatch.setattr("mb_ci.commands.checks.run", failing)
    assert cli.main(["checks"]) == 3
    assert capsys.readouterr().err == "mb-ci: error: line one\\nline two \\x1b[31m (a hint)\n"


def test_policy_validate_finds_the_policy_check_would_use(repo, tmp_path):
    (repo.path / ".mb-ci.yml").write_text("version: 1\npreset: none\n")
    sub = repo.path / "src"
    sub.mkdir()
    found = run_mbci("policy", "validate", cwd=sub)
    assert found.returncode == 0, found.stderr
    assert (
        found.stdout
        == f"{repo.path.resolve() / '.mb-ci.yml'}: valid (preset none, 0 label rules)\n"
    )
    other = tmp_path / "other.yml"
    other.write_text("version: 1\npreset: both\n")
    by_env = run_mbci("policy", "validate", cwd=sub, env={"MB_CI_POLICY": str(other)})
    assert by_env.stdout.startswith(f"{other}: valid (preset both")
