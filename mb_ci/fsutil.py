"""Write files carefully: atomically, only when changed, owned like their directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from mb_ci.errors import UsageError


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
