"""Timestamps the way labels carry them: RFC 3339 in UTC, to the second, with a ``Z``."""

from __future__ import annotations

import datetime as dt

UTC = dt.timezone.utc
# a fixed instant for tests that must not depend on the wall clock
FIXED = dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def stamp(when: dt.datetime) -> str:
    """``when`` as a label value, e.g. ``2024-05-01T12:00:00Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> str:
    """The current time as a label value."""
    return stamp(utcnow())


def ago(**delta: float) -> dt.datetime:
    """``utcnow()`` minus ``timedelta(**delta)``, e.g. ``ago(days=3)``."""
    return utcnow() - dt.timedelta(**delta)


def later(**delta: float) -> dt.datetime:
    """``utcnow()`` plus ``timedelta(**delta)``, e.g. ``later(minutes=30)``."""
    return utcnow() + dt.timedelta(**delta)
