"""OCI and Docker manifest parsing shared by the registry and archive sources.

Media types, descriptor validation, digest verification, platform selection among an index's
entries (attestations, artifacts and non-image entries skipped, each with a note), telling an
artifact from an image, and turning a manifest plus its config (or a schema 1 manifest's
``v1Compatibility``) into ``PlatformFacts``, every document's shape checked first
(``shapes.py``). Nothing here does I/O: the callers fetch bytes, these functions judge them;
``resolve.py`` walks indexes with them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mb_ci.errors import ImageError
from mb_ci.models import MAX_HISTORY, MAX_HISTORY_TEXT, Layer, PlatformFacts
from mb_ci.sources import platforms as _platforms
from mb_ci.sources import shapes

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
SCHEMA1_TYPES = (
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
# https://github.com/opencontainers/image-spec/blob/main/manifest.md#guidelines-for-artifact-usage:
# a manifest whose config is not one of these is an artifact (Helm chart, SBOM, signature ...)
IMAGE_CONFIG_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)
IMAGE_LAYER_PREFIXES = ("application/vnd.oci.image.layer.", "application/vnd.docker.image.rootfs.")
# Every type a registry may answer with; the order is the preference the registry sees.
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST, *SCHEMA1_TYPES))

MAX_DOCUMENT = 4 * 1024 * 1024  # manifests, indexes and configs are KiB; 4 MiB is generous
MAX_PLATFORMS = 64  # real indexes list a handful; thousands would mean thousands of requests
ATTESTATION_KEY = "vnd.docker.reference.type"
REF_NAME = "org.opencontainers.image.ref.name"

# https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")


@dataclass(frozen=True)
class Descriptor:
    """A validated content descriptor: what to fetch next and how to check it."""

    media_type: str
    digest: str
    size: int
    platform: str | None = None
    annotations: Mapping[str, str] | None = None
    artifact_type: str | None = None

    @property
    def attestation(self) -> bool:
        notes = self.annotations or {}
        return self.platform == "unknown/unknown" or (
            notes.get(ATTESTATION_KEY) == "attestation-manifest"
        )


def valid_digest(digest: str) -> bool:
    return bool(_DIGEST.match(digest))


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify(data: bytes, digest: str, what: str) -> None:
    """Raise unless ``data`` hashes to ``digest`` (the content-addressing promise)."""
    algorithm = digest.split(":", 1)[0]
    actual = digest_of(data, algorithm)
    if actual != digest:
        raise ImageError(f"{what}: digest mismatch: expected {digest}, got {actual}")


def json_any(data: bytes, what: str) -> Any:
    """Parse bounded JSON of any shape, or raise one line naming ``what``."""
    if len(data) > MAX_DOCUMENT:
        raise ImageError(f"{what}: larger than {MAX_DOCUMENT // (1024 * 1024)} MiB")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise ImageError(f"{what}: not valid JSON ({type(e).__name__})") from e


def load(data: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object, or raise one line naming ``what``."""
    doc = json_any(data, what)
    if not isinstance(doc, dict):
        raise ImageError(f"{what}: the document is {shapes.kind(doc)}, expected a JSON object")
    return doc


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def platform_name(os_: Any, arch: Any, variant: Any = None) -> str | None:
    parts = [str(p) for p in (os_, arch, variant) if p]
    return "/".join(parts) if len(parts) >= 2 else None


def descriptor(raw: Any, what: str, path: str = "descriptor") -> Descriptor:
    if not isinstance(raw, dict):
        raise ImageError(f"{what}: `{path}` is {shapes.kind(raw)}, expected an object")
    shapes.descriptor(raw, what, path)
    digest, size = raw.get("digest"), raw.get("size")
    if not isinstance(digest, str) or not valid_digest(digest):
        raise ImageError(f"{what}: `{path}.digest`: bad descriptor digest {str(digest)[:80]!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ImageError(f"{what}: `{path}.size`: descriptor {digest} has no valid size")
    plat = raw.get("platform")
    name = None
    if isinstance(plat, dict):
        name = platform_name(plat.get("os"), plat.get("architecture"), plat.get("variant"))
    return Descriptor(
        str(raw.get("mediaType") or ""),
        digest,
        size,
        name,
        _strings(raw.get("annotations")),
        raw.get("artifactType") or None,
    )


def media_type(doc: Mapping[str, Any], header: str | None = None) -> str:
    """The document's own ``mediaType``, else the transport's, else guessed from its shape."""
    declared = doc.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    if header:
        return header.split(";", 1)[0].strip()
    return OCI_INDEX if "manifests" in doc else OCI_MANIFEST


def is_index(doc: Mapping[str, Any], header: str | None = None) -> bool:
    return media_type(doc, header) in INDEX_TYPES or (
        "manifests" in doc and "config" not in doc and "layers" not in doc
    )


def children(index: Mapping[str, Any], what: str) -> list[Descriptor]:
    """The index's descriptors; ``manifests: null`` (``docker save`` 25.0.0 by id) is none."""
    shapes.index(index, what)
    entries = index.get("manifests") or []
    return [descriptor(e, what, f"manifests[{i}]") for i, e in enumerate(entries)]


def matches(wanted: str, actual: str | None) -> bool:
    return _platforms.matches(wanted, actual)


def select(
    entries: list[Descriptor], platforms: tuple[str, ...], what: str
) -> tuple[list[Descriptor], list[str]]:
    """The platform manifests to check and the names of the ones skipped (attestations, etc.)."""
    candidates: list[Descriptor] = []
    skipped: list[str] = []
    for entry in entries:
        if entry.attestation:
            skipped.append(f"{entry.digest} (attestation manifest)")
        elif entry.artifact_type:
            skipped.append(f"{entry.digest} (artifact {entry.artifact_type}, not an image)")
        elif entry.media_type and entry.media_type not in (*MANIFEST_TYPES, *SCHEMA1_TYPES):
            skipped.append(f"{entry.digest} ({entry.media_type}, not an image)")
        else:
            candidates.append(entry)
    chosen = _platforms.choose(platforms, [(e.platform, e) for e in candidates])
    for entry in candidates:
        if not any(entry is c for c in chosen):
            skipped.append(f"{entry.digest} ({entry.platform or 'no platform'}, not selected)")
    if len(chosen) > MAX_PLATFORMS:
        raise ImageError(
            f"{what}: the index lists {len(chosen)} platforms, more than {MAX_PLATFORMS}; "
            "pick some with --platform"
        )
    if not candidates:
        raise ImageError(
            f"{what}: no container image in the index ({'; '.join(skipped) or 'empty'})"
        )
    if not chosen:
        have = ", ".join(e.platform or e.digest for e in candidates) or "no image"
        wanted = ", ".join(platforms) if platforms else "any image manifest"
        raise ImageError(f"{what}: no platform matches {wanted} (the index has: {have})")
    return chosen, skipped


def config_descriptor(manifest: Mapping[str, Any], what: str) -> Descriptor:
    return descriptor(manifest.get("config"), what, "config")


def artifact_reason(manifest: Mapping[str, Any]) -> str | None:
    """Why a (shape-checked) manifest is an artifact rather than a container image, or ``None``.

    The image-spec's artifact guidance: an ``artifactType``, or a config media type that is not
    an image config (Helm's ``application/vnd.cncf.helm.config.v1+json``, the empty config
    ``application/vnd.oci.empty.v1+json`` ...); and, for cosign's signatures, which carry an
    image config, layers none of which is a filesystem layer.
    """
    if manifest.get("artifactType"):
        return f"artifact {manifest['artifactType']}"
    config_type = (manifest.get("config") or {}).get("mediaType") or ""
    if config_type and config_type not in IMAGE_CONFIG_TYPES:
        return f"artifact with config {config_type}"
    types = [str(layer.get("mediaType") or "") for layer in manifest.get("layers") or []]
    if types and all(t and not t.startswith(IMAGE_LAYER_PREFIXES) for t in types):
        return f"artifact with layers {types[0]}"
    return None


def layers(manifest: Mapping[str, Any]) -> tuple[Layer, ...]:
    out = []
    for raw in manifest.get("layers") or []:
        if isinstance(raw, dict) and isinstance(raw.get("size"), int):
            out.append(
                Layer(str(raw.get("digest", "")), raw["size"], str(raw.get("mediaType", "")))
            )
    return tuple(out)


def platform_facts(
    config: Mapping[str, Any],
    *,
    digest: str | None,
    config_digest: str | None,
    annotations: Mapping[str, str] | None = None,
    layer_list: tuple[Layer, ...] | None = None,
    index_platform: str | None = None,
    config_size: int | None = None,
) -> PlatformFacts:
    """``PlatformFacts`` from an image config (``config.Labels``) and its manifest's facts."""
    inner = config.get("config") or {}  # never container_config: that is the build container
    labels = _strings(inner.get("Labels") if isinstance(inner, dict) else None)
    os_, arch, variant = config.get("os"), config.get("architecture"), config.get("variant")
    # The index's name for a platform is what --platform selects by, so it names findings.
    name = index_platform or platform_name(os_, arch, variant)
    diff_ids, history, length = lineage(config)
    return PlatformFacts(
        name,
        labels,
        dict(annotations or {}),
        digest,
        config_digest,
        layer_list,
        os=str(os_) if os_ else None,
        architecture=str(arch) if arch else None,
        variant=str(variant) if variant else None,
        config_size=config_size,
        diff_ids=diff_ids,
        history=history,
        history_length=length,
    )


def lineage(
    config: Mapping[str, Any],
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, int | None]:
    """The config's ``rootfs.diff_ids`` and ``history[].created_by`` (bounded), and the
    history's length: what tells which layers and LABEL steps an image shares with its base."""
    rootfs = config.get("rootfs")
    raw_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    diff_ids = (
        tuple(d for d in raw_ids if isinstance(d, str)) if isinstance(raw_ids, list) else None
    )
    raw = config.get("history")
    if not isinstance(raw, list):
        return diff_ids, None, None
    if len(raw) > MAX_HISTORY:
        return diff_ids, None, len(raw)
    history = tuple(
        str(entry.get("created_by") or "")[:MAX_HISTORY_TEXT] if isinstance(entry, dict) else ""
        for entry in raw
    )
    return diff_ids, history, len(history)


def manifest_annotations(manifest: Mapping[str, Any]) -> dict[str, str]:
    return _strings(manifest.get("annotations"))


def index_annotations(index: Mapping[str, Any]) -> dict[str, str]:
    return _strings(index.get("annotations"))


def schema1_platform(manifest: Mapping[str, Any], digest: str, what: str) -> PlatformFacts:
    """A Docker schema 1 manifest: labels from ``history[0].v1Compatibility``, the newest layer's
    config (schema 1 has no config blob; the top entry is the image's own config)."""
    compat = load(shapes.schema1(manifest, what).encode(), f"{what} history[0].v1Compatibility")
    shapes.config(compat, f"{what} history[0].v1Compatibility")
    if not compat.get("architecture") and isinstance(manifest.get("architecture"), str):
        compat = {**compat, "architecture": manifest["architecture"]}
    return platform_facts(compat, digest=digest, config_digest=None)


def manifest_platform(
    manifest: dict[str, Any],
    digest: str,
    entry: Descriptor | None,
    what: str,
    read_config: Callable[[Descriptor, str], bytes],
) -> PlatformFacts | str:
    """``PlatformFacts`` for one image manifest, or why it is not an image (an artifact).

    ``read_config(descriptor, what)`` fetches the config blob and verifies its digest.
    """
    if manifest.get("schemaVersion") == 1:
        return schema1_platform(manifest, digest, what)
    shapes.manifest(manifest, what)
    reason = artifact_reason(manifest)
    if reason:
        return reason
    desc = config_descriptor(manifest, what)
    config_what = f"{what}: config {desc.digest}"
    if desc.size > MAX_DOCUMENT:
        raise ImageError(f"{config_what}: larger than {MAX_DOCUMENT // (1024 * 1024)} MiB")
    config = load(read_config(desc, config_what), config_what)
    shapes.config(config, config_what)
    return platform_facts(
        config,
        digest=digest,
        config_digest=desc.digest,
        annotations=manifest_annotations(manifest),
        layer_list=layers(manifest),
        index_platform=entry.platform if entry else None,
        config_size=desc.size,
    )
