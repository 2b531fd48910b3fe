"""In-memory facts for unit tests: an image, a checkout, a CI job and a report, no engine or git.

Every builder takes keyword overrides, so a test names only what it is about::

    image(labels={REVISION: HEAD})
    checkout(tags=("v1.0.0",))
    report(findings=(finding("label-required"),))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers.clock import FIXED, stamp
from helpers.git import ORIGIN, SOURCE
from mb_ci.catalog import CHECKS
from mb_ci.models import (
    CiFacts,
    Commit,
    Finding,
    GitFacts,
    ImageFacts,
    PlatformFacts,
    Report,
)
from mb_ci.policy import Policy

OCI = "org.opencontainers.image."
LS = "org.label-schema."
REVISION = OCI + "revision"
SOURCE_KEY = OCI + "source"
CREATED = OCI + "created"
VERSION = OCI + "version"

HEAD = "a" * 40
PARENT = "b" * 40
OTHER = "c" * 40
# HEAD's commit time; FIXED (the tests' "now") is one hour later
COMMIT_TIME = FIXED - dt.timedelta(hours=1)


def truthful_labels(**extra: str) -> dict[str, str]:
    """The labels of an image built from ``checkout()`` at ``FIXED``: every git check passes."""
    return {
        REVISION: HEAD,
        SOURCE_KEY: SOURCE,
        CREATED: stamp(COMMIT_TIME + dt.timedelta(minutes=5)),
        **extra,
    }


def platform(
    labels: Mapping[str, str] | None = None, name: str | None = None, **kw: Any
) -> PlatformFacts:
    return PlatformFacts(name, labels if labels is not None else truthful_labels(), **kw)


def image(
    labels: Mapping[str, str] | None = None,
    *,
    platforms: tuple[PlatformFacts, ...] | None = None,
    reference: str = "app:1",
    transport: str = "docker-daemon",
    **kw: Any,
) -> ImageFacts:
    """One platform with ``labels`` (``truthful_labels()`` by default), or ``platforms``."""
    return ImageFacts(
        reference=reference,
        transport=transport,
        platforms=platforms if platforms is not None else (platform(labels),),
        **kw,
    )


def checkout(**kw: Any) -> GitFacts:
    """A clean checkout at ``HEAD`` (committed at ``COMMIT_TIME``) with origin ``ORIGIN``."""
    from mb_ci.facts import urls

    remote = kw.pop("remote_url", ORIGIN)
    fields: dict[str, Any] = {
        "root": "/work/widget",
        "head": HEAD,
        "commit_time": COMMIT_TIME,
        "remote_name": "origin" if remote else None,
        "remote_url": remote,
        "remote_normalized": urls.normalize(remote) if remote else None,
        "branch": "main",
        "commits": {HEAD: Commit(HEAD, COMMIT_TIME, (PARENT,))},
    }
    fields.update(kw)
    return GitFacts(**fields)


def ci(**kw: Any) -> CiFacts:
    """No CI by default; ``ci(provider="github", sha=HEAD)`` and so on."""
    return CiFacts(**kw)


def finding(check: str, message: str | None = None, **kw: Any) -> Finding:
    """A finding of ``check`` at its catalogue severity unless ``severity=`` says otherwise."""
    info = CHECKS[check]
    kw.setdefault("severity", info.severity)
    return Finding(check, message=message or info.summary, **kw)


def report(
    findings: tuple[Finding, ...] = (),
    *,
    command: str = "check",
    subject: str = "app:1",
    **kw: Any,
) -> Report:
    """A report about ``image()`` against ``checkout()``, with ``findings``."""
    kw.setdefault("image", image())
    kw.setdefault("git", checkout())
    kw.setdefault("ci", ci())
    kw.setdefault("checked", tuple(dict.fromkeys(f.check for f in findings)))
    return Report(command=command, subject=subject, findings=findings, **kw)


def replace(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for the frozen facts."""
    return dataclasses.replace(obj, **changes)


def policy(text: str = "") -> Policy:
    """The policy ``text`` (YAML, ``version: 1`` implied) says, read as ``mb-ci`` reads
    ``.mb-ci.yml``; empty: the defaults."""
    import tempfile

    from mb_ci import policy as policies

    if not text.strip():
        return Policy()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ".mb-ci.yml"
        path.write_text("version: 1\n" + text, encoding="utf-8")
        return policies.load(path)
