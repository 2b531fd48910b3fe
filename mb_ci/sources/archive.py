"""Read labels from docker-archive tarballs and OCI layouts (not yet built)."""

from __future__ import annotations

from mb_ci.errors import UsageError
from mb_ci.models import ImageFacts


def inspect(transport: str, ref: str, options: object = None) -> ImageFacts:
    raise UsageError(f"{transport}:{ref}: this transport is not available yet")
