"""Reading a checkout never writes to it: run as root in a checkout another user owns.

On a GitHub runner the Action's container runs as root in a workspace owned by the runner's
user (uid 1001). `git diff`/`git status` refresh the index and write it back when they can take
its lock, which left a root-owned ``.git/index`` behind. Every command that reads the checkout
runs here against a checkout whose index is stale (chown changes every file's ctime, and a
touched file has a new mtime), and nothing under the checkout may change: no file or directory
appears or goes, and none changes content, mtime, owner or mode.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from helpers.git import new_repo
from helpers.runner import RUNNER_UID, chown_tree

from mb_ci.badges.readme import END, START

OCI = "org.opencontainers.image."

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own files as another uid"),
]


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every path under ``root`` (``.git`` included): type, content digest, mtime, owner, mode."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [".", *dirnames, *filenames]:
            path = Path(dirpath, name)
            st = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(root))] = (
                st.st_mode,
                st.st_uid,
                st.st_gid,
                st.st_mtime_ns,
                st.st_size,
                digest,
            )
    return out


def diff(before: dict[str, tuple[object, ...]], after: dict[str, tuple[object, ...]]) -> list[str]:
    changed = [p for p in before if p in after and before[p] != after[p]]
    return (
        [f"gone: {p}" for p in before if p not in after]
        + [f"new: {p}" for p in after if p not in before]
        + [f"changed: {p} {before[p]} -> {after[p]}" for p in changed]
    )


def test_every_command_leaves_a_foreign_checkout_untouched(tmp_path, build_image, mbci):
    repo = new_repo(tmp_path / "widget")
    (repo.path / "Dockerfile").write_text(
        "FROM scratch\nARG VCS_REF\nLABEL org.opencontainers.image.revision=$VCS_REF\n"
    )
    (repo.path / "README.md").write_text(f"# Widget\n\n{START}\n{END}\n")
    repo.git("add", "Dockerfile", "README.md")
    repo.git("commit", "-q", "-m", "docker")
    out = mbci("labels", cwd=repo.path)
    assert out.returncode == 0, out.stderr
    image = build_image({**json.loads(out.stdout), OCI + "licenses": "MIT"})
    synced = mbci("badges", image, "--readme", "README.md", cwd=repo.path)
    assert synced.returncode == 0, synced.stderr
    repo.git("commit", "-q", "-am", "badges")
    out = mbci("labels", cwd=repo.path)
    image = build_image({**json.loads(out.stdout), OCI + "licenses": "MIT"})
    mbci("badges", image, "--readme", "README.md", cwd=repo.path)
    repo.git("commit", "-q", "-am", "badges again")
    labels = json.loads(mbci("labels", cwd=repo.path).stdout)
    image = build_image({**labels, OCI + "licenses": "MIT"})

    # a stat-dirty but unchanged file, and every ctime changed by chown: the index is stale
    os.utime(repo.path / "file.txt", ns=(1_000_000_000, 1_000_000_000))
    chown_tree(repo.path)
    before = snapshot(repo.path)
    assert before[".git/index"][1] == RUNNER_UID

    commands = [
        ("check", image),
        ("check", image, "-v", "--format", "json"),
        ("labels",),
        ("labels", "--format", "build-args"),
        ("badges", image, "--readme", "README.md", "--check"),
        ("lint-dockerfile", "Dockerfile"),
        ("audit", image),
    ]
    for args in commands:
        result = mbci(*args, cwd=repo.path)
        assert result.returncode in (0, 1), (args, result.stdout, result.stderr)
        assert diff(before, snapshot(repo.path)) == [], args

    check = mbci("check", image, "--format", "json", cwd=repo.path)
    report = json.loads(check.stdout)
    assert report["git"]["dirty"] is False  # compared by content, without writing the index
    assert check.returncode == 0, check.stdout


def test_the_action_leaves_the_workspace_untouched(action_image, build_image, tmp_path):
    """The container Action, as the runner starts it: root in a workspace uid 1001 owns."""
    from helpers.runner import make_workspace, run_action

    repo = new_repo(tmp_path / "widget")
    labels = json.loads(mbci_labels(repo.path))
    image = build_image(labels)
    os.utime(repo.path / "file.txt", ns=(1_000_000_000, 1_000_000_000))
    workspace = make_workspace(repo.path)
    before = snapshot(workspace)
    run = run_action(
        action_image,
        workspace,
        tmp_path / "temp",
        {"image": image},
        env={"GITHUB_SHA": repo.head, "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main"},
        event={"ref": "refs/heads/main", "after": repo.head},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.output["matched-commit"] == "head"
    assert diff(before, snapshot(workspace)) == []


def mbci_labels(path: Path) -> str:
    from helpers.cli import run_mbci

    out = run_mbci("labels", cwd=path)
    assert out.returncode == 0, out.stderr
    return out.stdout
