"""Read an image's config labels from a Docker engine through the Docker SDK."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from mb_ci.errors import ImageError, UsageError
from mb_ci.models import ImageFacts, PlatformFacts
from mb_ci.safety import strip_credentials


def client() -> Any:
    """A Docker client like the CLI's: ``DOCKER_HOST`` and the TLS variables, else the context."""
    import docker
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    try:
        if not os.environ.get("DOCKER_HOST"):
            ctx = _context()
            if ctx is not None:
                return _own_ca(
                    lambda version: docker.DockerClient(
                        base_url=ctx.Host, tls=ctx.TLSConfig or False, version=version
                    )
                )
        return _own_ca(lambda version: docker.from_env(version=version))
    except (DockerException, RequestException) as e:
        raise _unreachable(e) from e


def _own_ca(make: Callable[[str], Any]) -> Any:
    """A client from ``make(api_version)`` that verifies a TLS engine with its own CA file.

    requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` replace a session's own CA file
    (psf/requests#3829), so a CI image that sets them would verify the engine against the wrong
    bundle instead of ``DOCKER_CERT_PATH/ca.pem``; the docker CLI does not. The SDK asks the
    engine for its API version inside its constructor, before we could mend that, so the version
    is asked first by a client pinned to the oldest API (which sends nothing when built).
    """
    from docker.constants import MINIMUM_DOCKER_API_VERSION

    probe = _verify_with_own_ca(make(MINIMUM_DOCKER_API_VERSION))
    try:
        version = str(probe.api.version(api_version=False).get("ApiVersion") or "auto")
    finally:
        probe.close()
    return _verify_with_own_ca(make(version))


def _verify_with_own_ca(engine: Any) -> Any:
    api = engine.api
    if isinstance(api.verify, str):
        merge = api.merge_environment_settings

        def merge_own_ca(url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
            return merge(url, proxies, stream, api.verify if verify is None else verify, cert)

        api.merge_environment_settings = merge_own_ca
    return engine


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


# TLS failures as OpenSSL and the SDK word them -> what is wrong with DOCKER_CERT_PATH
_TLS_REASONS = (
    ("CERTIFICATE_VERIFY_FAILED", "TLS: the engine's certificate is not signed by its ca.pem"),
    ("ALERT_UNKNOWN_CA", "TLS: the engine refused its cert.pem (signed by another CA)"),
    ("ALERT_BAD_CERTIFICATE", "TLS: the engine refused its cert.pem"),
    ("CERTIFICATE_REQUIRED", "TLS: the engine wants a client certificate (cert.pem)"),
    ("SSLEOFError", "TLS: the engine hung up during the handshake (is cert.pem its CA's?)"),
    ("provided through the client_cert param", "TLS: it has no cert.pem and key.pem"),
    ("Invalid CA certificate", "TLS: it has no ca.pem"),
)
TLS_HINT = "DOCKER_CERT_PATH needs the engine's ca.pem and a cert.pem/key.pem that CA signed"


def _unreachable(error: Exception) -> ImageError:
    why = reason(error)
    if why.startswith("TLS: "):
        where = os.environ.get("DOCKER_CERT_PATH") or "~/.docker"
        return ImageError(
            f"cannot reach the Docker engine over TLS with {where}: {why[5:]}", TLS_HINT
        )
    return ImageError(
        f"cannot reach the Docker engine: {why}", "start the engine, or set DOCKER_HOST"
    )


def reason(error: Exception) -> str:
    """Why the engine could not be reached, in a few words and without credentials."""
    text = str(error)
    for marker, tls_reason in _TLS_REASONS:
        if marker.lower() in text.lower():
            return tls_reason
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

    from mb_ci.values import is_image_ref

    if not is_image_ref(ref):
        raise UsageError(
            f"{ref}: not an image reference",
            "use name[:tag], name@sha256:DIGEST or an image id; names are lower case",
        )
    engine = client()
    try:
        image = engine.images.get(ref)
        history = _history(engine, image.id)
    except (ImageNotFound, NotFound) as e:
        raise ImageError(
            f"{ref}: no such image in the Docker engine",
            "build or pull it first, or name a docker:// reference",
        ) from e
    except APIError as e:
        raise ImageError(f"{ref}: the Docker engine refused: {e.explanation or e}") from e
    except (DockerException, RequestException) as e:
        raise _unreachable(e) from e
    finally:
        engine.close()
    found = facts(ref, image.attrs, history)
    wanted = getattr(options, "platforms", ()) or ()
    if wanted:
        # The engine shows one platform of an image; checking it when another was asked for
        # would pass an image nobody asked about, so say so, as the archive sources do.
        from mb_ci.sources.platforms import matches

        have = found.platforms[0].platform
        if not any(matches(p, have) for p in wanted):
            raise ImageError(
                f"{ref}: the engine holds the image for {have or 'an unknown platform'} only; "
                f"--platform {', '.join(wanted)} is not in it",
                "check the pushed image, docker://REF, for its other platforms",
            )
    return found


def image_attrs(engine: Any, ref: str) -> dict[str, Any]:
    """``docker image inspect REF`` through ``engine``; engine errors become ``ImageError``."""
    from docker.errors import APIError, DockerException, ImageNotFound, NotFound
    from requests.exceptions import RequestException

    try:
        attrs: dict[str, Any] = engine.api.inspect_image(ref)
        return attrs
    except (ImageNotFound, NotFound) as e:
        raise ImageError(f"{ref}: no such image in the Docker engine") from e
    except APIError as e:
        raise ImageError(f"{ref}: the Docker engine refused: {e.explanation or e}") from e
    except (DockerException, RequestException) as e:
        raise ImageError(f"cannot reach the Docker engine: {reason(e)}") from e


def containers(engine: Any) -> list[dict[str, Any]]:
    """``docker ps`` through ``engine``; engine errors become ``ImageError``."""
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    try:
        listed: list[dict[str, Any]] = engine.api.containers()
        return listed
    except (DockerException, RequestException) as e:
        raise ImageError(f"cannot list containers: {reason(e)}") from e


def _history(engine: Any, image_id: str) -> list[Any] | None:
    """``docker history``: one entry per config history entry, newest first; None when the
    engine will not say (the image's labels are still read)."""
    from docker.errors import APIError

    try:
        found = engine.api.history(image_id)
    except APIError:
        return None
    return found if isinstance(found, list) else None


def facts(ref: str, attrs: dict[str, Any], history: list[Any] | None = None) -> ImageFacts:
    """``ImageFacts`` from ``docker image inspect`` output (also used by audit), and
    ``docker history`` when it was asked."""
    from mb_ci.sources.oci import lineage

    config = attrs.get("Config") or {}
    labels = {str(k): str(v) for k, v in (config.get("Labels") or {}).items()}
    os_, arch, variant = attrs.get("Os"), attrs.get("Architecture"), attrs.get("Variant")
    platform = "/".join(p for p in (os_, arch, variant) if p) or None
    layers = (attrs.get("RootFS") or {}).get("Layers") or []
    entries = None
    if history is not None:
        entries = [
            {"created_by": e.get("CreatedBy")} if isinstance(e, dict) else {}
            for e in reversed(history)
        ]
    diff_ids, created_by, length = lineage(
        {"rootfs": {"diff_ids": layers if isinstance(layers, list) else []}, "history": entries}
    )
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
                diff_ids=diff_ids,
                history=created_by,
                history_length=length,
            ),
        ),
        image_id=attrs.get("Id"),
        digest=digest,
        repo_tags=tuple(attrs.get("RepoTags") or ()),
        size=attrs.get("Size"),
    )
