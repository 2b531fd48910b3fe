"""Plain types shared by every image source; this module imports nothing of the sources."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceOptions:
    """How to reach images: platforms to read, credentials, TLS and time limits."""

    platforms: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    insecure_registries: tuple[str, ...] = ()
    ca_file: str | None = None
    timeout: float = 30.0
    # requests in flight to one registry host at once (regclient: 3, crane: 4 jobs)
    host_connections: int = 16
    # registries: look up provenance beyond the index (OCI referrers, the sha256-<hex> tag
    # schema, cosign's .att tag): "off", "missing" (when the index has none) or "always"
    attestation_lookups: str = "off"
