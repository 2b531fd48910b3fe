"""``--platform`` as containerd reads it: normalised names, and which entries of an index it picks.

Normalisation follows containerd's ``platforms`` package (``database.go``): ``x86_64`` is
``amd64`` and ``amd64/v1`` is plain ``amd64``; ``aarch64`` is ``arm64`` and ``arm64/v8`` plain
``arm64``; ``linux/arm`` is ``linux/arm/v7`` (``armhf`` too, ``armel`` is ``arm/v6``); ``i386`` is
``386``. Matching follows containerd's ``platforms.Only``: a machine runs its own variant and the
older ones, so ``linux/amd64/v2`` takes an ``amd64`` (v1) entry and ``linux/arm/v7`` an
``arm/v6`` one, each only when the index has nothing closer. For other architectures a wanted
name without a variant takes any variant, preferring an entry without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, TypeVar

from mb_ci.errors import UsageError

T = TypeVar("T")
_ARCH = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "i386": "386"}
_ARCH_VARIANT = {"armhf": ("arm", "v7"), "armel": ("arm", "v6")}
# architectures whose variants form a ladder: a machine of level N runs levels N, N-1, ... 1
_LADDER = {"amd64": 1, "arm": 5}


class Platform(NamedTuple):
    os: str
    arch: str
    variant: str

    def __str__(self) -> str:
        return "/".join(p for p in self if p)


def normalize(os_: str, arch: str, variant: str = "") -> Platform:
    os_, arch, variant = os_.strip().lower(), arch.strip().lower(), variant.strip().lower()
    if os_ == "macos":
        os_ = "darwin"
    arch = _ARCH.get(arch, arch)
    if arch in _ARCH_VARIANT:
        arch, default = _ARCH_VARIANT[arch]
        variant = variant or default
    if variant.isdigit():
        variant = f"v{variant}"
    if arch == "amd64" and variant == "v1":
        variant = ""
    elif arch == "arm64" and variant in ("v8", "8"):
        variant = ""
    elif arch == "arm" and not variant:
        variant = "v7"
    return Platform(os_, arch, variant)


def parse(name: str) -> Platform:
    """A ``--platform`` value, or ``UsageError`` naming the expected form."""
    parts = name.strip().split("/")
    if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
        raise UsageError(f"--platform {name}: expected OS/ARCH[/VARIANT], e.g. linux/arm64")
    return normalize(*parts)


def parse_actual(name: str | None) -> Platform | None:
    """An index entry's or a config's platform name, or ``None`` when it has none."""
    if not name:
        return None
    parts = name.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    return normalize(*parts)


def _level(variant: str, floor: int) -> int | None:
    if not variant:
        return floor
    if variant.startswith("v") and variant[1:].isdigit():
        return int(variant[1:])
    return None


def rank(wanted: Platform, actual: Platform | None) -> int | None:
    """0 for the same platform, higher for a less close one it still runs, ``None`` for neither."""
    if actual is None or (wanted.os, wanted.arch) != (actual.os, actual.arch):
        return None
    if wanted.variant == actual.variant:
        return 0
    floor = _LADDER.get(wanted.arch)
    if floor is None:
        return 1 if not wanted.variant else None
    have, want = _level(actual.variant, floor), _level(wanted.variant, floor)
    if have is None or want is None or have > want:
        return None
    return want - have


def matches(wanted: str, actual: str | None) -> bool:
    return rank(parse(wanted), parse_actual(actual)) is not None


def choose(wanted: Sequence[str], entries: Sequence[tuple[str | None, T]]) -> list[T]:
    """For each wanted platform the closest entries (in index order); every entry if none wanted."""
    if not wanted:
        return [item for _, item in entries]
    keep: set[int] = set()
    parsed = [parse_actual(name) for name, _ in entries]
    for name in wanted:
        want = parse(name)
        ranks = [rank(want, actual) for actual in parsed]
        best = min((r for r in ranks if r is not None), default=None)
        keep.update(i for i, r in enumerate(ranks) if r is not None and r == best)
    return [item for i, (_, item) in enumerate(entries) if i in keep]
