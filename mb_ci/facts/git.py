"""Read the git checkout through GitPython and turn it into plain ``GitFacts``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

from mb_ci.errors import CheckoutError
from mb_ci.facts import urls
from mb_ci.models import CiFacts, Commit, GitFacts
from mb_ci.safety import strip_credentials


def find_root(start: str | os.PathLike[str]) -> Path:
    """The work tree root above ``start``: the nearest directory holding ``.git`` (dir or file)."""
    from mb_ci.fsutil import find_checkout

    if not Path(start).resolve().exists():
        raise CheckoutError(f"{start}: no such directory", "give the checkout with --repo")
    root = find_checkout(start)
    if root is not None:
        return root
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
    # Reading must never write to the checkout: `git status` and `git diff` refresh the index
    # and write it back when they can take its lock, which in a CI container running as root
    # leaves a root-owned .git/index in the runner's workspace. Optional locks off stops that
    # (https://git-scm.com/docs/git#Documentation/git.txt---no-optional-locks).
    repo.git.update_environment(GIT_OPTIONAL_LOCKS="0")
    repo.git.set_persistent_git_options(no_optional_locks=True, c=options)
    if _foreign(root, repo):
        repo.git.set_persistent_git_options(
            no_optional_locks=True, c=options + _foreign_filters(repo)
        )
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


def read(
    start: str | os.PathLike[str], remote: str = "origin", ci: CiFacts | None = None
) -> GitFacts:
    """Facts about HEAD, the remote and the work tree. Works shallow, detached, and in worktrees.

    With ``ci``, also the commits CI names (and the parents of those that are merges), so the
    checks can compare ``created`` with the commit the revision matched.
    """
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
    head = head.strip().lower()
    try:
        head_commit = _commit(repo, head)
        if head_commit is None:
            raise CheckoutError(
                f"{repo.working_tree_dir}: HEAD ({head}) has no committer time git can read",
                "check out the commit that was built; `git fsck` names what is wrong with it",
            )
        commit_time = head_commit.time
        tags = _tags(repo, head)
        dirty = _dirty(repo)
        shallow = repo.git.rev_parse("--is-shallow-repository").strip() == "true"
        branch = _branch(repo)
        detached = branch is None
        remote_url = _remote_url(repo, remote)
        if remote_url:  # the host an ssh alias stands for: what git really reaches
            remote_url = ssh_alias(remote_url, _ssh_command(repo)) or remote_url
        commits = _commits(repo, (head, *(ci.named if ci is not None else ())), {head: tags})
    except git.GitCommandError as e:
        raise CheckoutError(f"{repo.working_tree_dir}: {_reason(e)}") from e
    return GitFacts(
        root=str(repo.working_tree_dir),
        head=head,
        commit_time=commit_time,
        remote_name=remote if remote_url else None,
        remote_url=strip_credentials(remote_url) if remote_url else None,
        remote_normalized=urls.normalize(remote_url) if remote_url else None,
        tags=tags,
        dirty=dirty,
        shallow=shallow,
        detached=detached,
        branch=branch,
        commits=commits,
    )


def _branch(repo: Any) -> str | None:
    """The branch HEAD is on, ``None`` when detached.

    Asked of git, not read by GitPython, which decodes ``.git/HEAD`` as strict UTF-8 and raises
    on a branch named in another encoding (repositories converted from CVS or Subversion).
    """
    import git

    try:
        name = _text(repo.git.symbolic_ref("--quiet", "--short", "HEAD")).strip()
    except git.GitCommandError as e:
        if e.status == 1:  # --quiet: HEAD is detached
            return None
        raise
    return name or None


def _tags(repo: Any, sha: str) -> tuple[str, ...]:
    out = _text(repo.git.tag("--no-column", "--points-at", sha))
    return tuple(t for t in out.splitlines() if t)


def _text(out: object) -> str:
    """Git's output as text: GitPython keeps bytes that are not UTF-8 (a tag, branch or remote
    named in Latin-1) as lone surrogates, which no encoder, URL parser or terminal takes."""
    return str(out).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _dirty(repo: Any) -> bool:
    """Whether a tracked file differs from HEAD, staged or not; untracked files do not count.

    `git status` with optional locks off compares stat-dirty files by content in memory and
    never writes the index, unlike GitPython's ``is_dirty()`` (`git diff`, which refreshes it).
    """
    out = repo.git.status("--porcelain=v1", "--untracked-files=no", "-z")
    return bool(str(out).strip("\0").strip())


# refs a fetch writes; a commit no such ref contains was made in the checkout itself
_FETCHED_REFS = ("refs/remotes", "refs/pull", "refs/merge-requests", "refs/pipelines", "refs/tags")


def _commits(
    repo: Any, shas: tuple[str, ...], known_tags: dict[str, tuple[str, ...]]
) -> dict[str, Commit]:
    """The named commits the checkout holds with their tags, and the parents of the merges.

    A commit CI names other than HEAD may be what the image was built from (a pull request's
    head), so its own tags are what ``version`` is compared with.
    """
    found: dict[str, Commit] = {}
    wanted = list(dict.fromkeys(shas))
    merges: list[Commit] = []
    for sha in wanted:
        commit = _commit(repo, sha)
        if commit is None or commit.sha in found:
            continue
        tags = known_tags.get(commit.sha)
        commit = dataclasses.replace(commit, tags=_tags(repo, commit.sha) if tags is None else tags)
        if commit.is_merge:
            fetched = bool(
                str(
                    repo.git.for_each_ref(
                        "--count=1",
                        "--format=%(refname)",
                        f"--contains={commit.sha}",
                        *_FETCHED_REFS,
                    )
                ).strip()
            )
            commit = dataclasses.replace(commit, fetched=fetched)
            merges.append(commit)
        found[commit.sha] = commit
    for merge in merges:
        for parent in merge.parents:
            if parent not in found:
                commit = _commit(repo, parent)
                if commit is not None:
                    found[commit.sha] = commit
    return found


def _commit(repo: Any, sha: str) -> Commit | None:
    """One commit object, read raw: its parent lines survive a shallow clone's grafts."""
    import git

    try:
        full = str(repo.git.rev_parse("--verify", "--quiet", f"{sha}^{{commit}}")).strip()
        raw = str(repo.git.cat_file("commit", full))
    except git.GitCommandError:
        return None  # not in the checkout (a shallow clone, or never fetched)
    parents: list[str] = []
    time: dt.datetime | None = None
    for line in raw.split("\n"):
        if not line:
            break  # the headers end at the first empty line
        name, _, rest = line.partition(" ")
        if name == "parent":
            parents.append(rest.strip().lower())
        elif name == "committer":
            time = _signature_time(rest)
    if time is None:
        return None
    return Commit(full.lower(), time, tuple(parents))


def _signature_time(signature: str) -> dt.datetime | None:
    """``Name <email> 1700000000 +0100`` -> an aware datetime, or None if it is malformed.

    The instant is the epoch; a zone no clock has (``+9959``, which real repositories carry and
    `git fsck` calls badTimezone) only changes how it is shown, so it falls back to UTC.
    """
    try:
        epoch, offset = signature.rsplit(">", 1)[1].split()
        zone = dt.timezone.utc
        if re.fullmatch(r"[+-][0-9]{4}", offset):
            minutes = int(offset[1:3]) * 60 + int(offset[3:5])
            if minutes < 24 * 60:
                zone = dt.timezone((-1 if offset[0] == "-" else 1) * dt.timedelta(minutes=minutes))
        return dt.datetime.fromtimestamp(int(epoch), zone)
    except (IndexError, ValueError, OverflowError, OSError):
        return None


def _remote_url(repo: Any, remote: str) -> str | None:
    import git

    try:
        # `remote get-url` applies url.<base>.insteadOf, which reading the config file would not
        return _text(repo.git.remote("get-url", remote)).strip() or None
    except git.GitCommandError:
        return None


def _ssh_command(repo: Any) -> str:
    """The ssh git would run: ``GIT_SSH_COMMAND``, ``core.sshCommand``, ``GIT_SSH``, ``ssh``."""
    import git

    command = os.environ.get("GIT_SSH_COMMAND")
    if command:
        return command
    try:
        configured = _text(repo.git.config("--get", "core.sshCommand")).strip()
    except git.GitCommandError:
        configured = ""
    return configured or os.environ.get("GIT_SSH") or "ssh"


def ssh_alias(url: str, command: str = "ssh") -> str | None:
    """The URL an ssh ``Host`` alias stands for (``git@github.com-work:o/r`` with
    ``HostName github.com`` in ``~/.ssh/config``), as ``ssh -G`` resolves it; None when the URL
    is not ssh, names no alias, or the ssh git would run is not OpenSSH's ``ssh``.

    ``ssh -G`` prints the configuration for a host without connecting. Only a command whose
    program is ``ssh`` is asked (a wrapper given as ``GIT_SSH_COMMAND`` might connect), with its
    own options (``-F``, ``-o``) kept, and for at most 3 seconds.
    """
    import shlex
    import subprocess

    scp = urls._SCP.match(url) if "://" not in url else None
    if scp:
        user, host, path, port = scp.group("user"), scp.group("host"), scp.group("path"), None
    elif url.startswith(("ssh://", "git+ssh://", "ssh+git://")):
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            user, host, port = parts.username, parts.hostname or "", parts.port
        except ValueError:
            return None
        path = parts.path.lstrip("/")
    else:
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if not argv or os.path.basename(argv[0]) not in ("ssh", "ssh.exe") or host.startswith("-"):
        return None
    if port:
        argv += ["-p", str(port)]
    try:
        proc = subprocess.run(
            [*argv, "-G", "--", host],
            capture_output=True,
            text=True,
            timeout=3,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    config = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if line.count(" ") >= 1)
    real = config.get("hostname", "").strip()
    real_port = config.get("port", "22").strip()
    if not real or not urls._HOST.match(real.lower()) or real.lower() == host.lower():
        return None
    login = f"{user}@" if user else ""
    if real_port == "22":
        return f"{login}{real}:{path}"
    return f"ssh://{login}{real}:{real_port}/{path}"


def _reason(error: Any, default: str = "git failed") -> str:
    stderr = str(getattr(error, "stderr", "") or "").strip().splitlines()
    for line in stderr:
        line = line.strip().removeprefix("stderr: ").strip("'")
        for prefix in ("fatal:", "error:"):
            if line.startswith(prefix):
                return strip_credentials(line.removeprefix(prefix).strip())
    return default
