"""The trust tier of each label, as every report format shows it (``mb_ci/provenance``)."""

from __future__ import annotations

from mb_ci.models import Finding, ImageFacts, PlatformFacts, Report


def platform_of(image: ImageFacts, name: str | None) -> PlatformFacts | None:
    if name is None:
        return image.platforms[0] if len(image.platforms) == 1 else None
    return next((p for p in image.platforms if p.platform == name), None)


def label_tiers(platform: PlatformFacts) -> dict[str, str] | None:
    """``{key: tier}`` for the platform's labels; ``None`` when provenance was not judged."""
    prov = platform.provenance
    if prov is None:
        return None
    return {key: prov.tier_of(key) for key in platform.labels}


def finding_tier(finding: Finding, report: Report) -> str | None:
    """The tier of the label a finding is about (a provenance finding names its own)."""
    if "tier" in finding.detail:
        return finding.detail["tier"]
    if report.image is None or finding.label is None:
        return None
    platform = platform_of(report.image, finding.platform)
    if platform is None or platform.provenance is None:
        return None
    return platform.provenance.tier_of(finding.label)


def describe(platform: PlatformFacts) -> str | None:
    """One line: what the platform's provenance is, or why there is none."""
    prov = platform.provenance
    if prov is None:
        return None
    best = prov.best
    if best is None:
        if prov.documents:
            return f"unusable ({len(prov.documents)} document(s); see the findings)"
        return f"none ({prov.note})" if prov.note else "none"
    parts = [best.predicate_type]
    if best.mode:
        parts.append(f"mode={best.mode}")
    if best.signed_by:
        parts.append(f"signed by {best.signed_by}")
    elif best.signature != "none":
        parts.append(f"signature {best.signature}")
    if len(prov.documents) > 1:
        parts.append(f"{len(prov.documents)} documents")
    if prov.skipped:
        parts.append(f"skipped {len(prov.skipped)} other attestation(s)")
    return f"{', '.join(parts)}; tier {prov.tier}"
