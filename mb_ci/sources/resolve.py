"""From the document a reference names to the platforms to check, for every transport alike.

``resolve`` descends image indexes, nested ones included (the image-spec's "image index with
multiple media types" example), selects platforms with ``--platform``, and reads each chosen
manifest and its config through the transport's ``fetch`` and ``read_config``. Nothing is
skipped silently: attestations, artifacts (signatures, SBOMs, Helm charts), entries that are not
images (the image-layout example's ``application/xml``), platforms not selected and, in an
archive, platforms whose blobs were not saved, are each listed in ``skipped``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from mb_ci.errors import ImageError
from mb_ci.models import Attestation, PlatformFacts
from mb_ci.sources import attestations, oci

T = TypeVar("T")
R = TypeVar("R")
MAX_DEPTH = 4  # an index of indexes of indexes is already more than any tool writes
MAX_ENTRIES = 1024  # descriptors read across all nested indexes

Fetch = Callable[[oci.Descriptor, str], bytes]
Map = Callable[[Callable[[T], R], Sequence[T]], Iterable[R]]


class Missing(ImageError):
    """A blob the index names is not there (``docker save`` keeps only the pulled platforms)."""


@dataclass(frozen=True)
class Resolved:
    platforms: tuple[PlatformFacts, ...]
    skipped: tuple[str, ...] = ()
    index_annotations: dict[str, str] | None = None


def resolve(
    doc: dict[str, Any],
    digest: str | None,
    media_type: str | None,
    what: str,
    wanted: tuple[str, ...],
    fetch: Fetch,
    read_config: Fetch,
    pmap: Map[Any, Any] = map,
) -> Resolved:
    """The platforms of the manifest or index ``doc``; raises ``ImageError`` with one line."""
    if not oci.is_index(doc, media_type):
        facts = oci.manifest_platform(doc, digest or "", None, what, read_config)
        if isinstance(facts, str):
            raise ImageError(
                f"{what}: not a container image ({facts}); name the image it belongs to"
            )
        if wanted and not any(oci.matches(p, facts.platform) for p in wanted):
            raise ImageError(
                f"{what}: the image is {facts.platform or 'of unknown platform'} only; "
                f"--platform {', '.join(wanted)} is not in it"
            )
        return Resolved((replace(facts, attestations=()),))
    leaves: list[oci.Descriptor] = []
    skipped: list[str] = []
    _collect(doc, what, fetch, leaves, skipped, 0, set())
    chosen, unselected = oci.select(leaves, wanted, what)
    skipped.extend(unselected)

    def one(entry: oci.Descriptor) -> PlatformFacts | str:
        sub = f"{what}: manifest {entry.digest}"
        try:
            data = fetch(entry, sub)
        except Missing:
            return f"{entry.digest} ({entry.platform or 'no platform'}, manifest not saved)"
        manifest = oci.load(data, sub)
        if oci.is_index(manifest, None):
            raise ImageError(f"{sub}: an index where the parent index names an image manifest")
        found = oci.manifest_platform(manifest, entry.digest, entry, sub, read_config)
        if isinstance(found, str):
            return f"{entry.digest} ({found}, not an image)"
        return _attested(found, leaves, sub, fetch, read_config)

    results = list(pmap(one, chosen))
    found = tuple(r for r in results if not isinstance(r, str))
    skipped.extend(r for r in results if isinstance(r, str))
    if not found:
        raise ImageError(f"{what}: no container image in the index ({'; '.join(skipped)})")
    return Resolved(found, tuple(skipped), oci.index_annotations(doc))


def _attested(
    facts: PlatformFacts,
    leaves: list[oci.Descriptor],
    what: str,
    fetch: Fetch,
    read_blob: Fetch,
) -> PlatformFacts:
    """``facts`` with the in-index attestations attached to its manifest (``()`` if none).

    An attestation that cannot be read is a problem of that attestation, never of the image.
    """
    found: list[Attestation] = []
    for entry in attestations.manifests_for(leaves, facts.digest or ""):
        try:
            found.extend(attestations.read(entry, facts.digest or "", what, fetch, read_blob))
        except ImageError as e:
            found.append(Attestation("", "", entry.media_type, entry.digest, problem=e.message))
    return replace(facts, attestations=tuple(found))


def _collect(
    index: dict[str, Any],
    what: str,
    fetch: Fetch,
    leaves: list[oci.Descriptor],
    skipped: list[str],
    depth: int,
    seen: set[str],
) -> None:
    """Image manifests under ``index``, descending nested indexes; the rest into ``skipped``."""
    for entry in oci.children(index, what):
        if len(seen) >= MAX_ENTRIES:
            raise ImageError(f"{what}: more than {MAX_ENTRIES} descriptors in nested indexes")
        if entry.digest in seen:  # one image under two names, or listed twice
            continue
        seen.add(entry.digest)
        if entry.media_type in oci.INDEX_TYPES and not entry.attestation:
            if depth + 1 >= MAX_DEPTH:
                raise ImageError(f"{what}: image indexes nested more than {MAX_DEPTH} deep")
            sub = f"{what}: index {entry.digest}"
            try:
                data = fetch(entry, sub)
            except Missing:
                skipped.append(f"{entry.digest} (index, not saved)")
                continue
            _collect(oci.load(data, sub), sub, fetch, leaves, skipped, depth + 1, seen)
        else:
            leaves.append(entry)
