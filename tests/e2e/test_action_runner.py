"""The Action run exactly as the GitHub runner runs it (see runner.py), in both of its forms:
the composite action action.yml declares, and the container image GitLab CI and Jenkins run,
which must behave the same."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest
from helpers.clock import now
from helpers.git import SOURCE
from helpers.runner import (
    RUNNER_UID,
    build_runner_image,
    make_workspace,
    run_action,
    run_composite,
    workflow_commands,
)

pytestmark = pytest.mark.docker

REV = "org.opencontainers.image.revision"
OUTPUTS = ["result", "errors", "warnings", "revision", "matched-commit", "report-paths"]
REPORTS = "sarif=reports/mb-ci.sarif\njunit=reports/junit.xml\ncodequality=gl-code-quality.json"


def labels(revision: str) -> dict[str, str]:
    return {
        REV: revision,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.created": now(),
    }


@pytest.fixture
def checkout(repo):
    (repo.path / "Dockerfile").write_text(
        f'FROM scratch\nARG VCS_REF\nLABEL {REV}="$VCS_REF"\nCOPY payload.txt /\n'
    )
    (repo.path / "README.md").write_text(
        "# widget\n\n<!-- mb-ci:badges:start -->\n<!-- mb-ci:badges:end -->\n"
    )
    repo.git("add", "Dockerfile", "README.md")
    repo.git("commit", "-q", "-m", "Dockerfile")
    return repo


@pytest.fixture(scope="session")
def tool_cache(tmp_path_factory):
    """The runner's tool cache, kept between the composite runs of a session as actions/cache
    keeps the venv between workflow runs: the first run is cold, the others warm."""
    return tmp_path_factory.mktemp("hostedtoolcache")


@pytest.fixture(params=["composite", "container"])
def run_the_action(request, engine, tool_cache):
    if request.param == "container":
        image = request.getfixturevalue("action_image")
        return lambda *args, **kw: run_action(image, *args, **kw)
    runner = build_runner_image(engine)
    return lambda *args, **kw: run_composite(runner, *args, tool_cache=tool_cache, **kw)


def _push(repo):
    return {"GITHUB_SHA": repo.head, "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main"}


def test_clean_run_passes_and_writes_files_owned_by_the_runner_user(
    run_the_action, build_image, checkout, tmp_path
):
    tag = build_image(labels(checkout.head))
    run = run_the_action(
        make_workspace(checkout.path),
        tmp_path / "temp",
        {"image": tag, "reports": REPORTS, "badges": "true", "readme": "README.md"},
        env=_push(checkout),
        event={"ref": "refs/heads/main", "after": checkout.head},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert [name for name, _ in run.outputs] == [*OUTPUTS, "badge-markdown"]
    assert run.output["result"] == "pass"
    assert run.output["matched-commit"] == "head"
    assert run.output["revision"] == checkout.head
    assert "### mb-ci check: ✅ passed" in run.summary
    assert workflow_commands(run.stdout) == []
    written = [checkout.path / p for p in run.output["report-paths"].splitlines()]
    assert len(written) == 3
    readme = checkout.path / "README.md"
    assert f"commit-{checkout.head[:7]}" in run.output["badge-markdown"]
    assert run.output["badge-markdown"] in readme.read_text()
    for path in [*written, checkout.path / "reports", readme]:
        assert os.stat(path).st_uid == RUNNER_UID, path
    assert json.loads(written[0].read_text())["runs"][0]["results"] == []
    assert ET.parse(written[1]).getroot().tag == "testsuites"
    assert json.loads(written[2].read_text()) == []


def test_mismatch_fails_with_error_annotations(run_the_action, build_image, checkout, tmp_path):
    tag = build_image(labels("0" * 40))
    run = run_the_action(
        make_workspace(checkout.path),
        tmp_path / "temp",
        {"image": tag},
        env=_push(checkout),
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.output["result"] == "fail"
    assert run.output["errors"] == "1"
    commands = workflow_commands(run.stdout)
    assert commands[0].startswith(
        "::error file=Dockerfile,line=3,title=mb-ci revision-matches-head::"
    )
    assert "revision-matches-head" in run.summary


HOSTILE = (
    "abc%0A::warning::x\n::set-output name=result::pass\n::add-mask::hunter2\n"
    "result=pass\nghadelimiter_00000000000000000000000000000000\nmatched-commit<<EOF\nhead\nEOF"
)


def test_hostile_label_cannot_add_a_command_or_an_output(
    run_the_action, build_image, checkout, tmp_path
):
    tag = build_image(
        {**labels(HOSTILE), "org.opencontainers.image.title": "::error::forged\n::endgroup::"}
    )
    run = run_the_action(
        make_workspace(checkout.path),
        tmp_path / "temp",
        {"image": tag, "format": "text", "verbose": "true"},
        env=_push(checkout),
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert [name for name, _ in run.outputs] == [*OUTPUTS, "badge-markdown"]
    assert run.output["result"] == "fail"
    assert "\n" not in run.output["revision"]
    assert run.output["matched-commit"] == ""
    commands = workflow_commands(run.stdout) + workflow_commands(run.stderr)
    assert commands and all(c.startswith(("::error ", "::warning ", "::notice ")) for c in commands)
    # one annotation per finding, and nothing else the runner would act on
    assert sum(c.startswith("::error ") for c in commands) == int(run.output["errors"])
    assert sum(c.startswith("::warning ") for c in commands) == int(run.output["warnings"])
    assert "::stop-commands::" in run.stdout  # the human report is fenced off as well


def test_pull_request_head_labelled_image_passes_with_matched_head(
    run_the_action, build_image, repo, tmp_path
):
    # the PR head on a branch, and the merge commit actions/checkout checks out (refs/pull/N/merge)
    repo.git("checkout", "-q", "-b", "feature")
    head = repo.commit("feature work", "feature.txt")
    repo.git("checkout", "-q", "main")
    repo.commit("main moves on", "main.txt")
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "Merge feature into main")
    merge = repo.head
    repo.git("checkout", "-q", "--detach", merge)
    tag = build_image(labels(head))
    event = {
        "action": "synchronize",
        "number": 7,
        "pull_request": {"number": 7, "head": {"sha": head}, "merge_commit_sha": merge},
    }
    run = run_the_action(
        make_workspace(repo.path),
        tmp_path / "temp",
        {"image": tag},
        env={
            "GITHUB_SHA": merge,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/7/merge",
        },
        event=event,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.output["result"] == "pass"
    assert run.output["matched-commit"] == "head"


def test_missing_required_input_is_an_error_annotation(run_the_action, repo, tmp_path):
    run = run_the_action(make_workspace(repo.path), tmp_path / "temp", {"image": ""})
    assert run.returncode == 2
    assert run.outputs == [("result", "error")]
    assert workflow_commands(run.stdout)[0].startswith("::error title=mb-ci::input 'image'")


def test_composite_maps_its_outputs_and_a_warm_run_reuses_the_cached_venv(
    engine, build_image, checkout, tmp_path
):
    runner, cache = build_runner_image(engine), tmp_path / "hostedtoolcache"
    tag = build_image(labels(checkout.head))
    workspace = make_workspace(checkout.path)
    cold = run_composite(
        runner, workspace, tmp_path / "cold", {"image": tag}, _push(checkout), tool_cache=cache
    )
    assert cold.returncode == 0, cold.stdout + cold.stderr
    (venv,) = (cache / "mb-ci").iterdir()
    assert venv.name.startswith("venv-py3.12-")
    assert os.stat(venv).st_uid == RUNNER_UID
    (venv / "kept").write_text("")
    warm = run_composite(
        runner, workspace, tmp_path / "warm", {"image": tag}, _push(checkout), tool_cache=cache
    )
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert (venv / "kept").exists()  # restored as it was, not installed again
    assert warm.action_outputs == warm.output
    assert warm.action_outputs["result"] == "pass"
    assert workflow_commands(cold.stdout) == workflow_commands(warm.stdout) == []


def test_composite_result_is_error_when_the_check_never_ran(engine, repo, tmp_path):
    run = run_composite(
        build_runner_image(engine),
        make_workspace(repo.path),
        tmp_path / "temp",
        {"image": ""},
        tool_cache=tmp_path / "cache",
    )
    assert run.returncode == 2
    assert run.action_outputs["result"] == "error"
