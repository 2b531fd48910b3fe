"""Where an audit's images come from: running containers, reference lists, registry tag lists."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mb_ci.audit.model import Target
from mb_ci.errors import ImageError, UsageError
from mb_ci.models import ImageFacts
from mb_ci.sources import split_reference
from mb_ci.sources.memo import Memo
from mb_ci.sources.options import SourceOptions

if TYPE_CHECKING:
    from mb_ci.sources.registry import RegistryClient

MAX_LIST_BYTES = 8 * 1024 * 1024
ENGINE_CALLS = 8


def read_reference_file(path: str) -> list[str]:
    """One reference per line; ``#`` starts a comment; ``-`` is standard input."""
    import sys

    try:
        if path == "-":
            text = sys.stdin.read(MAX_LIST_BYTES + 1)
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(MAX_LIST_BYTES + 1)
    except OSError as e:
        raise UsageError(f"--from-file {path}: cannot read: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"--from-file {path}: not UTF-8 text") from e
    if len(text) > MAX_LIST_BYTES:
        raise UsageError(f"--from-file {path}: larger than 8 MiB", "split the list")
    refs = []
    for number, line in enumerate(text.splitlines(), 1):
        ref = line.split("#", 1)[0].strip()
        if not ref:
            continue
        try:
            split_reference(ref)
        except UsageError as e:
            raise UsageError(f"{path}:{number}: {e.message}", e.hint) from e
        refs.append(ref)
    return refs


def unique(refs: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(refs))


class Inspector:
    """Inspect references on any transport, sharing one engine client and one registry client.

    Images in the local engine are read with one ``docker image inspect`` each, memoised by
    reference; ``docker://`` references go through one shared registry client (it caches
    manifests and configs by digest, so tags that point at the same image cost one fetch), and
    every other transport through :func:`mb_ci.sources.inspect`.
    """

    def __init__(self, options: SourceOptions, manifest_requests: str = "auto") -> None:
        self.options = options
        self.manifest_requests = manifest_requests
        self._engine: Any = None
        self._registry: RegistryClient | None = None
        self._lock = threading.Lock()
        self._daemon = Memo()
        # the engine is local and the SDK keeps 10 connections: more callers only queue
        self._engine_slots = threading.BoundedSemaphore(ENGINE_CALLS)
        self.running: dict[str, ImageFacts] = {}

    def engine(self) -> Any:
        with self._lock:
            if self._engine is None:
                from mb_ci.sources import daemon

                self._engine = daemon.client()
            return self._engine

    def registry_client(self) -> RegistryClient:
        with self._lock:
            if self._registry is None:
                from mb_ci.sources.registry import RegistryClient

                self._registry = RegistryClient(self.options)
            return self._registry

    def expand_all_tags(self, refs: list[str]) -> list[str]:
        """Every tag of each ``docker://REGISTRY/REPO``; references on other transports stay."""
        out: list[str] = []
        for ref in refs:
            transport, rest = split_reference(ref)
            if transport != "docker":
                out.append(ref)  # other transports name one image each
                continue
            if "@" in rest or ":" in rest.rsplit("/", 1)[-1]:
                raise UsageError(
                    f"--all-tags: {ref} names a tag or digest", "give docker://REGISTRY/REPO"
                )
            out.extend(f"docker://{rest}:{tag}" for tag in self.registry_client().list_tags(rest))
        return out

    def _from_registry(self, client: RegistryClient, ref: str) -> ImageFacts:
        """Through the shared client, HEAD-first or GET-by-tag (``--manifest-requests``).

        HEAD-first resolves a tag to its digest, then fetches by digest: HEAD requests do not
        count against Docker Hub's pull limit. GET-by-tag fetches the manifest in one round
        trip and caches it by its digest. Either way tags that share a digest share one
        cached manifest and config, and the facts are the same.
        """
        from mb_ci.sources.registry import head_first, parse_reference

        name, at, _ = ref.partition("@")
        if at:
            return client.inspect(ref)
        if head_first(parse_reference(ref), self.manifest_requests):
            digest = client.resolve(ref)
            if digest is None:
                return client.inspect(ref)
            base = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
            facts = client.inspect(f"{base}@{digest}")
        else:
            facts = client.inspect(ref)
        return replace(facts, reference=ref, repo_tags=(name,))

    def __call__(self, target: Target) -> ImageFacts:
        if target.container is not None and target.container in self.running:
            return self.running[target.container]
        transport, rest = split_reference(target.reference)
        if transport == "docker-daemon":
            from mb_ci.sources import daemon

            return daemon.facts(rest, self.image_attrs(rest))
        if transport == "docker":
            return self._from_registry(self.registry_client(), rest)
        from mb_ci import sources

        return sources.inspect(target.reference, self.options)

    def image_attrs(self, ref: str) -> dict[str, Any]:
        return self._daemon.get(ref, lambda: self._inspect_image(ref))

    def _inspect_image(self, ref: str) -> dict[str, Any]:
        from mb_ci.sources import daemon

        with self._engine_slots:
            return daemon.image_attrs(self.engine(), ref)

    def running_targets(self) -> list[Target]:
        """One target per running container; each distinct image is inspected once, later."""
        from mb_ci.sources import daemon

        listed = daemon.containers(self.engine())
        targets = []
        for item in listed:
            name = ((item.get("Names") or ["?"])[0] or "?").lstrip("/")
            image_id = item.get("ImageID") or item.get("Image") or ""
            targets.append((name, str(item.get("Image") or image_id), image_id))
        for name, shown, image_id in targets:
            try:
                attrs = self.image_attrs(image_id)
            except ImageError:
                continue  # the row will say why when it is inspected again
            self.running[name] = daemon.facts(shown, attrs)
        return [Target(shown, name, dangling=self._dangling(name)) for name, shown, _ in targets]

    def _dangling(self, container: str) -> bool:
        facts = self.running.get(container)
        return facts is not None and not [t for t in facts.repo_tags if t != "<none>:<none>"]

    def close(self) -> None:
        for client in (self._engine, self._registry):
            if client is not None:
                client.close()
