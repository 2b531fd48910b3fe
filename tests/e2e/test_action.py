"""The Action's entry point without a container: inputs, outputs, summary and exit codes."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
from helpers.cli import run_mbci
from helpers.clock import now
from helpers.git import SOURCE
from helpers.runner import parse_github_output, workflow_commands

from mb_ci import action, entrypoint
from mb_ci.errors import UsageError

REV = "org.opencontainers.image.revision"


def test_inputs_read_in_both_spellings():
    assert action.get_input({"INPUT_REPO-PATH": " sub "}, "repo-path") == "sub"
    assert action.get_input({"INPUT_REPO_PATH": "sub2"}, "repo-path") == "sub2"
    both = {"INPUT_FAIL-ON": "warning", "INPUT_FAIL_ON": "never"}
    assert action.get_input(both, "fail-on") == "warning"
    assert action.get_input({"INPUT_FAIL-ON": "  "}, "fail-on", "error") == "error"


def test_required_and_invalid_inputs_are_usage_errors():
    with pytest.raises(UsageError, match="'image' is required"):
        action.read_inputs({})
    with pytest.raises(UsageError, match="fail-on"):
        action.read_inputs({"INPUT_IMAGE": "x", "INPUT_FAIL-ON": "sometimes"})
    with pytest.raises(UsageError, match="boolean"):
        action.read_inputs({"INPUT_IMAGE": "x", "INPUT_VERBOSE": "maybe"})


def test_inputs_keep_the_image_out_of_option_parsing():
    inputs = action.read_inputs(
        {
            "INPUT_IMAGE": "--help",
            "INPUT_REPORTS": "sarif=a.sarif\njunit=b.xml, codequality=c.json",
            "INPUT_PLATFORM": "linux/amd64,linux/arm64",
            "INPUT_FAIL-ON": "warning",
        }
    )
    assert inputs.check.image == "--help"
    assert len(inputs.out.reports) == 3 and len(inputs.check.source.platforms) == 2
    assert inputs.out.strict and inputs.fail_on == "warning"


def test_output_block_cannot_be_ended_by_a_value():
    value = "a\nresult=pass\nghadelimiter_0\n::set-output name=x::y\nEOF"
    text = action.output_block("revision", value) + action.output_block("result", "fail")
    assert parse_github_output(text) == [("revision", value), ("result", "fail")]


def test_trust_workspace_appends_git_config_entries():
    env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "a.b", "GIT_CONFIG_VALUE_0": "c"}
    action.trust_workspace(env, "/github/workspace")
    assert env["GIT_CONFIG_COUNT"] == "2"
    assert env["GIT_CONFIG_KEY_1"] == "safe.directory"
    assert env["GIT_CONFIG_VALUE_1"] == "/github/workspace"


def _files(tmp_path):
    out, summary = tmp_path / "output", tmp_path / "summary"
    out.write_text("")
    summary.write_text("")
    return out, summary


def test_missing_image_sets_result_error_and_exits_2(tmp_path):
    out, summary = _files(tmp_path)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}
    result = run_mbci_action(env, cwd=tmp_path)
    assert result.returncode == 2
    assert workflow_commands(result.stdout) == [
        "::error title=mb-ci::input 'image' is required (e.g. image: myapp:${{ github.sha }})"
    ]
    assert parse_github_output(out.read_text()) == [("result", "error")]


def run_mbci_action(env, cwd):
    import subprocess
    import sys

    from helpers.env import clean_env

    proc = subprocess.run(
        [sys.executable, "-m", "mb_ci.entrypoint", "action"],
        env=clean_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc


def test_action_runs_the_check_and_writes_outputs_summary_and_reports(repo, build_image, tmp_path):
    tag = build_image(
        {
            REV: repo.head,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": now(),
        }
    )
    out, summary = _files(tmp_path)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(out),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(repo.path),
        "GITHUB_SHA": repo.head,
        "INPUT_IMAGE": tag,
        "INPUT_REPORTS": "sarif=reports/mb-ci.sarif,junit=reports/junit.xml",
    }
    result = run_mbci_action(env, cwd=repo.path)
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = dict(parse_github_output(out.read_text()))
    assert outputs["result"] == "pass"
    assert outputs["errors"] == "0"
    assert outputs["revision"] == repo.head
    assert outputs["report-paths"] == "reports/mb-ci.sarif\nreports/junit.xml"
    assert json.loads((repo.path / "reports/mb-ci.sarif").read_text())["version"] == "2.1.0"
    assert "### mb-ci check: ✅ passed" in summary.read_text()
    assert workflow_commands(result.stdout) == []


def test_fail_on_never_reports_but_passes(repo, build_image, tmp_path):
    tag = build_image({REV: "0" * 40})
    out, _ = _files(tmp_path)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(out),
        "INPUT_IMAGE": tag,
        "INPUT_FAIL-ON": "never",
    }
    result = run_mbci_action(env, cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert dict(parse_github_output(out.read_text()))["result"] == "fail"
    assert any(c.startswith("::error") for c in workflow_commands(result.stdout))


# --- the container entry point: waiting for a docker-in-docker engine -------------------------


def test_engine_address():
    assert entrypoint.engine_address({}) is None
    assert entrypoint.engine_address({"DOCKER_HOST": "unix:///var/run/docker.sock"}) is None
    assert entrypoint.engine_address({"DOCKER_HOST": "tcp://docker:2376"}) == ("docker", 2376)
    tls = {"DOCKER_HOST": "tcp://docker", "DOCKER_TLS_VERIFY": "1"}
    assert entrypoint.engine_address(tls) == ("docker", 2376)
    assert entrypoint.engine_address({"DOCKER_HOST": "tcp://127.0.0.1"}) == ("127.0.0.1", 2375)


def test_wait_for_engine_returns_once_it_listens(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        env = {"DOCKER_HOST": f"tcp://127.0.0.1:{port}"}
        assert entrypoint.wait_for_engine(env, timeout=10)
        # TLS: the client certificates must be there too (dind writes them into /certs/client)
        tls = {**env, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path)}
        assert not entrypoint.wait_for_engine(tls, timeout=0.6)
        (tmp_path / "cert.pem").write_text("x")
        assert entrypoint.wait_for_engine(tls, timeout=10)
    assert not entrypoint.wait_for_engine(env, timeout=0.6)  # closed: gives up


def test_entrypoint_runs_the_cli():
    result = run_mbci("checks")
    via_entrypoint = __import__("subprocess").run(
        [__import__("sys").executable, "-m", "mb_ci.entrypoint", "checks"],
        capture_output=True,
        text=True,
    )
    assert via_entrypoint.returncode == 0
    assert via_entrypoint.stdout == result.stdout


def test_locations_are_relative_to_the_workspace_for_a_checkout_in_a_subdirectory(tmp_path):
    from mb_ci.models import GitFacts, Report

    git = GitFacts(root=str(tmp_path / "sub"), head="a" * 40, commit_time=dt.datetime.now())
    report = Report("check", "x", (), git=git, dockerfile="Dockerfile")
    assert action._relative_to_workspace(report, str(tmp_path)).dockerfile == "sub/Dockerfile"
    at_root = Report("check", "x", (), git=git, dockerfile="Dockerfile")
    assert action._relative_to_workspace(at_root, str(tmp_path / "sub")).dockerfile == "Dockerfile"


def test_fail_on_warning_fails_on_a_warning(repo, build_image, tmp_path):
    (repo.path / "dirty.txt").write_text("uncommitted\n")
    repo.git("add", "dirty.txt")  # staged, not committed: a dirty work tree, a warning
    tag = build_image(
        {
            REV: repo.head,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": now(),
        }
    )
    out, _ = _files(tmp_path)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(out), "INPUT_IMAGE": tag}
    lenient = run_mbci_action(env, cwd=repo.path)
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    out.write_text("")
    strict = run_mbci_action({**env, "INPUT_FAIL-ON": "warning"}, cwd=repo.path)
    assert strict.returncode == 1
    outputs = dict(parse_github_output(out.read_text()))
    assert outputs["result"] == "fail" and outputs["warnings"] == "1" and outputs["errors"] == "0"
    assert [c.split(" ", 1)[0] for c in workflow_commands(strict.stdout)] == ["::warning"]


def test_badges_as_svg_files_belong_to_the_workspace_owner(repo, build_image, tmp_path):
    from helpers.runner import RUNNER_UID, make_workspace

    (repo.path / ".mb-ci.yml").write_text("version: 1\nbadges:\n  style: svg\n")
    (repo.path / "README.md").write_text(
        "# w\n\n<!-- mb-ci:badges:start -->\n<!-- mb-ci:badges:end -->\n"
    )
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "badges")
    tag = build_image({REV: repo.head, "org.opencontainers.image.source": SOURCE})
    make_workspace(repo.path)
    out, _ = _files(tmp_path)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(out),
        "INPUT_IMAGE": tag,
        "INPUT_BADGES": "true",
        "INPUT_README": "README.md",
        "INPUT_FAIL-ON": "never",
    }
    result = run_mbci_action(env, cwd=repo.path)
    assert result.returncode == 0, result.stdout + result.stderr
    markdown = dict(parse_github_output(out.read_text()))["badge-markdown"]
    assert ".github/badges/commit.svg" in markdown
    for path in (".github", ".github/badges", ".github/badges/commit.svg", "README.md"):
        assert (repo.path / path).stat().st_uid == RUNNER_UID, path
