"""Read labels from docker-archive tarballs, OCI layouts and oci-archive tarballs, with no engine.

- ``docker-archive:PATH[:NAME:TAG|:@N]``: ``docker save`` output, gzipped or not; the legacy
  ``manifest.json`` form (engine < 25, skopeo) and the engine 25+ form, an OCI layout with a
  ``manifest.json`` next to it. ``index.json`` is read when it names the image; when it names
  none (``"manifests": null`` from engine 25.0.0 saving by image id) or not the one asked
  for, ``manifest.json`` is, as skopeo reads it.
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
from mb_ci.models import ImageFacts, Layer
from mb_ci.sources import oci, shapes
from mb_ci.sources.options import SourceOptions
from mb_ci.sources.resolve import Missing, resolve
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
    if path.is_dir():
        raise ImageError(
            f"{what}: a directory, not an archive (read an OCI image layout directory with "
            f"oci:{path})"
        )
    try:
        with Tar(path, what) as store:
            if transport == "docker-archive":
                return _docker_archive(store, ref, options, rest, what)
            return _layout(store, ref, options, transport, rest, what)
    except EOFError as e:
        raise ImageError(f"{what}: the archive is truncated") from e
    except (tarfile.TarError, zlib.error, OSError) as e:
        reason = "not a tar archive" if isinstance(e, tarfile.ReadError) else type(e).__name__
        raise ImageError(f"{what}: corrupt or unreadable archive ({reason})") from e


def _docker_archive(
    store: Tar, ref: str | None, options: SourceOptions, rest: str, what: str
) -> ImageFacts:
    if store.exists("index.json"):
        top = oci.load(store.read("index.json", what), f"{what}: index.json")
        entries = oci.children(top, f"{what}: index.json")
        if ref is not None and not ref.startswith("@"):
            found = _named(entries, ref)
        else:
            found = _images(entries)
        if found or not store.exists("manifest.json"):
            return _layout(store, ref, options, "docker-archive", rest, what)
    if not store.exists("manifest.json"):
        raise ImageError(
            f"{what}: neither manifest.json nor index.json; not a docker save archive"
            f"{_misplaced(store, 'manifest.json') or _misplaced(store, 'index.json')}"
        )
    return _legacy(store, ref, options, rest, what)


def _misplaced(store: Tar | Dir, name: str) -> str:
    """Why the top of the archive lacks ``name`` when the cause is a common one, else ''."""
    nested = store.nested(name)
    if nested:
        top = nested[0].split("/", 1)[0]
        return (
            f" ({nested[0]} is one directory down: archive the contents of {top}/, "
            f"e.g. tar -C {top} -cf ARCHIVE.tar .)"
        )
    if name == "index.json" and store.exists("manifest.json"):
        return " (it holds manifest.json: a docker save archive, read it with docker-archive:)"
    return ""


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
    listing = f"{what}: manifest.json"
    doc = shapes.saved_images(oci.json_any(store.read("manifest.json", what), listing), listing)
    if not doc:
        raise ImageError(f"{listing}: lists no images")
    position = _index_of(ref, len(doc), what)
    if position is not None:
        entry = doc[position]
    elif ref is not None:
        found = [e for e in doc if _match_name(ref, list(e.get("RepoTags") or []))]
        if not found:
            raise ImageError(f"{what}: no image tagged {ref} in the archive")
        entry = found[0]
    elif len({e["Config"] for e in doc}) == 1:  # one image, perhaps saved under several tags
        entry = doc[0]
    else:
        raise ImageError(
            f"{what}: the archive holds {len(doc)} images; name one (PATH:NAME:TAG or PATH:@N)"
        )
    config_name = entry["Config"]
    config_what = f"{what}: config {config_name}"
    data = store.read(config_name, what)
    config_digest = oci.digest_of(data)
    stem = config_name.rsplit("/", 1)[-1].removesuffix(".json")
    if len(stem) == 64 and all(c in "0123456789abcdef" for c in stem):
        oci.verify(data, f"sha256:{stem}", config_what)
    config = oci.load(data, config_what)
    shapes.config(config, config_what)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    layers = []
    for i, name in enumerate(entry.get("Layers") or []):
        digest = str(diff_ids[i]) if i < len(diff_ids) else ""
        layers.append(
            Layer(digest, store.size(name) or 0, "application/vnd.docker.image.rootfs.diff.tar")
        )
    facts = oci.platform_facts(
        config,
        digest=None,
        config_digest=config_digest,
        layer_list=tuple(layers),
        config_size=len(data),
    )
    if options.platforms and not any(oci.matches(p, facts.platform) for p in options.platforms):
        raise ImageError(
            f"{what}: the image is {facts.platform or 'of unknown platform'} only; "
            f"--platform {', '.join(options.platforms)} is not in it"
        )
    tags = [t for e in doc if e["Config"] == config_name for t in e.get("RepoTags") or ()]
    return ImageFacts(
        reference=rest,
        transport="docker-archive",
        platforms=(facts,),
        image_id=config_digest,
        repo_tags=tuple(dict.fromkeys(tags)),
    )


def _blob(store: Tar | Dir, desc: oci.Descriptor, what: str) -> bytes:
    algorithm, hexpart = desc.digest.split(":", 1)
    name = f"blobs/{algorithm}/{hexpart}"
    if not store.exists(name):
        raise Missing(f"{what}: the {_noun(store)} has no {name}")
    data = store.read(name, what)
    oci.verify(data, desc.digest, what)
    if len(data) != desc.size:
        raise ImageError(f"{what}: {desc.digest} size differs from its descriptor")
    return data


_IMAGE_KINDS = (*oci.INDEX_TYPES, *oci.MANIFEST_TYPES, *oci.SCHEMA1_TYPES, "")


def _noun(store: Tar | Dir) -> str:
    return "layout" if isinstance(store, Dir) else "archive"


def _images(entries: list[oci.Descriptor]) -> list[oci.Descriptor]:
    """The entries that may be images: not the spec's ``application/xml`` example, not
    artifacts or attestations, each content once (one image saved under two tags is one)."""
    seen: set[str] = set()
    out = []
    for entry in entries:
        if entry.media_type in _IMAGE_KINDS and not entry.artifact_type and not entry.attestation:
            if entry.digest not in seen:
                seen.add(entry.digest)
                out.append(entry)
    return out


def _names(entry: oci.Descriptor) -> tuple[str, str]:
    notes = entry.annotations or {}
    return notes.get(oci.REF_NAME) or "", notes.get("io.containerd.image.name") or ""


def _named(entries: list[oci.Descriptor], ref: str) -> list[oci.Descriptor]:
    return [e for e in entries if ref in _names(e) or _match_name(ref, [_names(e)[1]])]


def _layout(
    store: Tar | Dir,
    ref: str | None,
    options: SourceOptions,
    transport: str,
    rest: str,
    what: str,
) -> ImageFacts:
    noun = _noun(store)
    if not store.exists("index.json"):
        kind = "an OCI image layout" if noun == "layout" else "an OCI archive"
        raise ImageError(f"{what}: no index.json; not {kind}{_misplaced(store, 'index.json')}")
    top_what = f"{what}: index.json"
    top = oci.load(store.read("index.json", what), top_what)
    entries = oci.children(top, top_what)
    images = _images(entries)
    position = _index_of(ref, len(entries), what)
    if position is not None:
        chosen = entries[position]
    elif ref is not None:
        found = _named(entries, ref)
        if not found:
            at = {id(e): i for i, e in enumerate(entries)}
            have = ", ".join(_names(e)[0] or f"@{at[id(e)]} (no name)" for e in images[:50])
            have += ", …" if len(images) > 50 else ""
            raise ImageError(
                f"{what}: no image named {ref} in the {noun} (it has: {have or 'no image'})"
            )
        distinct = _images(found)
        if len(distinct) > 1:
            # engine 25+ and containerd write the tag alone as ref.name: docker save a:1 b:1
            # names two images "1"; picking one would check an image nobody asked for
            at = {id(e): i for i, e in enumerate(entries)}
            names = ", ".join(f"@{at[id(e)]} {_names(e)[1] or e.digest}" for e in distinct[:20])
            raise ImageError(
                f"{what}: {ref} names {len(distinct)} different images in the {noun} "
                f"({names}); name one by its full name or as PATH:@N"
            )
        chosen = distinct[0] if distinct else found[0]
    elif len(images) == 1:
        chosen = images[0]
    elif not images:
        skipped = ", ".join(f"{e.digest} ({e.media_type or 'no media type'})" for e in entries)
        hint = ""
        if transport != "docker-archive" and store.exists("manifest.json"):
            # docker save by image id (engine 25.0.0) lists its image in manifest.json only
            hint = "; it holds manifest.json: a docker save archive, read it with docker-archive:"
        raise ImageError(
            f"{what}: the {noun} holds no image ({skipped or 'index.json is empty'}){hint}"
        )
    elif all(e.platform for e in images) and len({_names(e) for e in images}) <= 1:
        # one image's platforms listed one by one; two images that share a tag (engine 25+
        # writes the tag alone as ref.name) differ in io.containerd.image.name
        return _facts(store, top, None, None, options, transport, rest, top_what)
    else:
        at = {id(e): i for i, e in enumerate(entries)}
        have = ", ".join(_names(e)[1] or _names(e)[0] or f"@{at[id(e)]}" for e in images[:50])
        have += ", …" if len(images) > 50 else ""
        raise ImageError(
            f"{what}: the {noun} holds {len(images)} images ({have}); "
            "name one (PATH:REF or PATH:@N)"
        )
    if chosen.attestation or chosen.artifact_type or chosen.media_type not in _IMAGE_KINDS:
        kind = "attestation" if chosen.attestation else chosen.artifact_type or chosen.media_type
        raise ImageError(f"{what}: {chosen.digest} is not a container image ({kind})")
    sub = (
        f"{what}: {'index' if chosen.media_type in oci.INDEX_TYPES else 'manifest'} {chosen.digest}"
    )
    try:
        doc = oci.load(_blob(store, chosen, sub), sub)
    except Missing as e:
        raise ImageError(e.message) from e
    return _facts(
        store, doc, chosen.digest, chosen.media_type or None, options, transport, rest, sub
    )


def _facts(
    store: Tar | Dir,
    doc: dict[str, Any],
    digest: str | None,
    media_type: str | None,
    options: SourceOptions,
    transport: str,
    rest: str,
    what: str,
) -> ImageFacts:
    found = resolve(
        doc,
        digest,
        media_type,
        what,
        options.platforms,
        lambda desc, sub: _blob(store, desc, sub),
        lambda desc, sub: _blob(store, desc, sub),
    )
    return ImageFacts(
        reference=rest,
        transport=transport,
        platforms=found.platforms,
        digest=digest,
        index_annotations=found.index_annotations or {},
        skipped=found.skipped,
    )
