"""Write files carefully: atomically, only when changed, owned like their directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from mb_ci.errors import MbCiError, UsageError


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    only_if_changed: bool = True,
    keep_mode: bool = True,
) -> bool:
    """Replace ``path`` with ``data`` through a temporary file and a rename.

    Returns whether the file changed. Its mode is kept, and when running as root in a directory
    owned by someone else (a CI container writing into the runner's workspace) the file is given
    to the directory's owner, so that the next step, running as that user, can change it.
    """
    target = Path(path)
    try:
        old = target.read_bytes() if target.exists() else None
    except OSError as e:
        raise UsageError(f"{target}: cannot read: {e.strerror}") from e
    if only_if_changed and old == data:
        return False
    directory = target.parent if str(target.parent) else Path(".")
    try:
        st = target.stat() if old is not None else None
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise UsageError(
            f"{target}: cannot write: {e.strerror}",
            "check that the directory exists and is writable",
        ) from e
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if st is not None and keep_mode:
            os.chmod(tmp, st.st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        _match_owner(Path(tmp), st, directory)
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UsageError(f"{target}: cannot write: {e.strerror}") from e
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _match_owner(tmp: Path, old: os.stat_result | None, directory: Path) -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    ref = old if old is not None else directory.stat()
    if (ref.st_uid, ref.st_gid) != (0, 0):
        with contextlib.suppress(OSError):
            os.chown(tmp, ref.st_uid, ref.st_gid)


def write_text(path: str | os.PathLike[str], text: str) -> bool:
    return write_atomic(path, text.encode("utf-8"), only_if_changed=False)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit > 1024 * 1024 else f"{limit // 1024} KiB"


def read_bounded(
    path: str | os.PathLike[str],
    limit: int,
    error: type[MbCiError],
    *,
    label: str | None = None,
    missing_hint: str | None = None,
    too_big_hint: str | None = None,
) -> bytes:
    """At most ``limit`` bytes of ``path``; anything wrong is one ``error`` naming ``label``."""
    name = label or os.fspath(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{name}: no such file", missing_hint) from None
    except IsADirectoryError:
        raise error(f"{name}: is a directory", missing_hint) from None
    except OSError as e:
        raise error(f"{name}: cannot read: {e.strerror}") from e
    if len(raw) > limit:
        raise error(f"{name}: larger than {_size(limit)}", too_big_hint)
    return raw


def read_bounded_text(
    path: str | os.PathLike[str],
    limit: int,
    error: type[MbCiError],
    *,
    label: str | None = None,
    missing_hint: str | None = None,
    too_big_hint: str | None = None,
) -> str:
    """Like :func:`read_bounded`, decoded as UTF-8 (a byte-order mark is dropped)."""
    raw = read_bounded(
        path, limit, error, label=label, missing_hint=missing_hint, too_big_hint=too_big_hint
    )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        name = label or os.fspath(path)
        raise error(f"{name}: not UTF-8 (byte {e.start})", "save it as UTF-8") from e


def find_checkout(start: str | os.PathLike[str]) -> Path | None:
    """The nearest folder at or above the folder ``start`` that holds ``.git`` (a folder, or
    the file of a worktree or submodule); None outside any checkout."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def make_parents(path: str | os.PathLike[str]) -> None:
    """Create the missing directories above ``path``, each owned like the one it is made in.

    Run as root in someone else's checkout (a CI container writing into the runner's workspace),
    a root-owned directory would stop the next step, running as that user, from writing there.
    """
    parent = Path(path).parent
    missing = []
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    owner = parent.stat()
    for directory in reversed(missing):
        try:
            directory.mkdir()
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                os.chown(directory, owner.st_uid, owner.st_gid)
        except FileExistsError:
            continue
        except OSError as e:
            raise UsageError(f"{directory}: cannot create: {e.strerror}") from e
