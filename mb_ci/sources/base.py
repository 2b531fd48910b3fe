"""Find and read the base image each platform was built ``FROM``, for ``label-inherited``.

The candidates, in order, the first that can be read and whose layers the image starts with:

1. the manifest's (or index's) ``org.opencontainers.image.base.name`` and ``.base.digest``
   annotations (buildah and ``docker buildx --annotation`` write them; BuildKit does not on its
   own, moby/buildkit#6202);
2. provenance materials (``materials`` / ``resolvedDependencies`` with ``pkg:docker/`` URIs,
   :func:`from_provenance`), each pinned by the digest the builder resolved, between 1 and 3
   (see :func:`candidates`, argument ``provenance``);
3. the final stage's ``FROM`` of the Dockerfile given with ``--dockerfile``, ARGs resolved;
4. ``--base REF``, any transport.

"Starts with" means the base's ``rootfs.diff_ids`` are a prefix of the image's. Each lookup is
memoised per reference and platform, failures included: many images on one base cost one read.
A base on another registry is read with that registry's own credentials (the Docker config and
its helpers), never with ``--username``/``--password-stdin``, which belong to the image's
registry; plain HTTP only for loopback and ``--insecure-registry`` hosts, as for any image.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mb_ci.errors import MbCiError
from mb_ci.models import BaseImage, ImageFacts, PlatformFacts
from mb_ci.safety import has_credentials, printable, redact
from mb_ci.sources.memo import Memo
from mb_ci.sources.options import SourceOptions

BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"
_DIGEST = re.compile(r"^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")
_MEMO = Memo()


@dataclass(frozen=True)
class Candidate:
    """One place a base may be read from: ``lookups`` are the references tried in turn."""

    reference: str
    how: str
    lookups: tuple[str, ...] = ()
    problem: str | None = None  # why it is not looked up at all (a credential, a bad digest)


def _name_only(name: str) -> str:
    """``host/repo:tag@digest`` without the tag and digest."""
    name = name.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _from_annotations(image: ImageFacts, platform: PlatformFacts) -> Candidate | None:
    notes = {**image.index_annotations, **platform.annotations}
    name, digest = notes.get(BASE_NAME), notes.get(BASE_DIGEST)
    if not name:
        return None
    userinfo = "@" in name.split("/", 1)[0]  # `user:secret@host/repo`: never sent anywhere
    shown = printable(redact(name.split("@", 1)[1] if userinfo else name), 200)
    if has_credentials(name) or "://" in name or userinfo:
        return Candidate(
            shown,
            "annotation",
            problem=f"{BASE_NAME} {shown} holds a credential or "
            "a URL scheme, not an image reference; it is not looked up",
        )
    from mb_ci.values import is_image_ref

    if not is_image_ref(name):
        return Candidate(
            shown, "annotation", problem=f"{BASE_NAME} {shown} is not an image reference"
        )
    if digest is not None and not _DIGEST.match(digest):
        return Candidate(
            shown,
            "annotation",
            problem=f"{BASE_DIGEST} {printable(digest, 100)} "
            "is not a sha256 or sha512 digest; the base is not looked up",
        )
    ref = f"{_name_only(name)}@{digest}" if digest else name
    lookups: tuple[str, ...] = (f"docker://{ref}",)
    if image.transport == "docker-daemon":
        lookups = (ref, *lookups)
    return Candidate(ref, "annotation", lookups)


def _from_dockerfile(image: ImageFacts, base: str) -> Candidate:
    shown = printable(redact(base), 200)
    from mb_ci.values import is_image_ref

    if has_credentials(base) or not is_image_ref(base):
        return Candidate(
            shown,
            "dockerfile",
            problem=f"the Dockerfile's FROM {shown} is not an image reference mb-ci can look up",
        )
    lookups: tuple[str, ...] = (f"docker://{base}",)
    if image.transport == "docker-daemon":
        lookups = (base, *lookups)
    return Candidate(base, "dockerfile", lookups)


# images BuildKit runs to build, never to start from: Dockerfile frontends, the SBOM scanner
BUILD_TOOLS = frozenset(
    {
        "docker/dockerfile",
        "docker/dockerfile-upstream",
        "docker/buildkit-syft-scanner",
        "moby/buildkit",
    }
)


def from_provenance(images: tuple[tuple[str, str], ...]) -> tuple[Candidate, ...]:
    """Base candidates from a provenance's ``pkg:docker/`` materials: ``(purl, digest)`` pairs
    (``pkg:docker/golang@1.19.4-alpine?platform=linux%2Farm64``, ``sha256:…``), looked up by
    digest. The build's other images (the Dockerfile frontend, scanners) are candidates too;
    the diff_id prefix rule keeps only the image the build really started from, and BuildKit's
    own frontends and scanners, which no image is built FROM, are not looked up."""
    from urllib.parse import parse_qs, unquote, urlsplit

    from mb_ci.values import is_image_ref

    out: list[Candidate] = []
    for purl, digest in images:
        rest = purl.removeprefix("pkg:docker/")
        path, _, query = rest.partition("?")
        name = unquote(path.rsplit("@", 1)[0]).strip("/")
        registry = (parse_qs(query).get("repository_url") or [""])[0]
        if registry:
            host = urlsplit(registry if "://" in registry else f"//{registry}").netloc
            name = f"{host}/{name}" if host and not name.startswith(host + "/") else name
        ref = f"{name}@{digest}"
        if name.removeprefix("docker.io/") in BUILD_TOOLS:
            continue
        if not name or has_credentials(ref) or not is_image_ref(ref):
            continue
        out.append(Candidate(ref, "provenance", (f"docker://{ref}",)))
    return tuple(out)


def candidates(
    image: ImageFacts,
    platform: PlatformFacts,
    dockerfile_base: str | None,
    option_base: str | None,
    provenance: tuple[Candidate, ...] = (),
) -> list[Candidate]:
    found: list[Candidate] = []
    annotated = _from_annotations(image, platform)
    if annotated is not None:
        found.append(annotated)
    found.extend(provenance)
    if dockerfile_base:
        found.append(_from_dockerfile(image, dockerfile_base))
    if option_base:
        found.append(Candidate(option_base, "option", (option_base,)))
    return found


def _read(ref: str, platform: str | None, options: SourceOptions) -> ImageFacts | str:
    """The base's facts, or one line saying why they could not be read (memoised)."""
    from mb_ci import sources

    def compute() -> ImageFacts | str:
        try:
            return sources.inspect(
                ref, dataclasses.replace(options, platforms=(platform,) if platform else ())
            )
        except MbCiError as e:
            return printable(redact(str(e).splitlines()[0] if str(e) else type(e).__name__), 300)

    return _MEMO.get((ref, platform, options.insecure_registries, options.ca_file), compute)


def _starts_with(image: PlatformFacts, base: PlatformFacts) -> bool | None:
    """Whether the image's layers begin with the base's; None when either does not say."""
    if image.diff_ids is None or base.diff_ids is None:
        return None
    n = len(base.diff_ids)
    return n <= len(image.diff_ids) and image.diff_ids[:n] == base.diff_ids


def find(
    image: ImageFacts,
    options: SourceOptions,
    dockerfile_base: str | None = None,
    option_base: str | None = None,
    provenance: Mapping[str | None, tuple[Candidate, ...]] | None = None,
) -> dict[str | None, BaseImage]:
    """Each platform's base (by platform name), or a ``BaseImage`` whose ``note`` says why none
    could be read. Platforms with no candidate at all are left out.

    ``provenance``: per platform name, the base candidates a provenance reader found in the
    attestation's materials (``Candidate(ref, "provenance", ("docker://REF@DIGEST",))``); they
    are tried after the annotations and before the Dockerfile, verified like the others."""
    # the image's registry credentials are not the base registry's
    own = dataclasses.replace(options, username=None, password=None)
    bases: dict[str | None, BaseImage] = {}
    for platform in image.platforms:
        notes: list[str] = []
        found: BaseImage | None = None
        from_provenance = (provenance or {}).get(platform.platform, ())
        for cand in candidates(image, platform, dockerfile_base, option_base, from_provenance):
            if cand.problem:
                notes.append(cand.problem)
                continue
            for ref in cand.lookups:
                read = _read(ref, platform.platform, own)
                if isinstance(read, str):
                    notes.append(f"{cand.how} base {printable(redact(ref), 200)}: {read}")
                    continue
                if not read.platforms:
                    notes.append(f"{cand.how} base {ref}: no image for {platform.name}")
                    continue
                base = read.platforms[0]
                starts = _starts_with(platform, base)
                if starts is False:
                    notes.append(
                        f"{cand.how} base {printable(redact(ref), 200)}: its layers are not the "
                        "first layers of the image, so the image was not built from it"
                    )
                    break  # the same image by another road would not start it either
                found = BaseImage(
                    reference=ref,
                    how=cand.how,
                    labels=base.labels,
                    history_length=base.history_length,
                    digest=base.digest or read.digest,
                )
                break
            if found is not None:
                break
        if found is not None:
            bases[platform.platform] = found
        elif notes:
            bases[platform.platform] = BaseImage(
                reference="", how="", note="; ".join(dict.fromkeys(notes))
            )
    return bases
