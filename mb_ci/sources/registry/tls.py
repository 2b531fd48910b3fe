"""Which TLS a registry host gets: CA bundle, client certificate, and whether plain HTTP may do.

Order for the CA: ``--ca-file``, then docker's ``certs.d/HOST[:PORT]/*.crt`` (``ca.crt``
preferred; ``~/.docker/certs.d``, then ``/etc/docker/certs.d``, or the ``MB_CI_CERTS_D``
roots instead), then certifi's bundle as requests has it (or ``REQUESTS_CA_BUNDLE``).
``certs.d``'s ``client.cert``/``client.key`` give mutual TLS. Plain HTTP is allowed for
loopback and for ``--insecure-registry`` hosts, which also skip certificate verification, as
docker does.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mb_ci.errors import RegistryError

if TYPE_CHECKING:
    from mb_ci.sources.options import SourceOptions

CERTS_D_ENV = "MB_CI_CERTS_D"  # os.pathsep-separated certs.d roots, replacing the defaults


def is_loopback(host: str) -> bool:
    name = hostname(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def hostname(host: str) -> str:
    """``host[:port]`` or ``[v6]:port`` without the port."""
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def certs_dirs() -> list[Path]:
    env = os.environ.get(CERTS_D_ENV)
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [Path.home() / ".docker" / "certs.d", Path("/etc/docker/certs.d")]


def plain_allowed(host: str, options: SourceOptions) -> bool:
    insecure = {h.lower() for h in options.insecure_registries}
    return is_loopback(host) or host.lower() in insecure or hostname(host) in insecure


def tls_for(host: str, options: SourceOptions) -> tuple[bool | str, tuple[str, str] | None]:
    """``(verify, client_cert)`` for ``host``: --ca-file, then certs.d, then the default."""
    cert = None
    ca: str | None = options.ca_file
    for root in certs_dirs():
        folder = root / host
        if folder.is_dir():
            if ca is None:
                crts = sorted(folder.glob("*.crt"))
                preferred = folder / "ca.crt"
                ca = str(preferred if preferred.is_file() else crts[0]) if crts else None
            if (folder / "client.cert").is_file() and (folder / "client.key").is_file():
                cert = (str(folder / "client.cert"), str(folder / "client.key"))
            break
    if ca is not None:
        if not Path(ca).is_file():
            raise RegistryError(f"CA file {ca} does not exist")
        return ca, cert
    if host.lower() in {h.lower() for h in options.insecure_registries}:
        _quiet_insecure()
        return False, cert  # docker's --insecure-registry: TLS without verification
    return True, cert


def _quiet_insecure() -> None:
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
