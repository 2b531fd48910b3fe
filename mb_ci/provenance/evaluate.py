"""Judge a platform's attestations: parse each accepted provenance, check its signature, and give
every label the strongest tier that backs its value (``signed`` > ``builder-verified`` >
``builder-hint`` > ``label-only``). Pure: keys arrive parsed, nothing is read here."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from mb_ci import values, vocab
from mb_ci.facts import urls
from mb_ci.models import PlatformFacts
from mb_ci.provenance import parse
from mb_ci.provenance.model import Claim, Document, LabelTier, Provenance, rank
from mb_ci.provenance.verify import Key, signer

CANNOT_CARRY = (
    "the {transport} source cannot carry attestations (the engine's classic image store and "
    "docker save keep none); check the pushed image as docker://REGISTRY/NAME@DIGEST or an "
    "OCI layout written by buildx --output type=oci"
)
_REF = re.compile(r"(@refs/.*|#.*)$")


def evaluate(
    platform: PlatformFacts,
    labels: Mapping[str, str],
    transport: str,
    accepted: Sequence[str],
    keys: Sequence[Key] = (),
    skew: int = 300,
) -> Provenance:
    if platform.attestations is None:
        return Provenance(False, note=CANNOT_CARRY.format(transport=transport))
    documents: list[Document] = []
    skipped: list[str] = []
    for att in platform.attestations:
        if att.predicate_type not in accepted or (att.body is None and att.problem is None):
            skipped.append(f"{att.predicate_type or att.media_type or 'unknown'} {att.digest}")
            continue
        if att.body is None:
            documents.append(
                Document(
                    att.digest or att.manifest,
                    att.predicate_type,
                    problem=att.problem,
                    origin=att.origin,
                )
            )
            continue
        doc, envelope = parse.read(att.digest, att.predicate_type, att.body, platform.digest or "")
        doc = replace(doc, origin=att.origin)
        if envelope is not None and doc.problem is None:
            doc = _signature(doc, envelope, keys)
        documents.append(doc)
    tiers = {key: _tier(key, value, documents, skew) for key, value in sorted(labels.items())}
    return Provenance(bool(documents), tuple(documents), tuple(skipped), None, tiers)


def _signature(doc: Document, envelope: parse.Envelope, keys: Sequence[Key]) -> Document:
    if not envelope.signatures:
        return doc
    if keys:
        name = signer(envelope, keys)
        if name is not None:
            return replace(doc, signature="verified", signed_by=name)
        return replace(doc, signature="invalid")
    return replace(doc, signature="unverified")


def claims_for(key: str, doc: Document) -> list[Claim]:
    """The claims of ``doc`` about the label ``key``: its ``label:`` argument, and the
    concept's (revision, source, version, created) evidence."""
    concept = vocab.concept_of(key)
    return [
        c
        for c in doc.claims
        if c.label == key or (c.label is None and concept is not None and c.concept == concept)
    ]


def agrees(key: str, value: str, claim: Claim, skew: int = 300) -> bool:
    """Whether the label's ``value`` is what ``claim`` says (spellings normalised)."""
    concept = vocab.concept_of(key) if claim.label is None else None
    value = value.strip()
    if concept == "revision":
        a, b = value.lower().removesuffix("-dirty"), claim.value.lower().removesuffix("-dirty")
        short, long_ = sorted((a, b), key=len)
        return short == long_ or (len(short) >= 7 and long_.startswith(short))
    if concept == "source":
        a, b = _repo(value), _repo(claim.value)
        return a == b or urls.same_repo(a, b)
    if concept == "version":
        return value.removeprefix("v") == claim.value.removeprefix("v")
    if concept == "created":
        label = values.parse_rfc3339(value)
        bound = values.parse_rfc3339(claim.until or claim.value)
        if label is None or bound is None:
            return False
        # an image cannot be created after its build finished; earlier is a reproducible
        # build's SOURCE_DATE_EPOCH or the commit time, which the builder does not know
        return (label - bound).total_seconds() <= skew
    return value == claim.value


def _repo(url: str) -> str:
    """``git+https://host/o/r@refs/heads/main`` and ``…/r.git#ref`` name the repository."""
    return _REF.sub("", url.strip().removeprefix("git+"))


def _tier(key: str, value: str, documents: Sequence[Document], skew: int) -> LabelTier:
    best = LabelTier("label-only")
    for doc in documents:
        if not doc.usable:
            continue
        for claim in claims_for(key, doc):
            if not agrees(key, value, claim, skew):
                continue
            tier = "signed" if doc.signature == "verified" else claim.tier
            if rank(tier) > rank(best.tier):
                best = LabelTier(tier, doc.digest, claim.path)
    return best
