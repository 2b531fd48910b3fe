"""Read labels and annotations from a registry over the OCI distribution API, never the layers.

Entry points:

- ``inspect(ref, options) -> ImageFacts``: what ``mb-ci check docker://REF`` calls.
- ``RegistryClient(options)``: share one across many references and threads (``mb-ci audit``).
  ``client.inspect(ref)``, ``client.list_tags(repo)``, ``client.request_count`` (every HTTP
  request sent, retries, redirects and token requests included) and ``client.close()``.
  Manifests and config blobs are cached by digest and each is fetched once, even when threads
  ask at the same time; bearer tokens are cached per (realm, service, scope, credentials) until
  they expire; a registry's challenge is remembered, so later repositories on the same host get a
  token before their first request instead of after a 401.
- ``client.resolve(ref) -> digest | None``: one HEAD request; ``inspect(name@digest)`` then
  reuses the cached manifest, so tags that share a digest cost one manifest fetch.
- ``head_first(ref, mode)``: whether a fleet resolves tags with HEAD before fetching
  (``--manifest-requests``); ``inspect(tag)`` alone is one GET with every Accept type and
  seeds the digest cache the same way, one round trip fewer per distinct image.
- ``list_tags(repository_ref, options) -> list[str]``: OCI ``/tags/list``, following ``Link``.

Authentication and tokens live in ``access.py``, HTTP (TLS, redirects, retries, size caps, the
counter) in ``client.py``, manifest parsing shared with the archive transports in
``sources/oci.py``.
The caches are unbounded: a config blob is a few KiB, so even a fleet of thousands is small.

Round trips for ``host/app:tag``: manifest, config (plus 401 and token once per scope on an
authenticated registry); an index costs one more request per platform for its manifest, and
one per nested index. Indexes, artifacts and platform selection are ``sources/resolve.py``'s, shared
with the archive transports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

from mb_ci.errors import RegistryError
from mb_ci.models import ImageFacts, PlatformFacts
from mb_ci.sources import attestations, oci
from mb_ci.sources.memo import Memo
from mb_ci.sources.options import SourceOptions
from mb_ci.sources.registry.access import Access
from mb_ci.sources.registry.client import Reply
from mb_ci.sources.registry.reference import Reference, parse_reference
from mb_ci.sources.resolve import resolve

__all__ = [
    "MANIFEST_REQUESTS",
    "Reference",
    "RegistryClient",
    "head_first",
    "inspect",
    "list_tags",
    "parse_reference",
]
T = TypeVar("T")
R = TypeVar("R")
MAX_TAG_PAGES = 100
MAX_REFERRER_PAGES = 10
PARALLEL = 4
MANIFEST_REQUESTS = ("auto", "head", "get")
# registries that count manifest GETs, not HEADs, against a pull limit:
# https://docs.docker.com/docker-hub/usage/pulls/
HEAD_FIRST_REGISTRIES = frozenset({"docker.io"})


def head_first(ref: Reference, mode: str) -> bool:
    """``--manifest-requests``: ``head`` or ``get`` as asked; ``auto`` is HEAD-first only
    where a GET costs the user something (Docker Hub's pull limit)."""
    if mode == "auto":
        return ref.registry in HEAD_FIRST_REGISTRIES
    return mode == "head"


class RegistryClient:
    """A registry client shared by many references and threads; see the module docstring."""

    tag_page = 1000  # tags per /tags/list page

    def __init__(self, options: SourceOptions | None = None) -> None:
        self.options = options or SourceOptions()
        self.access = Access(self.options)
        self._documents = Memo()  # (kind, host, digest) -> bytes (manifests and configs)

    @property
    def request_count(self) -> int:
        return self.access.http.count

    def close(self) -> None:
        self.access.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public ---------------------------------------------------------------------------
    def inspect(self, ref: str) -> ImageFacts:
        """Every selected platform's labels, annotations, digests and layer descriptors."""
        parsed = parse_reference(ref)
        what = f"docker://{ref}"
        body, header_type, digest = self._manifest(parsed, parsed.target, what, None)
        found = resolve(
            oci.load(body, what),
            digest,
            header_type,
            what,
            self.options.platforms,
            lambda desc, sub: self._manifest(parsed, desc.digest, sub, desc)[0],
            lambda desc, sub: self._config(parsed, desc, sub),
            _parallel,
        )
        platforms = found.platforms
        if self.options.attestation_lookups != "off":
            platforms = tuple(
                _parallel(lambda p: self._more_attestations(parsed, p, what), list(platforms))
            )
        return self._facts(
            ref, parsed, digest, platforms, found.index_annotations or {}, found.skipped
        )

    def resolve(self, ref: str) -> str | None:
        """The digest a tag points at, from one HEAD request (``None`` if the registry is mum).

        HEAD requests do not count against Docker Hub's pull limit, and tags that share a
        digest then share one cached manifest fetch through ``inspect(name@digest)``.
        """
        parsed = parse_reference(ref)
        if parsed.digest:
            return parsed.digest
        reply = self.access.get(
            parsed,
            f"/v2/{parsed.repository}/manifests/{parsed.target}",
            {"Accept": oci.ACCEPT},
            f"docker://{ref}",
            method="HEAD",
        )
        digest = reply.headers.get("Docker-Content-Digest")
        return digest if digest and oci.valid_digest(digest) else None

    def list_tags(self, repository_ref: str) -> list[str]:
        """Every tag of ``repository_ref`` (``host/name``), following ``Link`` pagination."""
        parsed = parse_reference(repository_ref)
        what = f"docker://{repository_ref}"
        path = f"/v2/{parsed.repository}/tags/list?n={self.tag_page}"
        tags: list[str] = []
        for _page in range(MAX_TAG_PAGES):
            reply = self.access.get(parsed, path, {"Accept": "application/json"}, what)
            doc = oci.load(reply.body, f"{what} tags")
            tags.extend(str(t) for t in doc.get("tags") or [] if isinstance(t, str))
            nxt = _next_page(reply, parsed.host, f"{what}: tag list")
            if nxt is None:
                return tags
            path = nxt
        raise RegistryError(f"{what}: more than {MAX_TAG_PAGES} pages of tags")

    # -- provenance beyond the index ------------------------------------------------------
    def _more_attestations(self, ref: Reference, facts: PlatformFacts, what: str) -> PlatformFacts:
        """``facts`` plus the attestations the referrers API (or its ``sha256-<hex>`` tag
        schema) and cosign's ``sha256-<hex>.att`` tag hold, when the policy asks for them:
        always when it wants signatures, else only when the index attached no provenance."""
        have = facts.attestations or ()
        if not facts.digest or (
            self.options.attestation_lookups == "missing"
            and any(a.predicate_type in attestations.PROVENANCE_TYPES for a in have)
        ):
            return facts
        found = list(have)
        fetch = lambda desc, sub: self._manifest(ref, desc.digest, sub, desc)[0]  # noqa: E731
        blob = lambda desc, sub: self._config(ref, desc, sub)  # noqa: E731
        for desc, origin in self._referrers(ref, facts.digest, what):
            if desc.artifact_type in attestations.REFERRER_TYPES and desc.digest not in {
                a.manifest for a in found
            }:
                found.extend(attestations.read(desc, facts.digest, what, fetch, blob, origin))
        tag = facts.digest.replace(":", "-") + ".att"
        reply = self.access.get(
            ref,
            f"/v2/{ref.repository}/manifests/{tag}",
            {"Accept": oci.ACCEPT},
            f"{what}: {tag}",
            missing_ok=True,
        )
        if reply.status == 200:
            sub = f"{what}: {tag}"
            found.extend(
                attestations.from_manifest(
                    oci.load(reply.body, sub),
                    oci.digest_of(reply.body),
                    facts.digest,
                    sub,
                    blob,
                    "cosign-att",
                )
            )
        return replace(facts, attestations=tuple(found))

    def _referrers(
        self, ref: Reference, digest: str, what: str
    ) -> list[tuple[oci.Descriptor, str]]:
        """The descriptors that refer to ``digest``: the OCI 1.1 referrers API (following
        ``Link``), else the ``sha256-<hex>`` referrers tag schema (image-spec, distribution
        spec "Referrers Tag Schema") when the registry has no such API."""
        path = f"/v2/{ref.repository}/referrers/{digest}"
        out: list[tuple[oci.Descriptor, str]] = []
        for _page in range(MAX_REFERRER_PAGES):
            reply = self.access.get(
                ref, path, {"Accept": oci.OCI_INDEX}, f"{what} referrers", missing_ok=True
            )
            if reply.status == 404:
                break
            index = oci.load(reply.body, f"{what} referrers")
            out.extend((d, "referrers") for d in oci.children(index, f"{what} referrers"))
            nxt = _next_page(reply, ref.host, f"{what}: referrers")
            if nxt is None:
                return out
            path = nxt
        if out:
            return out
        tag = digest.replace(":", "-")
        reply = self.access.get(
            ref,
            f"/v2/{ref.repository}/manifests/{tag}",
            {"Accept": oci.ACCEPT},
            f"{what}: referrers tag {tag}",
            missing_ok=True,
        )
        if reply.status != 200:
            return []
        index = oci.load(reply.body, f"{what}: referrers tag {tag}")
        return [(d, "referrers-tag") for d in oci.children(index, f"{what}: referrers tag {tag}")]

    # -- fetching -------------------------------------------------------------------------
    def _manifest(
        self, ref: Reference, target: str, what: str, expected: oci.Descriptor | None
    ) -> tuple[bytes, str | None, str]:
        """``(body, media type header, digest)``; by digest it is cached and verified."""
        if oci.valid_digest(target):
            body, header = self._documents.get(
                ("manifest", ref.host, target),
                lambda: self._fetch_manifest(ref, target, what),
            )
            oci.verify(body, target, what)
            if expected is not None and len(body) != expected.size:
                raise RegistryError(f"{what}: manifest size differs from its descriptor")
            return body, header, target
        body, header = self._fetch_manifest(ref, target, what)
        digest = oci.digest_of(body)
        # seed the cache: a later name@digest (audit resolves tags to digests) costs nothing
        self._documents.get(("manifest", ref.host, digest), lambda: (body, header))
        return body, header, digest

    def _fetch_manifest(self, ref: Reference, target: str, what: str) -> tuple[bytes, str | None]:
        reply = self.access.get(
            ref, f"/v2/{ref.repository}/manifests/{target}", {"Accept": oci.ACCEPT}, what
        )
        claimed = reply.headers.get("Docker-Content-Digest")
        if claimed and oci.valid_digest(claimed):
            oci.verify(reply.body, claimed, what)
        return reply.body, reply.headers.get("Content-Type")

    def _config(self, ref: Reference, desc: oci.Descriptor, what: str) -> bytes:
        if desc.size > oci.MAX_DOCUMENT:
            raise RegistryError(f"{what}: config blob of {desc.size} bytes is too large")
        body: bytes = self._documents.get(
            ("blob", ref.host, desc.digest),
            lambda: (
                self.access.get(ref, f"/v2/{ref.repository}/blobs/{desc.digest}", {}, what).body
            ),
        )
        oci.verify(body, desc.digest, what)
        if len(body) != desc.size:
            raise RegistryError(f"{what}: config blob size differs from its descriptor")
        return body

    def _facts(
        self,
        ref: str,
        parsed: Reference,
        digest: str,
        platforms: tuple[PlatformFacts, ...],
        annotations: dict[str, str],
        skipped: tuple[str, ...],
    ) -> ImageFacts:
        return ImageFacts(
            reference=ref,
            transport="docker",
            platforms=platforms,
            digest=digest,
            index_annotations=annotations,
            skipped=skipped,
            repo_tags=(f"{parsed.registry}/{parsed.repository}:{parsed.tag}",)
            if parsed.tag and not parsed.digest
            else (),
        )


def _parallel(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``map`` over up to ``PARALLEL`` threads: an index's platforms are fetched side by side."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(min(PARALLEL, len(items))) as pool:
        return list(pool.map(fn, items))


def _next_page(reply: Reply, host: str, what: str) -> str | None:
    """The path of the next page a ``Link: <…>; rel="next"`` header names (tag lists,
    referrers), or None on the last page; a next page on another host is refused."""
    nxt = _next_link(reply.headers.get("Link"))
    if not nxt:
        return None
    target = urlsplit(urljoin(reply.url, nxt))
    if target.netloc and target.netloc != host:
        raise RegistryError(f"{what} pagination points at another host")
    return target.path + (f"?{target.query}" if target.query else "")


def _next_link(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return url.strip().strip("<>")
    return None


def inspect(ref: str, options: SourceOptions | None = None) -> ImageFacts:
    """``docker://REF``: one client, one reference."""
    with RegistryClient(options) as client:
        return client.inspect(ref)


def list_tags(repository_ref: str, options: SourceOptions | None = None) -> list[str]:
    """The tags of ``host/name`` (a ``docker://`` prefix is accepted)."""
    if repository_ref.startswith("docker://"):
        repository_ref = repository_ref[len("docker://") :]
    with RegistryClient(options) as client:
        return client.list_tags(repository_ref)
