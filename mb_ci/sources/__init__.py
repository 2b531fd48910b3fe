"""Where images come from: parse a reference's transport and hand it to the matching source."""

from __future__ import annotations

from collections.abc import Callable

from mb_ci.errors import UsageError
from mb_ci.models import ImageFacts
from mb_ci.sources.options import SourceOptions

__all__ = [
    "DEFAULT",
    "TRANSPORTS",
    "SourceOptions",
    "Transport",
    "inspect",
    "prefix",
    "split_reference",
]


def split_reference(ref: str) -> tuple[str, str]:
    """``(transport, rest)`` in skopeo's syntax; a bare name means the local engine."""
    if not ref or ref.strip() != ref or any(c in ref for c in "\n\r\t\0 "):
        raise UsageError(
            f"'{ref!r}' is not an image reference" if ref else "no image given",
            "give a name[:tag], name@digest, image id, or TRANSPORT:REF",
        )
    # the longest prefix first: oci-archive: before oci:
    for transport in sorted(TRANSPORTS, key=len, reverse=True):
        start = prefix(transport)
        if ref.startswith(start):
            rest = ref[len(start) :]
            if not rest:
                raise UsageError(f"{ref}: nothing after '{start}'")
            return transport, rest
    return DEFAULT, ref


def prefix(transport: str) -> str:
    """How a reference names ``transport``: ``docker://`` for a registry, else ``NAME:``."""
    return "docker://" if transport == "docker" else f"{transport}:"


Transport = Callable[[str, SourceOptions], ImageFacts]
"""How one transport reads the reference after its ``TRANSPORT:`` prefix."""


def _daemon(reference: str, options: SourceOptions) -> ImageFacts:
    from mb_ci.sources import daemon

    return daemon.inspect(reference, options)


def _registry(reference: str, options: SourceOptions) -> ImageFacts:
    from mb_ci.sources import registry

    return registry.inspect(reference, options)


def _docker_archive(reference: str, options: SourceOptions) -> ImageFacts:
    from mb_ci.sources import archive

    return archive.inspect("docker-archive", reference, options)


def _oci_archive(reference: str, options: SourceOptions) -> ImageFacts:
    from mb_ci.sources import archive

    return archive.inspect("oci-archive", reference, options)


def _oci(reference: str, options: SourceOptions) -> ImageFacts:
    from mb_ci.sources import archive

    return archive.inspect("oci", reference, options)


# skopeo's transport names; every source is imported on first use (docker, requests are heavy)
TRANSPORTS: dict[str, Transport] = {
    "docker-daemon": _daemon,
    "docker": _registry,
    "docker-archive": _docker_archive,
    "oci-archive": _oci_archive,
    "oci": _oci,
}


DEFAULT = "docker-daemon"  # a reference without a transport names an image in the local engine


def inspect(ref: str, options: SourceOptions | None = None) -> ImageFacts:
    """Read ``ref``'s labels and annotations from the transport it names."""
    transport, rest = split_reference(ref)
    return TRANSPORTS[transport](rest, options or SourceOptions())
