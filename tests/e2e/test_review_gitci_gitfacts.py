"""Reading checkouts real repositories leave behind: names that are not UTF-8, and committer
times that `git fsck` flags.

Git stores branch, tag and remote names as bytes; repositories converted from CVS or
Subversion carry Latin-1 ones. GitPython decoded ``.git/HEAD`` strictly (a UnicodeDecodeError,
exit 4) and kept other such bytes as lone surrogates that the URL normaliser and every writer
refused (a UnicodeEncodeError, exit 4).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import pytest
from helpers.git import new_repo

from mb_ci.errors import CheckoutError
from mb_ci.facts import git as gitfacts

LATIN1_E = os.fsdecode(b"\xe9")  # "é" in Latin-1, not valid UTF-8 on its own


def test_latin1_branch_tag_and_remote_are_read_with_a_replacement_character(tmp_path, mbci):
    repo = new_repo(tmp_path / "widget", origin=f"https://github.com/acme/w{LATIN1_E}")
    repo.git("checkout", "-q", "-b", f"br{LATIN1_E}")
    repo.git("tag", f"caf{LATIN1_E}")

    facts = gitfacts.read(repo.path)
    assert facts.branch == "br\ufffd" and facts.detached is False
    assert facts.tags == ("caf\ufffd",)
    assert facts.remote_url == "https://github.com/acme/w\ufffd"

    out = mbci("labels", cwd=repo.path)
    assert out.returncode == 0, out.stderr
    labels = json.loads(out.stdout)
    assert labels["org.opencontainers.image.version"] == "caf\ufffd"
    assert labels["org.opencontainers.image.revision"] == repo.head

    repo.git("checkout", "-q", "--detach")
    facts = gitfacts.read(repo.path)
    assert facts.branch is None and facts.detached is True


def _commit_with_committer(repo: Any, stamp: str) -> str:
    """A commit object written as is: git fsck's badTimezone and badDate, as old imports carry."""
    tree = repo.git("write-tree")
    body = f"tree {tree}\nauthor A <a@example.com> {stamp}\ncommitter A <a@example.com> {stamp}\n"
    path = repo.path.parent / "commit.txt"
    path.write_text(body + "\nimported\n")
    sha = repo.git("hash-object", "-t", "commit", "-w", "--literally", str(path))
    repo.git("update-ref", "refs/heads/main", sha)
    return sha


@pytest.mark.parametrize("zone", ["+9959", "-2400", "+05180", "+0z00", "garbage"])
def test_a_committer_zone_no_clock_has_keeps_the_instant(tmp_path, mbci, zone):
    repo = new_repo(tmp_path / "widget")
    _commit_with_committer(repo, f"1700000000 {zone}")
    facts = gitfacts.read(repo.path)
    assert facts.commit_time == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    out = mbci("labels", cwd=repo.path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize("stamp", ["17e8 +0000", "999999999999999999999 +0000"])
def test_a_committer_time_nobody_can_read_is_exit_3(tmp_path, mbci, stamp):
    repo = new_repo(tmp_path / "widget")
    sha = _commit_with_committer(repo, stamp)
    with pytest.raises(CheckoutError, match="no committer time"):
        gitfacts.read(repo.path)
    out = mbci("labels", cwd=repo.path)
    assert out.returncode == 3, out.stderr
    assert sha in out.stderr and "internal error" not in out.stderr
