"""What a platform's provenance proves: parsed documents, their claims, and a tier per label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# strongest first: what binds a label's value
TIERS = ("signed", "builder-verified", "builder-hint", "label-only")
CONCEPTS = ("revision", "source", "version", "created")


def rank(tier: str) -> int:
    """Higher is stronger; an unknown tier ranks below ``label-only``."""
    return len(TIERS) - TIERS.index(tier) if tier in TIERS else 0


@dataclass(frozen=True)
class Claim:
    """One value a provenance records for a concept, and how the builder came by it.

    ``tier`` is ``builder-verified`` (the builder resolved it itself: a Git context's commit) or
    ``builder-hint`` (recorded as given: ``vcs.*`` metadata, ``label:`` build arguments).
    ``label`` is set for a ``label:KEY`` argument: the value the build set for that key.
    ``until`` is set for ``created``: the build's finish time (``value`` is its start).
    """

    concept: str
    value: str
    tier: str
    path: str
    label: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class Document:
    """One provenance statement attached to a platform."""

    digest: str
    predicate_type: str
    statement_type: str = ""
    build_type: str = ""
    mode: str | None = None  # min / max for BuildKit; None when the builder has no modes
    subjects: tuple[str, ...] = ()  # subject digests (the first few)
    subject_count: int = 0
    subject_matches: bool = False
    claims: tuple[Claim, ...] = ()
    signature: str = "none"  # none / verified / unverified / invalid
    signed_by: str | None = None
    problem: str | None = None  # why it could not be read; then nothing else is known
    origin: str = "in-index"  # in-index, referrers, referrers-tag, cosign-att
    # the container images the build read (`materials` / `resolvedDependencies` with
    # `pkg:docker/` URIs): (purl, "sha256:<hex>"), the base image among them
    images: tuple[tuple[str, str], ...] = ()

    @property
    def usable(self) -> bool:
        return self.problem is None and self.subject_matches


@dataclass(frozen=True)
class LabelTier:
    """How strongly a label's value is backed, and by which document (its blob digest)."""

    tier: str
    document: str | None = None
    evidence: str | None = None


@dataclass(frozen=True)
class Provenance:
    """A platform's provenance: the documents, the predicates skipped, the tier per label."""

    present: bool
    documents: tuple[Document, ...] = ()
    skipped: tuple[str, ...] = ()
    note: str | None = None
    labels: Mapping[str, LabelTier] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))

    @property
    def best(self) -> Document | None:
        usable = [d for d in self.documents if d.usable]
        if not usable:
            return None
        return max(usable, key=lambda d: (d.signature == "verified", len(d.claims)))

    @property
    def tier(self) -> str:
        """The strongest tier any label reached (``label-only`` when none is backed)."""
        tiers = [t.tier for t in self.labels.values()] or ["label-only"]
        return max(tiers, key=rank)

    def tier_of(self, key: str) -> str:
        found = self.labels.get(key)
        return found.tier if found else "label-only"

    def summary(self) -> dict[str, object]:
        """The JSON report's ``provenance`` object for a platform."""
        best = self.best
        return {
            "present": self.present,
            "predicate_type": best.predicate_type if best else None,
            "mode": best.mode if best else None,
            "tier": self.tier,
            "signed_by": best.signed_by if best else None,
            "documents": [
                {
                    "digest": d.digest,
                    "predicate_type": d.predicate_type,
                    "build_type": d.build_type or None,
                    "mode": d.mode,
                    "signature": d.signature,
                    "subject_matches": d.subject_matches,
                    "origin": d.origin,
                    "problem": d.problem,
                }
                for d in self.documents
            ],
            "skipped": list(self.skipped),
            "note": self.note,
        }
