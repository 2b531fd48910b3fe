"""BuildKit's in-index attestation manifests: find a platform's provenance without any layer.

https://github.com/moby/buildkit/blob/master/docs/attestations/attestation-storage.md: an index
entry annotated ``vnd.docker.reference.type: attestation-manifest`` and
``vnd.docker.reference.digest: <platform manifest digest>`` names a manifest whose layers are
in-toto statements, each annotated with its ``in-toto.io/predicate-type``. Two shapes: the older
image-like manifest (platform ``unknown/unknown``, an image config) and the OCI-artifact form
(``artifactType: application/vnd.docker.attestation.manifest.v1+json``, a ``subject``, the empty
config) that BuildKit writes by default from v0.32.

Only the layers whose predicate type is a provenance are fetched: one manifest and one blob per
platform, both content-addressed, so the transports' digest caches fetch each once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from mb_ci.errors import ImageError
from mb_ci.models import Attestation
from mb_ci.sources import oci, shapes

REF_TYPE = "vnd.docker.reference.type"
# where a layer names its predicate: BuildKit, cosign's bundles in referrers, cosign's .att tag
PREDICATE_KEYS = ("in-toto.io/predicate-type", "dev.sigstore.bundle.predicateType", "predicateType")
# referrers (API or tag schema) that may hold provenance
REFERRER_TYPES = (
    "application/vnd.docker.attestation.manifest.v1+json",
    "application/vnd.in-toto+json",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
)
REF_DIGEST = "vnd.docker.reference.digest"
PREDICATE_KEY = "in-toto.io/predicate-type"
ARTIFACT_TYPE = "application/vnd.docker.attestation.manifest.v1+json"
# the predicate types fetched; any other layer is listed and skipped
PROVENANCE_TYPES = (
    "https://slsa.dev/provenance/v0.2",
    "https://slsa.dev/provenance/v1",
    "https://slsa.dev/provenance/v1.0",
    "https://slsa.dev/provenance/v1.1",
)
MAX_LAYERS = 64  # BuildKit writes one layer per attestation: provenance plus a few SBOMs
MAX_ATTESTATION = oci.MAX_DOCUMENT

Fetch = Callable[[oci.Descriptor, str], bytes]


def manifests_for(entries: Sequence[oci.Descriptor], subject: str) -> list[oci.Descriptor]:
    """The attestation manifests an index's entries attach to the manifest ``subject``."""
    return [
        e
        for e in entries
        if (e.annotations or {}).get(REF_TYPE) == "attestation-manifest"
        and (e.annotations or {}).get(REF_DIGEST) == subject
    ]


def read(
    entry: oci.Descriptor,
    subject: str,
    what: str,
    fetch_manifest: Fetch,
    fetch_blob: Fetch,
    origin: str = "in-index",
) -> tuple[Attestation, ...]:
    """The attestations one attestation manifest holds; provenance layers fetched, the rest
    listed with ``body=None``. A manifest of the wrong shape raises one ``ImageError`` line."""
    sub = f"{what}: attestation manifest {entry.digest}"
    manifest = oci.load(fetch_manifest(entry, sub), sub)
    return from_manifest(manifest, entry.digest, subject, sub, fetch_blob, origin)


def from_manifest(
    manifest: dict[str, object],
    digest: str,
    subject: str,
    sub: str,
    fetch_blob: Fetch,
    origin: str,
) -> tuple[Attestation, ...]:
    """As :func:`read`, for a manifest already fetched (cosign's ``.att`` tag)."""
    shapes.manifest(manifest, sub)
    declared = manifest.get("subject")
    if isinstance(declared, dict):
        target = oci.descriptor(declared, sub, "subject")
        if target.digest != subject:
            raise ImageError(
                f"{sub}: `subject.digest` is {target.digest}, but the index attaches it to "
                f"{subject}"
            )
    raw_layers = manifest.get("layers") or []
    if not isinstance(raw_layers, list):
        raise ImageError(f"{sub}: `layers` is not a list")
    if len(raw_layers) > MAX_LAYERS:
        raise ImageError(f"{sub}: more than {MAX_LAYERS} attestation layers")
    out: list[Attestation] = []
    for i, raw in enumerate(raw_layers):
        layer = oci.descriptor(raw, sub, f"layers[{i}]")
        notes = layer.annotations or {}
        kind = next((notes[k] for k in PREDICATE_KEYS if notes.get(k)), "")
        found = Attestation(layer.digest, kind, layer.media_type, digest, origin)
        if kind not in PROVENANCE_TYPES:
            out.append(found)  # an SBOM or another predicate: named, never fetched
            continue
        if layer.size > MAX_ATTESTATION:
            problem = (
                f"attestation layer {layer.digest} of {layer.size} bytes is larger than "
                f"{MAX_ATTESTATION // (1024 * 1024)} MiB; not read"
            )
            out.append(replace(found, problem=problem))
            continue
        body = fetch_blob(layer, f"{sub}: layer {layer.digest}")
        out.append(replace(found, body=body))
    return tuple(out)
