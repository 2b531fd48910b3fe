"""OCI and Docker manifest parsing shared by the registry and archive sources.

Media types, descriptor validation, digest verification, platform selection in an image index
(attestation manifests skipped) and turning a manifest plus its config into ``PlatformFacts``.
Nothing here does I/O: the callers fetch bytes, these functions judge them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mb_ci.errors import ImageError, UsageError
from mb_ci.models import Layer, PlatformFacts

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
# Every type a registry may answer with; the order is the preference the registry sees.
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

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
        raise ImageError(f"{what}: expected a JSON object")
    return doc


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def platform_name(os_: Any, arch: Any, variant: Any = None) -> str | None:
    parts = [str(p) for p in (os_, arch, variant) if p]
    return "/".join(parts) if len(parts) >= 2 else None


def descriptor(raw: Any, what: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise ImageError(f"{what}: a descriptor is not an object")
    digest, size = raw.get("digest"), raw.get("size")
    if not isinstance(digest, str) or not valid_digest(digest):
        raise ImageError(f"{what}: bad descriptor digest {str(digest)[:80]!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ImageError(f"{what}: descriptor {digest} has no valid size")
    plat = raw.get("platform")
    name = None
    if isinstance(plat, dict):
        name = platform_name(plat.get("os"), plat.get("architecture"), plat.get("variant"))
    return Descriptor(
        str(raw.get("mediaType") or ""), digest, size, name, _strings(raw.get("annotations"))
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
    entries = index.get("manifests")
    if not isinstance(entries, list):
        raise ImageError(f"{what}: an image index without 'manifests'")
    return [descriptor(e, what) for e in entries]


def normalize_platform(name: str) -> tuple[str, str, str]:
    parts = name.strip().lower().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"--platform {name}: expected OS/ARCH[/VARIANT], e.g. linux/arm64")
    os_, arch = parts[0], parts[1]
    variant = parts[2] if len(parts) == 3 else ""
    if arch == "arm64" and variant == "v8":  # containerd's normalisation: v8 is arm64's default
        variant = ""
    return os_, arch, variant


def matches(wanted: str, actual: str | None) -> bool:
    if not actual:
        return False
    w_os, w_arch, w_variant = normalize_platform(wanted)
    try:
        a_os, a_arch, a_variant = normalize_platform(actual)
    except UsageError:
        return False
    return (w_os, w_arch) == (a_os, a_arch) and (not w_variant or w_variant == a_variant)


def select(
    entries: list[Descriptor], platforms: tuple[str, ...], what: str
) -> tuple[list[Descriptor], list[str]]:
    """The platform manifests to check and the names of the ones skipped (attestations, etc.)."""
    chosen: list[Descriptor] = []
    skipped: list[str] = []
    for entry in entries:
        if entry.attestation:
            skipped.append(f"{entry.digest} (attestation manifest)")
        elif entry.media_type and entry.media_type not in MANIFEST_TYPES:
            skipped.append(f"{entry.digest} ({entry.media_type})")
        elif platforms and not any(matches(p, entry.platform) for p in platforms):
            skipped.append(f"{entry.digest} ({entry.platform or 'no platform'}, not selected)")
        else:
            chosen.append(entry)
    if len(chosen) > MAX_PLATFORMS:
        raise ImageError(
            f"{what}: the index lists {len(chosen)} platforms, more than {MAX_PLATFORMS}; "
            "pick some with --platform"
        )
    if not chosen:
        have = ", ".join(e.platform or e.digest for e in entries if not e.attestation) or "none"
        wanted = ", ".join(platforms) if platforms else "any image manifest"
        raise ImageError(f"{what}: no platform matches {wanted} (the index has: {have})")
    return chosen, skipped


def config_descriptor(manifest: Mapping[str, Any], what: str) -> Descriptor:
    if manifest.get("schemaVersion") == 1:
        raise ImageError(f"{what}: schema 1 manifests are not supported (re-push the image)")
    return descriptor(manifest.get("config"), f"{what} config")


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
) -> PlatformFacts:
    """``PlatformFacts`` from an image config (``config.Labels``) and its manifest's facts."""
    inner = config.get("config") or {}  # never container_config: that is the build container
    labels = _strings(inner.get("Labels") if isinstance(inner, dict) else None)
    os_, arch, variant = config.get("os"), config.get("architecture"), config.get("variant")
    # The index's name for a platform is what --platform selects by, so it names findings.
    name = index_platform or platform_name(os_, arch, variant)
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
    )


def manifest_annotations(manifest: Mapping[str, Any]) -> dict[str, str]:
    return _strings(manifest.get("annotations"))


def index_annotations(index: Mapping[str, Any]) -> dict[str, str]:
    return _strings(index.get("annotations"))


def manifest_platform(
    manifest: dict[str, Any],
    digest: str,
    entry: Descriptor | None,
    what: str,
    read_config: Callable[[Descriptor], Mapping[str, Any]],
) -> PlatformFacts:
    """``PlatformFacts`` for one image manifest; ``read_config`` fetches and verifies its config."""
    desc = config_descriptor(manifest, what)
    return platform_facts(
        read_config(desc),
        digest=digest,
        config_digest=desc.digest,
        annotations=manifest_annotations(manifest),
        layer_list=layers(manifest),
        index_platform=entry.platform if entry else None,
    )
