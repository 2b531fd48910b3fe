"""`mb-ci check` end to end: the real CLI, the real Docker engine, FROM scratch images, real git."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from helpers.cli import run_mbci
from helpers.clock import ago, later, now, stamp
from helpers.env import clean_env
from helpers.git import SOURCE, Repo, new_repo

OCI = "org.opencontainers.image."
LS = "org.label-schema."


@pytest.fixture(scope="module")
def widget(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """One checkout for the module: origin git@github.com:acme/widget.git, HEAD committed now."""
    return new_repo(tmp_path_factory.mktemp("engine") / "widget")


def oci(revision: str, source: str = SOURCE, created: str | None = None) -> dict[str, str]:
    return {OCI + "revision": revision, OCI + "source": source, OCI + "created": created or now()}


def ls(revision: str, source: str = SOURCE, created: str | None = None) -> dict[str, str]:
    return {LS + "vcs-ref": revision, LS + "vcs-url": source, LS + "build-date": created or now()}


def label_schema_policy(tmp_path: Path) -> str:
    path = tmp_path / "ls.yml"
    path.write_text("version: 1\npreset: label-schema\n")
    return str(path)


@pytest.mark.parametrize(
    "variant",
    ["full", "short", "upper", "dot-git", "scp-source"],
)
def test_truthful_labels_pass(widget, build_image, variant):
    head = widget.head
    labels = {
        "full": oci(head),
        "short": oci(head[:7]),
        "upper": oci(head.upper()),
        "dot-git": oci(head, SOURCE + ".git"),
        "scp-source": oci(head, "git@GitHub.com:acme/widget.git"),
    }[variant]
    result = run_mbci("check", build_image(labels), cwd=widget.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed: 0 errors" in result.stdout
    assert result.stderr == ""


def _lying_cases(head: str) -> dict[str, tuple[str, str, str, str]]:
    """case -> (concept, check id, expected fragment, actual value)."""
    return {
        "wrong-revision": ("revision", "revision-matches-head", head, "0" * 40),
        "other-repo": ("source", "source-matches-remote", SOURCE, "https://github.com/acme/gadget"),
        "future": ("created", "created-not-future", "at most ", "2999-01-01T00:00:00Z"),
        "before-commit": ("created", "created-after-commit", "at least ", "2001-01-01T00:00:00Z"),
        "not-rfc3339": ("created", "created-format", "RFC 3339", "01/02/2024 10:00"),
    }


CASES = ["wrong-revision", "other-repo", "future", "before-commit", "not-rfc3339"]


@pytest.mark.parametrize("vocabulary", ["oci", "label-schema"])
@pytest.mark.parametrize("case", CASES)
def test_lying_label_exits_1_naming_label_expected_and_actual(
    widget, build_image, tmp_path, vocabulary, case
):
    head = widget.head
    concept, check, expected, actual = _lying_cases(head)[case]
    keys = {
        "oci": {"revision": OCI + "revision", "source": OCI + "source", "created": OCI + "created"},
        "label-schema": {
            "revision": LS + "vcs-ref",
            "source": LS + "vcs-url",
            "created": LS + "build-date",
        },
    }[vocabulary]
    labels = oci(head) if vocabulary == "oci" else ls(head)
    labels[keys[concept]] = actual
    tag = build_image(labels)
    policy = [] if vocabulary == "oci" else ["--policy", label_schema_policy(tmp_path)]

    out = tmp_path / "report.json"
    text = run_mbci("check", tag, *policy, "--report", f"json={out}", cwd=widget.path)
    assert text.returncode == 1, text.stdout + text.stderr
    assert f"[{check}]" in text.stdout
    block = text.stdout[text.stdout.index(keys[concept]) :]
    assert f"expected: {expected}" in block
    assert f"actual:   {actual}" in block
    assert "FAILED: 1 error," in text.stdout

    report = json.loads(out.read_text())
    assert report["result"] == "fail"
    [finding] = report["findings"]
    assert finding["check"] == check
    assert finding["label"] == keys[concept]
    assert finding["actual"] == actual
    assert expected in finding["expected"]
    # only the vocabulary under test is present
    other = LS if vocabulary == "oci" else OCI
    assert not any(k.startswith(other) for k in report["image"]["platforms"][0]["labels"])


def test_label_schema_only_image_passes_under_label_schema_preset(widget, build_image, tmp_path):
    tag = build_image(ls(widget.head[:10].upper(), SOURCE + ".git"))
    result = run_mbci("check", tag, "--policy", label_schema_policy(tmp_path), cwd=widget.path)
    assert result.returncode == 0, result.stdout + result.stderr
    # under the default preset the same image lacks the OCI keys
    default = run_mbci("check", tag, cwd=widget.path)
    assert default.returncode == 1
    assert default.stdout.count("[label-required]") == 3


def test_both_vocabularies_must_agree(widget, build_image):
    head = widget.head
    other_created = stamp(ago(seconds=30))
    labels = {**oci(head), **ls(head[:8], SOURCE + ".git", other_created)}
    agreeing = run_mbci("check", build_image(labels), cwd=widget.path)
    # a short and a full SHA, and two spellings of one repository, agree; two instants do not
    assert agreeing.returncode == 1, agreeing.stdout
    assert agreeing.stdout.count("[vocab-agree]") == 1
    assert f"{OCI}created and {LS}build-date disagree" in agreeing.stdout

    labels[LS + "build-date"] = labels[OCI + "created"]
    labels[LS + "vcs-ref"] = "f" * 40
    result = run_mbci("check", build_image(labels), "--format", "json", cwd=widget.path)
    assert result.returncode == 1
    checks = sorted(f["check"] for f in json.loads(result.stdout)["findings"])
    assert checks == ["revision-matches-head", "vocab-agree"]


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repo, str, str, Path]:
    """A checkout as actions/checkout leaves it on `pull_request`: HEAD is the merge commit."""
    base = tmp_path_factory.mktemp("pr")
    repo = new_repo(base / "widget")
    repo.git("checkout", "-q", "-b", "feature")
    pr_head = repo.commit("the pull request's change", "feature.txt")
    repo.git("checkout", "-q", "main")
    repo.commit("meanwhile on main", "main.txt")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge pull request", "feature")
    merge = repo.head
    event = base / "event.json"
    event.write_text(json.dumps({"number": 7, "pull_request": {"head": {"sha": pr_head}}}))
    return repo, pr_head, merge, event


def _github_env(merge: str, event: Path) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_SHA": merge,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF_NAME": "7/merge",
    }


@pytest.mark.parametrize("which", ["head", "merge"])
def test_pull_request_passes_with_head_or_merge_and_says_which(
    build_image, pull_request, tmp_path, which
):
    repo, pr_head, merge, event = pull_request
    tag = build_image(oci(pr_head if which == "head" else merge))
    env = _github_env(merge, event)
    out = tmp_path / "report.json"
    text = run_mbci("check", tag, "--report", f"json={out}", cwd=repo.path, env=env)
    assert text.returncode == 0, text.stdout + text.stderr
    assert f"revision matched the {which} commit" in text.stdout
    report = json.loads(out.read_text())
    assert report["matched_commit"] == which
    assert report["ci"]["pr_head_sha"] == pr_head
    assert report["ci"]["pr_merge_sha"] == merge


def test_policy_accept_head_rejects_the_merge_commit(build_image, pull_request, tmp_path):
    repo, pr_head, merge, event = pull_request
    policy = tmp_path / "p.yml"
    policy.write_text("version: 1\ngit:\n  revision:\n    accept: head\n")
    env = _github_env(merge, event)
    rejected = run_mbci(
        "check",
        build_image(oci(merge)),
        "--policy",
        str(policy),
        "--format",
        "json",
        cwd=repo.path,
        env=env,
    )
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    [finding] = json.loads(rejected.stdout)["findings"]
    assert finding["check"] == "revision-matches-head"
    assert finding["expected"] == f"{pr_head} (head)"
    assert finding["actual"] == merge
    accepted = run_mbci(
        "check", build_image(oci(pr_head)), "--policy", str(policy), cwd=repo.path, env=env
    )
    assert accepted.returncode == 0, accepted.stdout


def test_outside_a_pull_request_only_head_counts(build_image, pull_request):
    repo, pr_head, _merge, _event = pull_request
    result = run_mbci("check", build_image(oci(pr_head)), cwd=repo.path)
    assert result.returncode == 1
    assert "does not match HEAD" in result.stdout


def _one_line_error(result) -> str:
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mb-ci: error: ")
    return lines[0]


def test_missing_image_exits_3(widget, engine):
    name = f"mb-ci-test/missing-{uuid.uuid4().hex[:8]}:nope"
    result = run_mbci("check", name, cwd=widget.path)
    assert result.returncode == 3
    assert name in _one_line_error(result)


def test_unreachable_engine_exits_3(widget):
    result = run_mbci(
        "check", "anything:latest", cwd=widget.path, env={"DOCKER_HOST": "tcp://127.0.0.1:1"}
    )
    assert result.returncode == 3
    assert "cannot reach the Docker engine" in _one_line_error(result)


def test_not_a_git_checkout_exits_3(tmp_path, build_image, widget):
    tag = build_image(oci(widget.head))
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run_mbci("check", tag, cwd=plain)
    assert result.returncode == 3
    assert "not a git checkout" in _one_line_error(result)
    by_option = run_mbci("check", tag, "--repo", str(plain), cwd=widget.path)
    assert by_option.returncode == 3
    assert "not a git checkout" in _one_line_error(by_option)


def test_docker_daemon_prefix_and_image_id(widget, build_image, engine):
    tag = build_image(oci(widget.head))
    image_id = engine.images.get(tag).id
    for ref in (f"docker-daemon:{tag}", image_id, image_id.removeprefix("sha256:")[:12]):
        result = run_mbci("check", ref, cwd=widget.path)
        assert result.returncode == 0, (ref, result.stdout + result.stderr)


def test_labels_build_args_fed_to_docker_build_pass_check(widget, engine, tmp_path):
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY payload.txt /payload.txt\n")
    (context / "payload.txt").write_text(uuid.uuid4().hex)
    tag = f"mb-ci-test/build-args-{uuid.uuid4().hex[:8]}:latest"
    # exactly the README's `docker build $(mb-ci labels --format build-args) -t myapp:latest .`
    script = f'docker build -q $("{sys.executable}" -m mb_ci labels --format build-args) -t {tag} .'
    env = clean_env({"MB_CI_REPO": str(widget.path)})
    try:
        built = subprocess.run(
            ["bash", "-c", script],
            cwd=context,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert built.returncode == 0, built.stderr
        labels = engine.images.get(tag).labels
        assert labels[OCI + "revision"] == widget.head
        assert labels[OCI + "source"] == SOURCE
        result = run_mbci("check", tag, cwd=widget.path)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        try:
            engine.images.remove(tag, force=True)
        except Exception:
            pass


SECRET = "S3cr3t-p4ss-xyzzy"
TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def test_credentials_in_labels_are_findings_and_never_printed(widget, build_image, tmp_path):
    labels = {
        **oci(widget.head, f"https://x-access-token:{TOKEN}@github.com/acme/widget"),
        OCI + "url": f"https://deploy:{SECRET}@example.com/widget?token={SECRET}2",
    }
    tag = build_image(labels)
    out = tmp_path / "report.json"
    outputs = []
    for extra in ([], ["-v"], ["--format", "json"], ["--report", f"json={out}"]):
        result = run_mbci("check", tag, *extra, cwd=widget.path)
        assert result.returncode == 1, result.stdout + result.stderr
        outputs += [result.stdout, result.stderr]
    outputs.append(out.read_text())
    for text in outputs:
        assert SECRET not in text
        assert TOKEN not in text
    report = json.loads(outputs[4])
    checks = {(f["check"], f["label"]) for f in report["findings"]}
    assert checks == {
        ("label-credentials", OCI + "url"),
        ("source-credentials", OCI + "source"),
    }
    assert (
        "https://deploy:***@example.com" in report["image"]["platforms"][0]["labels"][OCI + "url"]
    )
    # the source still names the right repository once the credential is set aside
    assert "[source-matches-remote]" not in outputs[0]


def test_dirty_suffix_branch_name_and_version_tag(repo, build_image, tmp_path):
    head = repo.head
    repo.git("tag", "v1.2.3")
    report = tmp_path / "r.json"
    created = now()
    images: dict[frozenset[tuple[str, str]], str] = {}

    def run(labels, *args):
        labels = {**labels, OCI + "created": created}
        key = frozenset(labels.items())
        tag = images.get(key) or images.setdefault(key, build_image(labels))
        result = run_mbci("check", tag, "--report", f"json={report}", *args, cwd=repo.path)
        found = sorted(f["check"] for f in json.loads(report.read_text())["findings"])
        return result.returncode, found

    # `git describe --dirty` style: the commit matches, the suffix is a warning
    assert run(oci(head[:12] + "-dirty")) == (0, ["revision-dirty"])
    assert run(oci(head[:12] + "-dirty"), "--strict") == (1, ["revision-dirty"])
    allow = tmp_path / "allow.yml"
    allow.write_text("version: 1\ngit:\n  revision:\n    allow-dirty: true\n")
    assert run(oci(head + "-dirty"), "--policy", str(allow)) == (0, [])
    # a branch name is not a revision at all
    assert run(oci("main")) == (1, ["revision-not-sha"])
    # HEAD is tagged: version must be the tag, with or without its v
    assert run({**oci(head), OCI + "version": "1.2.3"}) == (0, [])
    assert run({**oci(head), OCI + "version": "v1.2.3"}) == (0, [])
    assert run({**oci(head), OCI + "version": "1.2.4"}) == (1, ["version-matches-tag"])
    strict_v = tmp_path / "strict-v.yml"
    strict_v.write_text("version: 1\ngit:\n  version:\n    allow-v-prefix: false\n")
    assert run({**oci(head), OCI + "version": "1.2.3"}, "--policy", str(strict_v)) == (
        1,
        ["version-matches-tag"],
    )


def test_created_max_age_and_clock_skew(repo, build_image, tmp_path):
    old = ago(days=3)
    repo.commit("old", env={"GIT_COMMITTER_DATE": old.isoformat()})
    policy = tmp_path / "age.yml"
    policy.write_text("version: 1\ngit:\n  created:\n    max-age: 1d\n    clock-skew: 1h\n")
    soon = stamp(later(minutes=30))
    ok = run_mbci(
        "check", build_image(oci(repo.head, created=soon)), "--policy", str(policy), cwd=repo.path
    )
    assert ok.returncode == 0, ok.stdout  # 30 minutes ahead is within the skew
    stale = run_mbci(
        "check",
        build_image(oci(repo.head, created=stamp(old))),
        "--policy",
        str(policy),
        cwd=repo.path,
    )
    assert stale.returncode == 0  # max-age is a warning by default
    assert "[created-max-age]" in stale.stdout
    assert "passed: 0 errors, 1 warning" in stale.stdout


def test_no_git_judges_what_needs_no_checkout(build_image, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    good = build_image(oci("a" * 40))
    result = run_mbci("check", good, "--no-git", cwd=outside)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "commit" not in result.stdout.splitlines()[1]
    bad = build_image(
        oci("main", f"https://u:{SECRET}@github.com/acme/widget", "2999-01-01T00:00:00Z")
    )
    report = tmp_path / "r.json"
    result = run_mbci("check", bad, "--no-git", "--report", f"json={report}", cwd=outside)
    assert result.returncode == 1
    data = json.loads(report.read_text())
    assert data["git"] is None
    assert sorted(f["check"] for f in data["findings"]) == [
        "created-not-future",
        "revision-not-sha",
        "source-credentials",
    ]
    assert SECRET not in result.stdout + report.read_text()
