"""``audit --kubernetes``: a cluster's pods as the fleet, each distinct digest inspected once.

Every container (init and ephemeral ones too) is a row named ``NAMESPACE/POD/NAME``; the
image it runs is the digest in its status, read through the shared registry client. A spec
tag is resolved once per tag, and a tag that names another digest today is a
``kubernetes-tag-moved`` finding. A container whose image cannot be read is a row with the
reason, never a failure of the audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from mb_ci.audit.fleet import Inspector
from mb_ci.audit.model import AuditRow, Target
from mb_ci.errors import ImageError, MbCiError
from mb_ci.models import ImageFacts, Severity
from mb_ci.sources.kubernetes import KINDS, PodContainer
from mb_ci.sources.memo import Memo

if TYPE_CHECKING:
    from collections.abc import Callable

    from mb_ci.policy import Policy
    from mb_ci.sources.options import SourceOptions

SPEC_KEYS = {kind: key for key, _, kind in KINDS}


def target(pc: PodContainer) -> Target:
    shown = pc.reference or (f"docker://{pc.spec_image}" if pc.spec_image else "-")
    facts = {
        "namespace": pc.namespace,
        "workload": pc.workload,
        "pod": pc.pod,
        "container": pc.name,
        "kind": pc.kind,
        "spec_image": pc.spec_image,
        "image_id": pc.image_id,
        "phase": pc.phase or "",
        "started": pc.started or "",
    }
    return Target(shown, pc.container, kubernetes={k: v for k, v in facts.items() if v})


def targets(pods: Sequence[PodContainer]) -> list[Target]:
    return [target(pc) for pc in pods]


def _tagged(spec_image: str) -> bool:
    """Whether the spec names a tag (or nothing, which is ``latest``), not a digest."""
    return bool(spec_image) and "@" not in spec_image


class PodInspector(Inspector):
    """The fleet's inspector, keyed by the pods' containers; each reference read once."""

    def __init__(
        self, pods: Sequence[PodContainer], options: SourceOptions, manifest_requests: str = "auto"
    ) -> None:
        super().__init__(options, manifest_requests)
        self.pods = {pc.container: pc for pc in pods}
        self._facts = Memo()
        self._tags = Memo()

    def __call__(self, target: Target) -> ImageFacts:
        pc = self.pods.get(target.container or "")
        if pc is None:
            return super().__call__(target)
        if pc.reason or not pc.reference:
            raise ImageError(pc.reason or "no image")
        reference = pc.reference
        read = super().__call__

        def once() -> ImageFacts | MbCiError:
            try:
                return read(Target(reference))
            except MbCiError as e:  # kept too: a thousand pods of a missing image ask once
                return e

        facts = self._facts.get(reference, once)
        if isinstance(facts, MbCiError):
            raise facts
        if pc.image_config and not _has_config(facts, pc.image_config):
            raise ImageError(
                f"runs image {pc.image_config[:19]}… (the runtime reports only its ID); "
                f"{pc.spec_image} now names another image, and no registry serves an image by ID"
            )
        return facts

    def tag_digest(self, spec_image: str) -> str | None:
        """The digest the spec's tag names today, once per tag; ``None`` if it cannot be read."""

        def resolve() -> str | None:
            try:
                return self.registry_client().resolve(spec_image)
            except MbCiError:
                return None

        result: str | None = self._tags.get(spec_image, resolve)
        return result

    def decide(
        self, judge: Callable[[Target, ImageFacts], AuditRow], policy: Policy, strict: bool
    ) -> Callable[[Target, ImageFacts], AuditRow]:
        """``judge``, then the tag check for a container that names a tag in its spec."""
        from mb_ci.checks.kubernetes import check_running

        def one(t: Target, image: ImageFacts) -> AuditRow:
            row = judge(t, image)
            pc = self.pods.get(t.container or "")
            if pc is None or pc.image_config or not _tagged(pc.spec_image) or not pc.reference:
                return row
            running = pc.reference.rsplit("@", 1)[1]
            where = f"spec.{SPEC_KEYS[pc.kind]}[{pc.name}].image"
            extra = check_running(
                where, pc.spec_image, running, self.tag_digest(pc.spec_image), policy
            )
            if not extra:
                return row
            findings = row.findings + extra
            fails = any(f.severity is Severity.ERROR for f in findings) or (
                strict and any(f.severity is Severity.WARNING for f in findings)
            )
            return replace(row, findings=findings, verdict="fail" if fails else "pass")

        return one


def _has_config(facts: ImageFacts, config: str) -> bool:
    return facts.image_id == config or any(
        config in (p.config_digest, p.digest) for p in facts.platforms
    )
