"""Checks on what a Kubernetes pod runs, against what its spec names (``audit --kubernetes``)."""

from __future__ import annotations

from mb_ci.checks.base import Findings
from mb_ci.models import Finding
from mb_ci.policy import Policy

TAG_MOVED = "kubernetes-tag-moved"


def check_running(
    where: str, spec_image: str, running: str, tag_now: str | None, policy: Policy
) -> tuple[Finding, ...]:
    """``running`` (the digest in the container's status) against ``tag_now`` (the digest the
    spec's tag names in the registry today, ``None`` when the spec pins a digest or the tag
    could not be resolved). ``where`` names the container's image field in the pod."""
    out = Findings(policy)
    out.ran(TAG_MOVED)
    if tag_now and running and tag_now != running:
        out.add(
            TAG_MOVED,
            f"running {running}, tag {spec_image} now {tag_now}",
            label=where,
            expected=tag_now,
            actual=running,
        )
    return tuple(out.items)
