"""Registry references in the docker CLI's normal form: ``[host[:port]/]name[:tag][@digest]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mb_ci.errors import UsageError
from mb_ci.sources import oci

DOCKER_HUB_API = "registry-1.docker.io"
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class Reference:
    """``host/repository[:tag][@digest]`` in the docker CLI's normalised form."""

    host: str  # the API host: registry-1.docker.io for docker.io
    registry: str  # the name credentials are filed under: docker.io, ghcr.io, 127.0.0.1:5000
    repository: str
    tag: str | None
    digest: str | None

    @property
    def target(self) -> str:
        return self.digest or self.tag or "latest"


def parse_reference(ref: str, *, allow_tag: bool = True) -> Reference:
    """Parse ``[host[:port]/]name[:tag][@digest]``; Docker Hub names get ``library/``."""
    what = f"docker://{ref}"
    name, _, digest = ref.partition("@")
    if digest and not oci.valid_digest(digest):
        raise UsageError(f"{what}: '{digest[:80]}' is not a valid digest", "e.g. sha256:<64 hex>")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
        if not _TAG.match(tag):
            raise UsageError(f"{what}: '{tag[:80]}' is not a valid tag")
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", name
    if registry in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        registry = "docker.io"
        if "/" not in path:
            path = f"library/{path}"
    if not path or not all(_COMPONENT.match(c) for c in path.split("/")):
        raise UsageError(
            f"{what}: '{path[:80]}' is not a valid repository name",
            "lower-case letters, digits and separators; e.g. docker://ghcr.io/org/app:1.0",
        )
    if not allow_tag and (tag or digest):
        raise UsageError(f"{what}: name a repository without a tag or digest")
    host = DOCKER_HUB_API if registry == "docker.io" else registry
    return Reference(host, registry, path, tag if (tag or digest) else "latest", digest or None)
