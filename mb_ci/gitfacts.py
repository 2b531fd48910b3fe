"""Read the git checkout through GitPython and turn it into plain ``GitFacts``."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from mb_ci import urls
from mb_ci.errors import CheckoutError
from mb_ci.models import GitFacts
from mb_ci.safety import strip_credentials


def find_root(start: str | os.PathLike[str]) -> Path:
    """The work tree root above ``start``: the nearest directory holding ``.git`` (dir or file)."""
    path = Path(start).resolve()
    if not path.exists():
        raise CheckoutError(f"{start}: no such directory", "give the checkout with --repo")
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    raise CheckoutError(
        f"{start}: not a git checkout", "run inside the checkout or pass --repo DIR"
    )


def open_repo(start: str | os.PathLike[str]) -> Any:
    """A GitPython ``Repo`` that works whoever owns the checkout, without touching global config.

    Inside a CI container the checkout belongs to the runner's user while we run as root, and
    git refuses it ("detected dubious ownership", CVE-2022-24765). ``safe.directory`` given with
    ``-c`` counts as protected configuration, so trusting exactly this work tree for our own
    read-only commands is enough. Trusting a foreign checkout must not let its config run
    programs, so hooks, fsmonitor and signature verification are off, and the clean/smudge
    filters its own config defines are blanked (see :func:`_foreign_filters`).
    """
    root = find_root(start)
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    try:
        import git
    except ImportError as e:  # pragma: no cover - GitPython is a dependency
        raise CheckoutError(f"cannot load GitPython: {e}") from e
    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as e:
        raise CheckoutError(f"{root}: not a git checkout", "pass --repo DIR") from e
    options = [f"safe.directory={root}", *_NO_PROGRAMS]
    repo.git.set_persistent_git_options(c=options)
    if _foreign(root, repo):
        repo.git.set_persistent_git_options(c=options + _foreign_filters(repo))
    return repo


# Config that makes read-only commands run programs: `git log` runs gpg.program on a signed commit
# when log.showSignature is set, `git diff` runs the fsmonitor hook and post-index-change.
_NO_PROGRAMS = ("core.fsmonitor=false", "core.hooksPath=/dev/null", "log.showSignature=false")


def _foreign(root: Path, repo: Any) -> bool:
    """Whether git would call this checkout "dubious": not all of it is owned by our user."""
    if not hasattr(os, "geteuid"):  # pragma: no cover - Windows has no such check
        return False
    uid = os.geteuid()
    paths = {root, Path(repo.git_dir), Path(repo.common_dir)}
    try:
        return any(path.stat().st_uid != uid for path in paths)
    except OSError:
        return True


def _foreign_filters(repo: Any) -> list[str]:
    """``-c`` options that blank the filter drivers a foreign checkout's own config defines.

    `git diff` re-reads stat-dirty files through their clean filter, and that command comes from
    config: in someone else's checkout it is someone else's program. Drivers from the global and
    system config (e.g. git-lfs) are ours and stay; a blanked driver can only make a file look
    modified, which is a warning.
    """
    import git

    try:
        out = repo.git.config(
            "--show-scope", "--get-regexp", r"^filter\..+\.(clean|smudge|process)$"
        )
    except git.GitCommandError:  # exit 1: no such keys
        return []
    names: set[str] = set()
    for line in str(out).splitlines():
        scope, _, rest = line.partition("\t")
        key = rest.split(" ", 1)[0]
        if scope in ("local", "worktree"):
            names.add(key[len("filter.") :].rsplit(".", 1)[0])
    options: list[str] = []
    for name in sorted(names):
        options += [f"filter.{name}.{k}=" for k in ("clean", "smudge", "process")]
        options.append(f"filter.{name}.required=false")
    return options


def read(start: str | os.PathLike[str], remote: str = "origin") -> GitFacts:
    """Facts about HEAD, the remote and the work tree. Works shallow, detached, and in worktrees."""
    import git

    repo = open_repo(start)
    try:
        head = repo.git.rev_parse("--verify", "--quiet", "HEAD^{commit}")
    except git.GitCommandNotFound as e:
        raise CheckoutError("git is not installed", "install git; GitPython runs it") from e
    except git.GitCommandError as e:
        if e.status == 1 and not _reason(e, ""):  # --quiet: HEAD names no commit
            raise CheckoutError(
                f"{repo.working_tree_dir}: HEAD has no commit yet",
                "commit first, or check out the commit that was built",
            ) from e
        raise CheckoutError(f"{repo.working_tree_dir}: {_reason(e)}") from e
    try:
        stamp = repo.git.log("-1", "--format=%cI", head)
        commit_time = dt.datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
        tags = tuple(t for t in repo.git.tag("--no-column", "--points-at", head).splitlines() if t)
        dirty = repo.is_dirty(untracked_files=False)
        shallow = repo.git.rev_parse("--is-shallow-repository").strip() == "true"
        branch = None
        detached = repo.head.is_detached
        if not detached:
            branch = repo.head.reference.name
        remote_url = _remote_url(repo, remote)
    except git.GitCommandError as e:
        raise CheckoutError(f"{repo.working_tree_dir}: {_reason(e)}") from e
    return GitFacts(
        root=str(repo.working_tree_dir),
        head=head.strip().lower(),
        commit_time=commit_time,
        remote_name=remote if remote_url else None,
        remote_url=strip_credentials(remote_url) if remote_url else None,
        remote_normalized=urls.normalize(remote_url) if remote_url else None,
        tags=tags,
        dirty=dirty,
        shallow=shallow,
        detached=detached,
        branch=branch,
    )


def _remote_url(repo: Any, remote: str) -> str | None:
    import git

    try:
        # `remote get-url` applies url.<base>.insteadOf, which reading the config file would not
        return str(repo.git.remote("get-url", remote)).strip() or None
    except git.GitCommandError:
        return None


def _reason(error: Any, default: str = "git failed") -> str:
    stderr = str(getattr(error, "stderr", "") or "").strip().splitlines()
    for line in stderr:
        line = line.strip().removeprefix("stderr: ").strip("'")
        for prefix in ("fatal:", "error:"):
            if line.startswith(prefix):
                return strip_credentials(line.removeprefix(prefix).strip())
    return default
