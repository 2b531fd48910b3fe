"""Git facts from real repositories: shallow, detached, dirty, tagged, worktrees, foreign owners."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers.cli import run_mbci
from helpers.clock import utcnow
from helpers.env import clean_env
from helpers.git import SOURCE, Repo, git, new_repo

from mb_ci.errors import CheckoutError
from mb_ci.facts import git as gitfacts

TOKEN = "ghs_" + "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"


def test_plain_checkout(repo):
    facts = gitfacts.read(repo.path)
    assert facts.head == repo.head
    assert len(facts.head) == 40
    assert facts.root == str(repo.path.resolve())
    assert facts.remote_name == "origin"
    assert facts.remote_url == "git@github.com:acme/widget.git"
    assert facts.remote_normalized == SOURCE
    assert facts.branch == "main"
    assert (facts.tags, facts.dirty, facts.shallow, facts.detached) == ((), False, False, False)
    assert facts.commit_time.tzinfo is not None
    assert abs(utcnow() - facts.commit_time) < dt.timedelta(hours=1)


def test_from_a_subdirectory(repo):
    sub = repo.path / "deep" / "er"
    sub.mkdir(parents=True)
    assert gitfacts.read(sub).root == str(repo.path.resolve())


def test_commit_time_is_the_committer_date(repo):
    when = "2021-03-04T05:06:07+02:00"
    repo.commit("dated", env={"GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": "2000-01-01T00:00Z"})
    assert gitfacts.read(repo.path).commit_time == dt.datetime.fromisoformat(when)


def test_shallow_clone_over_file_url(repo, tmp_path):
    repo.commit("second")
    repo.commit("third")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone))
    facts = gitfacts.read(clone)
    assert facts.shallow is True
    assert facts.head == repo.head
    assert git(clone, "rev-list", "--count", "HEAD") == "1"
    assert facts.remote_url == f"file://{repo.path}"
    assert facts.branch == "main"


def test_detached_head(repo):
    first = repo.head
    repo.commit("second")
    repo.git("checkout", "-q", "--detach", first)
    facts = gitfacts.read(repo.path)
    assert facts.detached is True
    assert facts.branch is None
    assert facts.head == first


def test_dirty_tree_counts_tracked_changes_not_untracked_files(repo):
    (repo.path / "untracked.txt").write_text("new\n")
    assert gitfacts.read(repo.path).dirty is False
    (repo.path / "file.txt").write_text("changed\n")
    assert gitfacts.read(repo.path).dirty is True
    repo.git("add", "file.txt")  # staged only
    assert gitfacts.read(repo.path).dirty is True


def test_tags_at_head_only(repo):
    repo.git("tag", "v0.9.0")
    repo.commit("release")
    repo.git("tag", "v1.0.0")
    repo.git("tag", "-a", "-m", "annotated", "release-1")
    facts = gitfacts.read(repo.path)
    assert sorted(facts.tags) == ["release-1", "v1.0.0"]
    # config that changes how git lists tags must not change what mb-ci reads
    repo.git("config", "column.ui", "always")
    repo.git("config", "color.ui", "always")
    assert sorted(gitfacts.read(repo.path).tags) == ["release-1", "v1.0.0"]


def test_linked_worktree(repo, tmp_path):
    main_head = repo.head
    tree = tmp_path / "wt"
    repo.git("worktree", "add", "-q", "-b", "topic", str(tree))
    (tree / "topic.txt").write_text("topic\n")
    git(tree, "add", "topic.txt")
    git(tree, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "t")
    facts = gitfacts.read(tree)
    assert facts.root == str(tree.resolve())
    assert facts.branch == "topic"
    assert facts.head == git(tree, "rev-parse", "HEAD") != main_head
    assert facts.remote_normalized == SOURCE
    assert gitfacts.read(repo.path).head == main_head


def test_remote_with_token_never_leaks(make_repo, build_image):
    url = f"https://x-access-token:{TOKEN}@github.com/acme/widget.git"
    repo = make_repo(origin=url)
    facts = gitfacts.read(repo.path)
    assert facts.remote_url == "https://github.com/acme/widget.git"
    assert facts.remote_normalized == SOURCE
    assert TOKEN not in repr(facts)
    tag = build_image(
        {
            "org.opencontainers.image.revision": repo.head,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": facts.commit_time.isoformat(),
        }
    )
    for args in (["-v"], ["-v", "--format", "json"]):
        result = run_mbci("check", tag, *args, cwd=repo.path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert TOKEN not in result.stdout + result.stderr
        assert "x-access-token" not in result.stdout
    labels = run_mbci("labels", cwd=repo.path)
    assert json.loads(labels.stdout)["org.opencontainers.image.source"] == SOURCE
    assert TOKEN not in labels.stdout


def test_token_only_userinfo_never_leaks(make_repo):
    repo = make_repo(origin=f"https://{TOKEN}@gitlab.example.com/group/widget")
    facts = gitfacts.read(repo.path)
    assert facts.remote_url == "https://gitlab.example.com/group/widget"
    assert TOKEN not in repr(facts)


def test_remote_insteadof_is_applied(make_repo):
    repo = make_repo(origin="gh:acme/widget")
    repo.git("config", "url.https://github.com/.insteadOf", "gh:")
    facts = gitfacts.read(repo.path)
    assert facts.remote_url == "https://github.com/acme/widget"
    assert facts.remote_normalized == SOURCE


def test_other_remote_name(make_repo):
    repo = make_repo(origin=None)
    repo.git("remote", "add", "upstream", "ssh://git@GitHub.com:22/acme/widget.git")
    assert gitfacts.read(repo.path).remote_url is None
    facts = gitfacts.read(repo.path, remote="upstream")
    assert facts.remote_name == "upstream"
    assert facts.remote_normalized == SOURCE


def test_no_remote(make_repo, build_image):
    repo = make_repo(origin=None)
    facts = gitfacts.read(repo.path)
    assert (facts.remote_name, facts.remote_url, facts.remote_normalized) == (None, None, None)
    tag = build_image(
        {
            "org.opencontainers.image.revision": repo.head,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": facts.commit_time.isoformat(),
        }
    )
    # nothing to compare the source with: a warning, not a failure
    result = run_mbci("check", tag, cwd=repo.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no remote 'origin'" in result.stdout
    assert "passed: 0 errors, 1 warning" in result.stdout


def test_empty_repository_is_a_checkout_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(CheckoutError, match="no commit yet"):
        gitfacts.read(empty)
    result = run_mbci("labels", cwd=empty)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert "no commit yet" in result.stderr


def test_not_a_checkout(tmp_path):
    with pytest.raises(CheckoutError, match="not a git checkout"):
        gitfacts.read(tmp_path)
    with pytest.raises(CheckoutError, match="no such directory"):
        gitfacts.read(tmp_path / "missing")


def test_broken_git_dir_is_a_checkout_error(tmp_path):
    (tmp_path / ".git").mkdir()
    with pytest.raises(CheckoutError):
        gitfacts.read(tmp_path)


@pytest.fixture
def foreign(tmp_path) -> Repo:
    """A checkout owned by uid 1001 (the CI runner's user) while the tests run as root."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the checkout to another uid")
    repo = new_repo(tmp_path / "foreign")
    repo.git("tag", "v2.0.0")
    subprocess.run(["chown", "-R", "1001:1001", str(tmp_path / "foreign")], check=True)
    return repo


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def test_checkout_owned_by_another_uid(foreign, tmp_path, build_image):
    home = _home(tmp_path)
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    # git itself refuses this checkout: the case is real
    plain = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=foreign.path,
        capture_output=True,
        text=True,
        env=clean_env(env),
    )
    assert plain.returncode != 0
    assert "dubious ownership" in plain.stderr
    real_config = Path.home() / ".gitconfig"
    before = real_config.read_bytes() if real_config.exists() else None

    head = foreign.head  # the helper passes -c safe.directory
    tag = build_image(
        {
            "org.opencontainers.image.revision": head,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": utcnow().isoformat(),
            "org.opencontainers.image.version": "2.0.0",
        }
    )
    result = run_mbci("check", tag, "--format", "json", cwd=foreign.path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    facts = json.loads(result.stdout)["git"]
    assert facts["head"] == head
    assert facts["tags"] == ["v2.0.0"]
    assert facts["dirty"] is False
    assert facts["remote_normalized"] == SOURCE
    labels = run_mbci("labels", "--format", "env", cwd=foreign.path, env=env)
    assert labels.returncode == 0, labels.stderr
    assert f"VCS_REF={head}" in labels.stdout

    assert list(home.iterdir()) == []  # no ~/.gitconfig written, nothing else either
    assert (real_config.read_bytes() if real_config.exists() else None) == before
    # and git still refuses it afterwards: no trust was persisted anywhere
    after = subprocess.run(
        ["git", "status"], cwd=foreign.path, capture_output=True, text=True, env=clean_env(env)
    )
    assert "dubious ownership" in after.stderr


def _signed(repo: Repo) -> str:
    """Rewrite HEAD as a commit with a (bogus) signature, so that showing it may verify it."""
    raw = repo.git("cat-file", "commit", "HEAD")
    header, _, body = raw.partition("\n\n")
    sig = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----"
    path = repo.path / ".git" / "signed-commit"
    path.write_text(f"{header}\n{sig}\n\n{body}\n")
    sha = repo.git("hash-object", "-t", "commit", "-w", str(path))
    repo.git("reset", "-q", "--soft", sha)
    return sha


def test_foreign_checkout_config_cannot_run_programs(tmp_path):
    """Trusting a foreign checkout must not let its own config run programs."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the checkout to another uid")
    repo = new_repo(tmp_path / "hostile")
    head = _signed(repo)
    markers = {name: tmp_path / f"{name}-ran" for name in ("fsmonitor", "filter", "gpg")}
    for name, marker in markers.items():
        script = tmp_path / f"{name}.sh"
        tail = "cat" if name == "filter" else "exit 1"
        script.write_text(f"#!/bin/sh\ntouch {marker}\n{tail}\n")
        script.chmod(0o755)
    repo.git("config", "core.fsmonitor", str(tmp_path / "fsmonitor.sh"))
    repo.git("config", "filter.evil.clean", str(tmp_path / "filter.sh"))
    repo.git("config", "filter.evil.required", "true")
    repo.git("config", "gpg.program", str(tmp_path / "gpg.sh"))
    repo.git("config", "log.showSignature", "true")
    (repo.path / ".gitattributes").write_text("* filter=evil\n")
    (repo.path / "file.txt").touch()  # stat-dirty: git re-reads it through the clean filter
    subprocess.run(["chown", "-R", "1001:1001", str(repo.path)], check=True)

    # plain git, trusting the same work tree, would run every one of them
    for args in (["diff", "--raw"], ["log", "-1", "--format=%cI"]):
        subprocess.run(
            ["git", "-c", f"safe.directory={repo.path}", *args],
            cwd=repo.path,
            capture_output=True,
            env=clean_env(),
        )
    assert sorted(m.name for m in tmp_path.glob("*-ran")) == [
        "filter-ran",
        "fsmonitor-ran",
        "gpg-ran",
    ], "test set-up: plain git should run the hostile config"
    for marker in markers.values():
        marker.unlink()

    facts = gitfacts.read(repo.path)
    assert facts.head == head
    assert [m.name for m in tmp_path.glob("*-ran")] == []
    (repo.path / "file.txt").write_text("changed\n")
    assert gitfacts.read(repo.path).dirty is True
    assert [m.name for m in tmp_path.glob("*-ran")] == []


def test_own_checkout_keeps_its_filters(repo, tmp_path):
    """Filters of a checkout we own (git-crypt, LFS --local) stay: no false dirty work tree."""
    repo.git("config", "filter.lower.clean", "tr A-Z a-z")
    (repo.path / ".gitattributes").write_text("note.txt filter=lower\n")
    (repo.path / "note.txt").write_text("HELLO\n")
    repo.git("add", ".gitattributes", "note.txt")
    repo.git("commit", "-q", "-m", "filtered")
    assert repo.git("cat-file", "-p", "HEAD:note.txt") == "hello"
    (repo.path / "note.txt").touch()  # stat-dirty: only the filter can tell it is unchanged
    assert gitfacts.read(repo.path).dirty is False


def test_linked_worktree_owned_by_another_uid(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to give the checkout to another uid")
    main = new_repo(tmp_path / "main")
    tree = tmp_path / "tree"
    main.git("worktree", "add", "-q", "-b", "topic", str(tree))
    subprocess.run(["chown", "-R", "1001:1001", str(main.path), str(tree)], check=True)
    facts = gitfacts.read(tree)
    assert (facts.branch, facts.head, facts.dirty) == ("topic", main.head, False)
    assert facts.remote_normalized == SOURCE


SSH_CONFIG = """\
Host github.com-work
  HostName github.com
  User git
Host gl-alt
  HostName gitlab.example.com
  Port 2222
"""


@pytest.mark.skipif(not __import__("shutil").which("ssh"), reason="no ssh client")
@pytest.mark.parametrize(
    ("remote", "normalized"),
    [
        ("git@github.com-work:acme/app.git", "https://github.com/acme/app"),
        ("ssh://git@github.com-work/acme/app.git", "https://github.com/acme/app"),
        ("git@gl-alt:group/app.git", "https://gitlab.example.com/group/app"),
        ("git@github.com:acme/app.git", "https://github.com/acme/app"),  # no alias: unchanged
    ],
)
def test_ssh_host_aliases_resolve_as_ssh_would(tmp_path, remote, normalized):
    """A Host alias in the ssh configuration git uses (core.sshCommand's -F here) names the
    real host, so the source label of the real repository matches."""
    repo = new_repo(tmp_path / "r", origin=remote)
    config = tmp_path / "ssh_config"
    config.write_text(SSH_CONFIG)
    git(repo.path, "config", "core.sshCommand", f"ssh -F {config}")
    facts = gitfacts.read(repo.path)
    assert normalized in (facts.remote_normalized or "")
    assert "github.com-work" not in (facts.remote_url or "") and "gl-alt" not in (
        facts.remote_url or ""
    )
    labels = run_mbci("labels", "--format", "json", cwd=repo.path)
    source = json.loads(labels.stdout)["org.opencontainers.image.source"]
    assert "github.com-work" not in source and "gl-alt" not in source
    # a label naming the real repository matches the remote the check compares it with
    from mb_ci.facts import urls

    assert urls.compare(normalized, facts.remote_url or "") is urls.Match.SAME


def test_ssh_alias_is_asked_only_of_ssh_itself(tmp_path):
    wrapper = tmp_path / "connect-somewhere"
    assert gitfacts.ssh_alias("git@github.com-work:acme/app.git", str(wrapper)) is None
    assert gitfacts.ssh_alias("https://github.com/acme/app", "ssh") is None
    assert gitfacts.ssh_alias("git@-oProxyCommand=x:acme/app", "ssh") is None
