"""Where archive metadata is read from: a directory, or a tarball read in place.

``Tar`` indexes a tarball's members in one pass and reads single members back, capped at 4 MiB,
never extracting anything. A gzipped tarball is read through ``BoundedGzip``, a seekable view
that stops when the output outgrows the input by more than ``MAX_RATIO`` past ``FLOOR`` bytes:
a gzip bomb ends in well under a second with an error instead of minutes of inflating zeros.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
from pathlib import Path
from typing import IO, Any

from mb_ci.errors import ImageError
from mb_ci.sources import oci

FLOOR = 256 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 100_000
SMALL = 256 * 1024  # members kept in memory while a gzip stream passes them ...
KEEP = 16 * 1024 * 1024  # ... up to this much in all
_CHUNK = 1024 * 1024


class Dir:
    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def read(self, name: str, what: str) -> bytes:
        target = self.root / name
        try:
            with target.open("rb") as fh:
                data = fh.read(oci.MAX_DOCUMENT + 1)
        except OSError as e:
            raise ImageError(
                f"{what}: cannot read {name} ({e.strerror or type(e).__name__})"
            ) from e
        if len(data) > oci.MAX_DOCUMENT:
            raise ImageError(f"{what}: {name} is larger than 4 MiB")
        return data

    def size(self, name: str) -> int | None:
        target = self.root / name
        return target.stat().st_size if target.is_file() else None

    def nested(self, name: str) -> list[str]:
        """``DIR/name`` for each directory just below the root that holds ``name``."""
        try:
            children = sorted(self.root.iterdir())[:1000]
        except OSError:
            return []
        return [f"{c.name}/{name}" for c in children if (c / name).is_file()]


class Tar:
    """A tarball's members by name; gzip is detected and bounded.

    A link member reads as the regular member it points to: ``docker save`` writes a layer two
    saved images share once and links the second ``<id>/layer.tar`` to it (a symlink).
    """

    def __init__(self, path: Path, what: str) -> None:
        self.what = what
        self._raw = path.open("rb")
        gzipped = self._raw.read(2) == b"\x1f\x8b"
        self._raw.seek(0)
        self._file: Any = BoundedGzip(self._raw, what) if gzipped else self._raw
        self._tar = tarfile.open(fileobj=self._file, mode="r:")
        self.members: dict[str, tarfile.TarInfo] = {}
        self._kept: dict[str, bytes] = {}
        links: dict[str, str] = {}
        count = kept = 0
        while (member := self._tar.next()) is not None:
            count += 1
            if count > MAX_MEMBERS:
                raise ImageError(f"{what}: more than {MAX_MEMBERS} entries; not an image archive")
            if member.isfile():
                name = member.name.removeprefix("./")
                self.members[name] = member
                # A gzip stream only seeks forward cheaply: keep small members (manifests,
                # configs) as they pass, so reading them later needs no second inflation.
                if gzipped and member.size <= SMALL and kept + member.size <= KEEP:
                    self._kept[name] = self._member(member, what)
                    kept += member.size
            elif member.issym() or member.islnk():
                name = member.name.removeprefix("./")
                base = posixpath.dirname(name) if member.issym() else ""
                links[name] = posixpath.normpath(posixpath.join(base, member.linkname))
            self._tar.members = []  # type: ignore[attr-defined]  # we hold our own index
        self._alias: dict[str, str] = {}
        for name, target in links.items():
            for _hop in range(8):  # a chain of links, never a loop
                if target in self.members or target not in links:
                    break
                target = links[target]
            if target in self.members and name not in self.members:
                self._alias[name] = target

    def __enter__(self) -> Tar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._tar.close()
        self._raw.close()

    def exists(self, name: str) -> bool:
        return self._alias.get(name, name) in self.members

    def size(self, name: str) -> int | None:
        member = self.members.get(self._alias.get(name, name))
        return member.size if member else None

    def nested(self, name: str) -> list[str]:
        """``DIR/name`` for each directory just below the top that holds ``name``."""
        return sorted(n for n in self.members if n.count("/") == 1 and n.endswith(f"/{name}"))

    def read(self, name: str, what: str) -> bytes:
        name = self._alias.get(name, name)
        member = self.members.get(name)
        if member is None:
            raise ImageError(f"{what}: the archive has no {name}")
        if member.size > oci.MAX_DOCUMENT:
            raise ImageError(f"{what}: {name} is larger than 4 MiB")
        if name in self._kept:
            return self._kept[name]
        return self._member(member, what)

    def _member(self, member: tarfile.TarInfo, what: str) -> bytes:
        name = member.name
        handle = self._tar.extractfile(member)
        if handle is None:
            raise ImageError(f"{what}: {name} is not a regular file")
        data = handle.read(oci.MAX_DOCUMENT + 1)
        if len(data) != member.size:
            raise ImageError(f"{what}: {name} is truncated")
        return data


class BoundedGzip(io.RawIOBase):
    """A seekable view of a gzip stream that refuses to inflate like a bomb."""

    def __init__(self, raw: IO[bytes], what: str) -> None:
        self._raw = raw
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")
        self._pos = 0
        self._high = 0
        self.what = what

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        data = b""
        want = _CHUNK if size is None or size < 0 else size
        while len(data) < want:
            chunk = self._gz.read(min(_CHUNK, want - len(data)))
            if not chunk:
                break
            data += chunk
            self._pos += len(chunk)
            self._check()
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR):
            raise io.UnsupportedOperation("seek from the end of a gzip stream")
        if target < self._pos:
            self._gz.seek(target)  # rewinds and re-inflates up to a point already checked
            self._pos = target
        while self._pos < target:
            if not self.read(min(_CHUNK, target - self._pos)):
                break
        return self._pos

    def _check(self) -> None:
        if self._pos <= self._high:
            return
        self._high = self._pos
        if self._pos > FLOOR and self._pos > MAX_RATIO * max(self._raw.tell(), 1):
            raise ImageError(
                f"{self.what}: the gzip stream inflates more than {MAX_RATIO}x "
                "(a gzip bomb?); refusing to read on"
            )
