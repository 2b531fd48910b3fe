"""Read labels from docker-archive tarballs, OCI layouts and oci-archive tarballs, with no engine.

- ``docker-archive:PATH[:NAME:TAG|:@N]``: ``docker save`` output, gzipped or not; the legacy
  ``manifest.json`` form (engine < 25) and the OCI ``index.json`` form (engine 25+, skopeo).
- ``oci:DIR[:REF]`` and ``oci-archive:PATH[:REF]``: an OCI image layout; ``REF`` matches the
  ``org.opencontainers.image.ref.name`` annotation (or is ``@N``, the N-th entry).

Only metadata is read (index, manifests, configs), never extracted to disk, each capped at
4 MiB and checked against its digest; ``stores.py`` bounds gzip (no gzip bombs).
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path
from typing import Any

from mb_ci.errors import ImageError
from mb_ci.models import ImageFacts, Layer, PlatformFacts
from mb_ci.sources import SourceOptions, oci
from mb_ci.sources.stores import Dir, Tar


def split_path(rest: str) -> tuple[Path, str | None]:
    """``PATH[:REF]``: the shortest prefix before a ``:`` that exists is the path."""
    for i, ch in enumerate(rest):
        if ch == ":" and i and Path(rest[:i]).exists():
            return Path(rest[:i]), rest[i + 1 :] or None
    return Path(rest), None


def inspect(transport: str, rest: str, options: SourceOptions | None = None) -> ImageFacts:
    options = options or SourceOptions()
    path, ref = split_path(rest)
    what = f"{transport}:{rest}"
    if not path.exists():
        raise ImageError(f"{what}: no such {'directory' if transport == 'oci' else 'file'}")
    if transport == "oci":
        if not path.is_dir():
            raise ImageError(f"{what}: not a directory (use oci-archive: for a tarball)")
        return _layout(Dir(path), ref, options, transport, rest, what)
    try:
        with Tar(path, what) as store:
            if transport == "docker-archive" and not store.exists("index.json"):
                return _legacy(store, ref, options, rest, what)
            return _layout(store, ref, options, transport, rest, what)
    except EOFError as e:
        raise ImageError(f"{what}: the archive is truncated") from e
    except (tarfile.TarError, zlib.error, OSError) as e:
        reason = "not a tar archive" if isinstance(e, tarfile.ReadError) else type(e).__name__
        raise ImageError(f"{what}: corrupt or unreadable archive ({reason})") from e


def _match_name(wanted: str, names: list[str]) -> bool:
    def norm(name: str) -> str:
        name = name.removeprefix("docker.io/").removeprefix("library/")
        return name if ":" in name.rsplit("/", 1)[-1] or "@" in name else f"{name}:latest"

    return norm(wanted) in {norm(n) for n in names if n}


def _index_of(ref: str | None, count: int, what: str) -> int | None:
    if ref is None or not ref.startswith("@"):
        return None
    if not ref[1:].isdigit() or int(ref[1:]) >= count:
        raise ImageError(f"{what}: no entry {ref} (the archive holds {count})")
    return int(ref[1:])


def _legacy(
    store: Tar, ref: str | None, options: SourceOptions, rest: str, what: str
) -> ImageFacts:
    if not store.exists("manifest.json"):
        raise ImageError(f"{what}: neither manifest.json nor index.json; not a docker save archive")
    doc: Any = oci.json_any(store.read("manifest.json", what), f"{what} manifest.json")
    if not isinstance(doc, list) or not doc or not all(isinstance(e, dict) for e in doc):
        raise ImageError(f"{what}: manifest.json is not a list of images")
    position = _index_of(ref, len(doc), what)
    if position is not None:
        entry = doc[position]
    elif ref is not None:
        found = [e for e in doc if _match_name(ref, list(e.get("RepoTags") or []))]
        if not found:
            raise ImageError(f"{what}: no image tagged {ref} in the archive")
        entry = found[0]
    elif len(doc) == 1:
        entry = doc[0]
    else:
        raise ImageError(
            f"{what}: the archive holds {len(doc)} images; name one (PATH:NAME:TAG or PATH:@N)"
        )
    config_name = str(entry.get("Config") or "")
    data = store.read(config_name, what)
    config_digest = oci.digest_of(data)
    stem = config_name.rsplit("/", 1)[-1].removesuffix(".json")
    if len(stem) == 64 and all(c in "0123456789abcdef" for c in stem):
        oci.verify(data, f"sha256:{stem}", f"{what} config")
    config = oci.load(data, f"{what} config")
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    layers = []
    for i, name in enumerate(entry.get("Layers") or []):
        digest = str(diff_ids[i]) if i < len(diff_ids) else ""
        layers.append(
            Layer(
                digest, store.size(str(name)) or 0, "application/vnd.docker.image.rootfs.diff.tar"
            )
        )
    facts = oci.platform_facts(
        config, digest=None, config_digest=config_digest, layer_list=tuple(layers)
    )
    _require_platform(facts, options, what)
    return ImageFacts(
        reference=rest,
        transport="docker-archive",
        platforms=(facts,),
        image_id=config_digest,
        repo_tags=tuple(str(t) for t in entry.get("RepoTags") or ()),
    )


def _require_platform(facts: PlatformFacts, options: SourceOptions, what: str) -> None:
    if options.platforms and not any(oci.matches(p, facts.platform) for p in options.platforms):
        raise ImageError(
            f"{what}: the image is {facts.platform or 'of unknown platform'} only; "
            f"--platform {', '.join(options.platforms)} is not in it"
        )


def _blob(store: Tar | Dir, desc: oci.Descriptor, what: str) -> bytes:
    algorithm, hexpart = desc.digest.split(":", 1)
    data = store.read(f"blobs/{algorithm}/{hexpart}", what)
    oci.verify(data, desc.digest, what)
    if len(data) != desc.size:
        raise ImageError(f"{what}: {desc.digest} size differs from its descriptor")
    return data


def _layout(
    store: Tar | Dir,
    ref: str | None,
    options: SourceOptions,
    transport: str,
    rest: str,
    what: str,
) -> ImageFacts:
    if not store.exists("index.json"):
        raise ImageError(f"{what}: no index.json; not an OCI image layout")
    top = oci.load(store.read("index.json", what), f"{what} index.json")
    entries = oci.children(top, f"{what} index.json")
    names = [(e.annotations or {}).get(oci.REF_NAME) for e in entries]
    position = _index_of(ref, len(entries), what)
    if position is not None:
        chosen = entries[position]
    elif ref is not None:
        found = [
            e
            for e in entries
            if ref
            in (
                (e.annotations or {}).get(oci.REF_NAME),
                (e.annotations or {}).get("io.containerd.image.name"),
            )
            or _match_name(ref, [(e.annotations or {}).get("io.containerd.image.name") or ""])
        ]
        if not found:
            have = ", ".join(n for n in names if n) or "none"
            raise ImageError(f"{what}: no image named {ref} in the layout (it has: {have})")
        chosen = found[0]
    elif len(entries) == 1:
        chosen = entries[0]
    elif all(e.platform for e in entries if not e.attestation) and len(set(names)) <= 1:
        return _index(store, top, None, options, transport, rest, what)  # index.json is the index
    else:
        have = ", ".join(n or "?" for n in names)
        raise ImageError(f"{what}: the layout holds {len(entries)} images ({have}); name one")
    data = _blob(store, chosen, what)
    doc = oci.load(data, what)
    if oci.is_index(doc, chosen.media_type or None):
        return _index(store, doc, chosen.digest, options, transport, rest, what)
    facts = _platform(store, doc, chosen.digest, None, what)
    _require_platform(facts, options, what)
    return ImageFacts(reference=rest, transport=transport, platforms=(facts,), digest=chosen.digest)


def _index(
    store: Tar | Dir,
    index: dict[str, Any],
    digest: str | None,
    options: SourceOptions,
    transport: str,
    rest: str,
    what: str,
) -> ImageFacts:
    chosen, skipped = oci.select(oci.children(index, what), options.platforms, what)
    platforms = []
    for entry in chosen:
        sub = f"{what} platform {entry.platform or entry.digest}"
        manifest = oci.load(_blob(store, entry, sub), sub)
        if oci.is_index(manifest, entry.media_type or None):
            raise ImageError(f"{sub}: nested image indexes are not supported")
        platforms.append(_platform(store, manifest, entry.digest, entry, sub))
    return ImageFacts(
        reference=rest,
        transport=transport,
        platforms=tuple(platforms),
        digest=digest,
        index_annotations=oci.index_annotations(index),
        skipped=tuple(skipped),
    )


def _platform(
    store: Tar | Dir,
    manifest: dict[str, Any],
    digest: str,
    entry: oci.Descriptor | None,
    what: str,
) -> PlatformFacts:
    return oci.manifest_platform(
        manifest,
        digest,
        entry,
        what,
        lambda desc: oci.load(_blob(store, desc, f"{what} config"), f"{what} config"),
    )
