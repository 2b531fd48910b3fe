"""The OCI annotation keys, the label-schema.org 1.0 keys, and the official mapping between them."""

from __future__ import annotations

OCI = "org.opencontainers.image."
LS = "org.label-schema."

# https://github.com/opencontainers/image-spec/blob/main/annotations.md#pre-defined-annotation-keys
OCI_KEYS: tuple[str, ...] = tuple(
    OCI + k
    for k in (
        "created",
        "authors",
        "url",
        "documentation",
        "source",
        "version",
        "revision",
        "vendor",
        "licenses",
        "ref.name",
        "title",
        "description",
        "base.digest",
        "base.name",
    )
)

# http://label-schema.org/rc1/ (1.0.0-rc.1, the release everybody calls 1.0)
LS_KEYS: tuple[str, ...] = tuple(
    LS + k
    for k in (
        "build-date",
        "name",
        "description",
        "usage",
        "url",
        "vcs-url",
        "vcs-ref",
        "vendor",
        "version",
        "schema-version",
        "docker.cmd",
        "docker.cmd.devel",
        "docker.cmd.test",
        "docker.debug",
        "docker.cmd.help",
        "docker.params",
        "rkt.cmd",
        "rkt.cmd.devel",
        "rkt.cmd.test",
        "rkt.debug",
        "rkt.cmd.help",
        "rkt.params",
    )
)

# The mapping from the OCI image-spec's "Back-compatibility with Label Schema" table.
OCI_TO_LS: dict[str, str] = {
    OCI + "created": LS + "build-date",
    OCI + "url": LS + "url",
    OCI + "source": LS + "vcs-url",
    OCI + "version": LS + "version",
    OCI + "revision": LS + "vcs-ref",
    OCI + "vendor": LS + "vendor",
    OCI + "title": LS + "name",
    OCI + "description": LS + "description",
    OCI + "documentation": LS + "usage",
}
LS_TO_OCI: dict[str, str] = {v: k for k, v in OCI_TO_LS.items()}

# The four facts that mb-ci checks against git, and the keys that carry each of them.
CONCEPTS: dict[str, tuple[str, str]] = {
    "revision": (OCI + "revision", LS + "vcs-ref"),
    "source": (OCI + "source", LS + "vcs-url"),
    "created": (OCI + "created", LS + "build-date"),
    "version": (OCI + "version", LS + "version"),
}

PRESETS: dict[str, tuple[str, ...]] = {
    "oci": (OCI + "created", OCI + "revision", OCI + "source"),
    "label-schema": (LS + "build-date", LS + "vcs-ref", LS + "vcs-url"),
    "both": (
        OCI + "created",
        OCI + "revision",
        OCI + "source",
        LS + "build-date",
        LS + "vcs-ref",
        LS + "vcs-url",
    ),
    "none": (),
}

KNOWN_KEYS: frozenset[str] = frozenset(OCI_KEYS + LS_KEYS)


def concept_of(key: str) -> str | None:
    for concept, keys in CONCEPTS.items():
        if key in keys:
            return concept
    return None


def in_vocabulary(key: str) -> bool:
    return key.startswith(OCI) or key.startswith(LS)


def suggest(key: str) -> str | None:
    """A did-you-mean for a misspelt key in one of the two vocabularies."""
    import difflib

    if key in KNOWN_KEYS:
        return None
    matches = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1, cutoff=0.85)
    return matches[0] if matches else None
