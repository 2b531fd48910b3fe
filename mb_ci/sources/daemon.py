"""Read an image's config labels from a Docker engine through the Docker SDK."""

from __future__ import annotations

import os
from typing import Any

from mb_ci.errors import ImageError, UsageError
from mb_ci.models import ImageFacts, PlatformFacts
from mb_ci.safety import strip_credentials


def client() -> Any:
    """A Docker client like the CLI's: ``DOCKER_HOST`` and the TLS variables, else the context."""
    import docker
    from docker.errors import DockerException

    try:
        if not os.environ.get("DOCKER_HOST"):
            ctx = _context()
            if ctx is not None:
                return docker.DockerClient(base_url=ctx.Host, tls=ctx.TLSConfig or False)
        return docker.from_env()
    except DockerException as e:
        raise ImageError(
            f"cannot reach the Docker engine: {_reason(e)}", "start the engine, or set DOCKER_HOST"
        ) from e


def _context() -> Any:
    """The CLI context named by ``DOCKER_CONTEXT`` or config.json, unless it is ``default``."""
    try:
        from docker.context import ContextAPI

        name = os.environ.get("DOCKER_CONTEXT") or ContextAPI.get_current_context_name()
        if not name or name == "default":
            return None
        return ContextAPI.get_context(name)
    except Exception:  # a broken context file must not hide DOCKER_HOST-less defaults
        return None


def _reason(error: Exception) -> str:
    text = str(error)
    for marker in (
        "Connection refused",
        "No such file or directory",
        "Name or service not known",
        "timed out",
        "Permission denied",
    ):
        if marker in text:
            return marker.lower()
    return strip_credentials(text.splitlines()[0] if text else type(error).__name__)[:200]


def inspect(ref: str, options: object = None) -> ImageFacts:
    from docker.errors import APIError, DockerException, ImageNotFound, NotFound
    from requests.exceptions import RequestException

    from mb_ci.formats import is_image_ref

    if not is_image_ref(ref):
        raise UsageError(
            f"{ref}: not an image reference",
            "use name[:tag], name@sha256:DIGEST or an image id; names are lower case",
        )
    engine = client()
    try:
        image = engine.images.get(ref)
    except (ImageNotFound, NotFound) as e:
        raise ImageError(
            f"{ref}: no such image in the Docker engine",
            "build or pull it first, or name a docker:// reference",
        ) from e
    except APIError as e:
        raise ImageError(f"{ref}: the Docker engine refused: {e.explanation or e}") from e
    except (DockerException, RequestException) as e:
        raise ImageError(
            f"cannot reach the Docker engine: {_reason(e)}", "start the engine, or set DOCKER_HOST"
        ) from e
    finally:
        engine.close()
    return facts(ref, image.attrs)


def facts(ref: str, attrs: dict[str, Any]) -> ImageFacts:
    """``ImageFacts`` from ``docker image inspect`` output (also used by audit)."""
    config = attrs.get("Config") or {}
    labels = {str(k): str(v) for k, v in (config.get("Labels") or {}).items()}
    os_, arch, variant = attrs.get("Os"), attrs.get("Architecture"), attrs.get("Variant")
    platform = "/".join(p for p in (os_, arch, variant) if p) or None
    layers = (attrs.get("RootFS") or {}).get("Layers") or []
    repo_digests = tuple(attrs.get("RepoDigests") or ())
    name = ref.split("@")[0].rsplit(":", 1)[0] if "/" in ref or ":" in ref else ref
    digest = next((d.split("@", 1)[1] for d in repo_digests if d.split("@")[0] == name), None)
    if digest is None and repo_digests:
        digest = repo_digests[0].split("@", 1)[1]
    return ImageFacts(
        reference=ref,
        transport="docker-daemon",
        platforms=(
            PlatformFacts(
                platform,
                labels,
                {},
                digest,
                attrs.get("Id"),
                layer_count=len(layers),
                os=os_,
                architecture=arch,
                variant=variant,
            ),
        ),
        image_id=attrs.get("Id"),
        digest=digest,
        repo_tags=tuple(attrs.get("RepoTags") or ()),
        size=attrs.get("Size"),
    )
