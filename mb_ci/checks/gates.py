"""Size and layer gates: ``max_layers``, ``max_size``, ``max_config_size`` on each platform.

Sizes come from what the source knows, never from the layers' bytes: a registry, an OCI layout
or an OCI archive lists each layer's compressed size in the manifest (what a pull downloads);
the Docker engine and a ``docker save`` archive know only uncompressed sizes, which are judged
instead, and the finding says which size it read.
"""

from __future__ import annotations

from mb_ci.checks.base import Findings
from mb_ci.models import ImageFacts, PlatformFacts, Severity
from mb_ci.policy import Gate
from mb_ci.values import format_size

CHECK = {"max_layers": "max-layers", "max_size": "max-size", "max_config_size": "max-config-size"}
UNCOMPRESSED_TAR = ".tar"  # `docker save` layers: application/vnd.docker.image.rootfs.diff.tar


def check_gates(image: ImageFacts, platform: PlatformFacts, out: Findings) -> None:
    limits = out.policy.limits
    if "max_layers" in limits:
        _layers(platform, limits["max_layers"], out)
    if "max_size" in limits:
        _size(image, platform, limits["max_size"], out)
    if "max_config_size" in limits:
        _config_size(image, platform, limits["max_config_size"], out)


def _unknown(gate: str, why: str, out: Findings) -> None:
    """Say that a gate could not be judged, rather than guess (info: it passes)."""
    line = out.policy.limits[gate].line
    out.add(CHECK[gate], why, severity=Severity.INFO, gate=gate, line=line)


def _layers(platform: PlatformFacts, gate: Gate, out: Findings) -> None:
    limit = gate.limit
    out.ran("max-layers")
    count = platform.layer_count
    if count is None:
        _unknown("max_layers", "the layer count is unknown for this image", out)
    elif count > limit:
        out.add(
            "max-layers",
            f"{count} layers, more than the {limit} the policy allows",
            expected=f"<= {limit}",
            actual=str(count),
            gate="max_layers",
            line=gate.line,
        )


def size_of(image: ImageFacts, platform: PlatformFacts) -> tuple[int | None, str]:
    """The platform's size and which size it is: ``compressed`` (the manifest's layer sizes)
    or ``uncompressed`` (the engine's ``Size``, or a ``docker save`` archive's layer tars)."""
    if platform.layers is not None:
        kind = "compressed"
        if any(layer.media_type.endswith(UNCOMPRESSED_TAR) for layer in platform.layers):
            kind = "uncompressed"
        return platform.compressed_size, kind
    if image.transport == "docker-daemon" and len(image.platforms) == 1:
        return image.size, "uncompressed"
    return None, ""


def _size(image: ImageFacts, platform: PlatformFacts, gate: Gate, out: Findings) -> None:
    limit = gate.limit
    out.ran("max-size")
    size, kind = size_of(image, platform)
    if size is None:
        _unknown("max_size", "the image's size is unknown for this image", out)
    elif size > limit:
        source = (
            "the sum of the manifest's layer sizes"
            if kind == "compressed"
            else "uncompressed: this source does not know compressed sizes"
        )
        out.add(
            "max-size",
            f"{kind} size {format_size(size)} is more than the {format_size(limit)} the "
            f"policy allows ({source})",
            expected=f"<= {limit}",
            actual=str(size),
            gate="max_size",
            line=gate.line,
            size=kind,
        )


def _config_size(image: ImageFacts, platform: PlatformFacts, gate: Gate, out: Findings) -> None:
    limit = gate.limit
    out.ran("max-config-size")
    size = platform.config_size
    if size is None:
        _unknown(
            "max_config_size",
            f"the config blob's size is unknown for this image (source {image.transport})",
            out,
        )
    elif size > limit:
        out.add(
            "max-config-size",
            f"image config of {format_size(size)} is more than the {format_size(limit)} the "
            "policy allows",
            expected=f"<= {limit}",
            actual=str(size),
            gate="max_config_size",
            line=gate.line,
        )


def before_build(out: Findings) -> None:
    """``lint-dockerfile``: the gates cannot be judged before the image exists; say so."""
    for gate in out.policy.limits:
        _unknown(
            gate,
            f"`{gate}` is judged on the built image (layers and sizes are unknown before the "
            "build): run `mb-ci check` on it",
            out,
        )
