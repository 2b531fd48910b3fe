"""Labels against the image's provenance: present, about this manifest, signed, and agreeing."""

from __future__ import annotations

from collections.abc import Mapping

from mb_ci import vocab
from mb_ci.checks.base import Findings
from mb_ci.models import PlatformFacts, Severity
from mb_ci.provenance.evaluate import agrees, claims_for
from mb_ci.provenance.model import rank

CHECK_OF = {
    "revision": "revision-matches-provenance",
    "source": "source-matches-provenance",
    "version": "version-matches-provenance",
    "created": "created-matches-provenance",
}


def check_provenance(platform: PlatformFacts, labels: Mapping[str, str], out: Findings) -> None:
    prov = platform.provenance
    policy = out.policy.provenance
    if prov is None or policy.mode == "off":
        return
    out.ran("provenance-present")
    if not prov.present:
        if policy.mode == "required":
            why = prov.note or "no SLSA provenance attestation is attached to this manifest"
            out.add("provenance-present", f"no provenance: {why}", provenance="missing")
    for doc in prov.documents:
        what = f"provenance {doc.digest}"
        if doc.problem is not None:
            out.add(
                "provenance-present",
                f"{what} cannot be read: {doc.problem}",
                provenance=doc.digest,
            )
            continue
        out.ran("provenance-subject")
        if not doc.subject_matches:
            shown = ", ".join(doc.subjects) or "none"
            more = f" (of {doc.subject_count})" if doc.subject_count > len(doc.subjects) else ""
            out.add(
                "provenance-subject",
                f"{what} is about another artifact: its subject digests are {shown}{more}",
                expected=platform.digest,
                actual=shown,
                provenance=doc.digest,
            )
            continue
        out.ran("provenance-signature")
        if doc.signature == "invalid":
            out.add(
                "provenance-signature",
                f"{what}: no key in provenance_keys verifies its DSSE signature",
                provenance=doc.digest,
            )
        elif doc.signature == "unverified":
            out.add(
                "provenance-signature",
                f"{what}: signature-unverified (keyless or no provenance_keys given); not signed",
                severity=Severity.WARNING,
                provenance=doc.digest,
            )
    _compare(platform, labels, out)


def _compare(platform: PlatformFacts, labels: Mapping[str, str], out: Findings) -> None:
    prov = platform.provenance
    assert prov is not None
    policy = out.policy.provenance
    skew = out.policy.git.clock_skew
    for key, value in sorted(labels.items()):
        concept = vocab.concept_of(key)
        if concept not in CHECK_OF:
            continue
        check = CHECK_OF[concept]
        out.ran(check)
        for doc in prov.documents:
            if not doc.usable:
                continue
            for claim in claims_for(key, doc):
                if agrees(key, value, claim, skew):
                    continue
                tier = "signed" if doc.signature == "verified" else claim.tier
                shown = claim.value if claim.concept != "created" else (claim.until or claim.value)
                verb = "finished at" if claim.concept == "created" else "says"
                out.add(
                    check,
                    f"{key} disagrees with the provenance: {claim.path} ({tier}) {verb} {shown}",
                    label=key,
                    expected=shown,
                    actual=value,
                    tier=tier,
                    provenance=doc.digest,
                )
        if policy.min_tier and concept in ("revision", "source"):
            tier = prov.tier_of(key)
            if rank(tier) < rank(policy.min_tier):
                out.add(
                    check,
                    f"{key} is {tier}, below provenance_min_tier {policy.min_tier}",
                    label=key,
                    expected=policy.min_tier,
                    actual=tier,
                    tier=tier,
                )
