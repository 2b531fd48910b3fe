"""Read labels and annotations from a registry over the OCI distribution API (not yet built)."""

from __future__ import annotations

from mb_ci.errors import UsageError
from mb_ci.models import ImageFacts


def inspect(ref: str, options: object = None) -> ImageFacts:
    raise UsageError(f"docker://{ref}: the registry transport is not available yet")
