"""Which images an audit covers and shows: ``--shard``, ``--where``, ``--since``/``--until``."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from mb_ci import values
from mb_ci.audit.model import AuditRow
from mb_ci.errors import UsageError
from mb_ci.facts import urls

WHERE_KEYS = (
    "revision",
    "source",
    "version",
    "created",
    "container",
    "reference",
    "namespace",
    "workload",
    "tier",
)
TIERS = ("signed", "builder-verified", "builder-hint", "label-only")


def parse_shard(spec: str) -> tuple[int, int]:
    """``N/M`` with 1 <= N <= M."""
    n, sep, m = spec.partition("/")
    if not sep or not n.isdigit() or not m.isdigit() or not 1 <= int(n) <= int(m):
        raise UsageError(f"--shard {spec}: expected N/M with 1 <= N <= M", "e.g. --shard 2/4")
    return int(n), int(m)


def in_shard(reference: str, shard: tuple[int, int]) -> bool:
    """Whether ``reference`` belongs to shard N of M.

    Chosen by a hash of the reference, not by its position, so that every matrix job agrees even
    when the tag list changes between their listings.
    """
    n, m = shard
    digest = hashlib.sha256(reference.encode()).digest()
    return int.from_bytes(digest[:8], "big") % m == n - 1


@dataclass(frozen=True)
class Filters:
    where: tuple[tuple[str, str], ...] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    failing: bool = False

    def describe(self) -> tuple[str, ...]:
        out = [f"{k}={v}" for k, v in self.where]
        if self.since:
            out.append(f"since={self.since.isoformat()}")
        if self.until:
            out.append(f"until={self.until.isoformat()}")
        if self.failing:
            out.append("failing")
        return tuple(out)


def parse_where(spec: str) -> tuple[str, str]:
    key, sep, value = spec.partition("=")
    key, value = key.strip().lower(), value.strip()
    if not sep or not value:
        raise UsageError(f"--where {spec}: expected KEY=VALUE", "e.g. --where revision=abc1234")
    if key not in WHERE_KEYS and "." not in key:
        raise UsageError(
            f"--where {spec}: unknown key '{key}'",
            f"use one of {', '.join(WHERE_KEYS)}, or a full label key",
        )
    if key == "tier" and value not in TIERS:
        raise UsageError(
            f"--where {spec}: unknown tier '{value}'", f"use one of {', '.join(TIERS)}"
        )
    if key == "revision" and not values.is_git_sha(value.removesuffix("-dirty")):
        raise UsageError(
            f"--where {spec}: not a commit SHA", "give at least 7 hex digits of the commit"
        )
    return key, value


def parse_when(text: str, option: str, now: dt.datetime | None = None) -> dt.datetime:
    """An RFC 3339 time, a date (``2024-05-01``, midnight UTC), or a duration ago (``7d``)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    when = values.parse_rfc3339(text)
    if when is not None:
        return when
    try:
        day = dt.date.fromisoformat(text.strip())
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    except ValueError:
        pass
    seconds = values.parse_duration(text)
    if seconds is not None:
        return now - dt.timedelta(seconds=seconds)
    raise UsageError(
        f"{option} {text}: not a time",
        "give an RFC 3339 time, a date (2024-05-01) or a duration ago (12h, 7d, 2w)",
    )


def same_revision(wanted: str, label: str) -> bool:
    """Two SHAs name the same commit when one starts with the other and it has >= 7 digits."""
    a, b = wanted.lower().removesuffix("-dirty"), label.strip().lower().removesuffix("-dirty")
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 7 and values.is_git_sha(short) and long_.startswith(short)


def matches(row: AuditRow, filters: Filters) -> bool:
    if filters.failing and row.verdict == "pass":
        return False
    for key, wanted in filters.where:
        if not _where_holds(row, key, wanted):
            return False
    if filters.since or filters.until:
        created = values.parse_rfc3339(row.concepts.get("created") or "")
        if created is None:
            return False
        if filters.since and created < filters.since:
            return False
        if filters.until and created > filters.until:
            return False
    return True


def _where_holds(row: AuditRow, key: str, wanted: str) -> bool:
    if key == "container":
        return row.container == wanted
    if key == "reference":
        return row.reference == wanted
    if key == "namespace":
        return row.kubernetes.get("namespace") == wanted
    if key == "workload":  # Deployment/web, or web of any kind
        workload = row.kubernetes.get("workload") or ""
        return wanted in (workload, workload.partition("/")[2])
    if key == "tier":
        return row.tier == wanted
    if "." in key:
        return row.labels.get(key) == wanted
    value = row.concepts.get(key)
    if not value:
        return False
    if key == "revision":
        return same_revision(wanted, value)
    if key == "source":
        return urls.same_repo(wanted, value)
    return value == wanted
