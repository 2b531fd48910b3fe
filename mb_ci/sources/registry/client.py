"""Bounded HTTP for registries: TLS choice per host, redirects, retries, size caps, a counter.

``Http`` is thread-safe: it sends through urllib3's thread-safe pool managers (one per proxy
and TLS setting, keeping connections alive per host), and the counter and the per-host scheme
memo sit behind a lock. It speaks urllib3 directly rather than through ``requests``: a
registry request spent about 0.4 ms of CPU more in requests' session machinery (settings
merged, hooks, cookies) than in urllib3, a fifth of a fleet audit's CPU per image
(docs/performance.md). What requests did for us is done here: the CA bundle (``certifi``, or
``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``), proxies from the environment with ``NO_PROXY`` and
proxy credentials, and no ``~/.netrc``. urllib3 is imported here only, and this module only on
the registry path.

- ``verify`` is passed with every request, because ``REQUESTS_CA_BUNDLE`` and ``CURL_CA_BUNDLE``
  silently override a session-level ``verify`` (https://github.com/psf/requests/issues/3829).
- Redirects are followed by hand, at most 5, dropping ``Authorization`` whenever the host
  changes: registries redirect blob downloads to storage on other hosts, which must never see
  the registry's token.
- The environment (proxy variables, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) is read once per
  host instead of on every request: requests' ``trust_env`` scans all of ``os.environ`` twice
  per request, which was the largest share of the client's CPU per image in a fleet audit
  (docs/performance.md).
- At most ``options.host_connections`` requests are in flight to one host at once, whatever
  the number of threads: a fleet audit with ``--jobs 64`` stays polite to each registry.
- 429 and 5xx are retried twice, waiting for ``Retry-After`` (capped at 10 s).
- Bodies are read in chunks and refused beyond ``limit`` bytes; a short body is an error.
"""

from __future__ import annotations

import email.utils
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

from mb_ci.errors import RegistryError
from mb_ci.safety import strip_credentials
from mb_ci.sources.registry.tls import hostname, is_loopback, plain_allowed, tls_for

if TYPE_CHECKING:
    import urllib3

    from mb_ci.sources.options import SourceOptions

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 3
MAX_WAIT = 10.0
MAX_REDIRECTS = 5
# requests' defaults; "Connection: keep-alive" is HTTP/1.1's own
BASE_HEADERS = {"User-Agent": "mb-ci", "Accept-Encoding": "gzip, deflate", "Accept": "*/*"}


@dataclass(frozen=True)
class Reply:
    """A finished response: status, headers, the (bounded) body and the final URL."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


class Http:
    """One HTTP client for many registries and threads, counting every request it sends."""

    def __init__(self, options: SourceOptions) -> None:
        self.options = options
        self.timeout = options.timeout
        self._lock = threading.Lock()
        self._schemes: dict[str, str] = {}
        self._managers: dict[tuple[str, bool | str, Any], urllib3.PoolManager] = {}
        self._proxies: dict[str, dict[str, str]] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        # what requests' trust_env would apply to verify=True, read once
        self._ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.count = 0

    def plain_allowed(self, host: str) -> bool:
        return plain_allowed(host, self.options)

    # -- connections ------------------------------------------------------------------------
    def manager(self, proxy: str, verify: bool | str, cert: Any) -> urllib3.PoolManager:
        """The pool manager for one proxy (``""``: none) and TLS setting, made once."""
        key = (proxy, verify, cert)
        found = self._managers.get(key)
        if found is not None:
            return found
        import urllib3

        tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE"}
        if verify:
            if verify is True:
                import certifi

                verify = certifi.where()  # requests' default bundle, so trust is unchanged
            tls["ca_certs"] = verify
        if cert:
            tls["cert_file"], tls["key_file"] = cert
        pools: dict[str, Any] = {"num_pools": 64, "maxsize": max(1, self.options.host_connections)}
        made: urllib3.PoolManager
        if proxy:
            scheme = urlsplit(proxy).scheme
            if scheme not in ("http", "https"):
                raise RegistryError(
                    f"proxy {strip_credentials(proxy)}: {scheme} proxies are not supported",
                    "set HTTPS_PROXY to an http:// or https:// proxy",
                )
            made = urllib3.ProxyManager(proxy, proxy_headers=_proxy_headers(proxy), **pools, **tls)
        else:
            made = urllib3.PoolManager(**pools, **tls)
        with self._lock:
            return self._managers.setdefault(key, made)

    def slots(self, host: str) -> threading.BoundedSemaphore:
        """The semaphore that bounds the requests in flight to ``host``."""
        found = self._slots.get(host)
        if found is None:
            with self._lock:
                found = self._slots.setdefault(
                    host, threading.BoundedSemaphore(max(1, self.options.host_connections))
                )
        return found

    def proxies_for(self, url: str) -> dict[str, str]:
        """The environment's proxies for ``url``'s host (``HTTPS_PROXY``, ``ALL_PROXY``, ...),
        none when ``NO_PROXY`` names the host, memoised per host."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        found = self._proxies.get(key)
        if found is None:
            found = _environment_proxies(parts.hostname or "", parts.port)
            with self._lock:
                self._proxies[key] = found
        return found

    def close(self) -> None:
        with self._lock:
            managers, self._managers = list(self._managers.values()), {}
        for made in managers:
            made.clear()

    def get(
        self,
        host: str,
        path: str,
        headers: Mapping[str, str],
        limit: int,
        *,
        what: str,
        method: str = "GET",
    ) -> Reply:
        """``path`` on registry ``host``; the scheme is found once per host and remembered.

        HTTPS only, unless plain HTTP is allowed: then loopback tries HTTP first (local CI
        registries are plain; loopback traffic cannot be sniffed; the first request carries no
        credentials) and switches on a TLS server's 400 or hang-up, while an
        ``--insecure-registry`` tries HTTPS first, as docker does.
        """
        known = self._schemes.get(host)
        if known or not self.plain_allowed(host):
            scheme = known or "https"
            reply = self.fetch(f"{scheme}://{host}{path}", headers, limit, what=what, method=method)
            self._remember(host, scheme)
            return reply
        first, second = ("http", "https") if is_loopback(host) else ("https", "http")
        failure: RegistryError | None = None
        try:
            reply = self.fetch(f"{first}://{host}{path}", headers, limit, what=what, method=method)
            if not (first == "http" and reply.status == 400):
                self._remember(host, first)
                return reply
        except RegistryError as e:
            if not _switchable(e):
                raise
            failure = e
        try:
            other = self.fetch(f"{second}://{host}{path}", headers, limit, what=what, method=method)
        except RegistryError as e:
            if not _switchable(e):
                raise  # e.g. a TLS server whose certificate we do not trust: say so
            if failure is not None:
                raise failure from failure.__cause__
            return reply  # the plain-HTTP 400 was the registry's own answer
        self._remember(host, second)
        return other

    def _remember(self, host: str, scheme: str) -> None:
        with self._lock:
            self._schemes.setdefault(host, scheme)

    def fetch(
        self,
        url: str,
        headers: Mapping[str, str],
        limit: int,
        *,
        what: str,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
    ) -> Reply:
        """One logical request: redirects, retries and the size cap included."""
        origin = urlsplit(url).netloc
        hdrs = dict(headers)
        for _hop in range(MAX_REDIRECTS + 1):
            reply = self._retrying(method, url, hdrs, limit, what, data)
            location = reply.headers.get("Location")
            if reply.status not in (301, 302, 303, 307, 308) or not location:
                return reply
            target = urljoin(url, location)
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https"):
                raise RegistryError(f"{what}: redirected to an unsupported URL scheme")
            if parts.scheme == "http" and not self.plain_allowed(parts.netloc):
                raise RegistryError(f"{what}: refused a redirect to plain HTTP on {parts.netloc}")
            if parts.netloc != origin:
                hdrs.pop("Authorization", None)
            if reply.status == 303:
                method, data = "GET", None
            url = target
        raise RegistryError(f"{what}: more than {MAX_REDIRECTS} redirects")

    def _retrying(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        limit: int,
        what: str,
        data: Mapping[str, str] | None,
    ) -> Reply:
        for attempt in range(1, ATTEMPTS + 1):
            reply = self._once(method, url, headers, limit, what, data)
            if reply.status not in RETRY_STATUS or attempt == ATTEMPTS:
                return reply
            wait = _retry_after(reply.headers.get("Retry-After"), 0.5 * attempt)
            if wait > MAX_WAIT:
                return reply  # the caller reports the 429/5xx; waiting minutes is not ours to do
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        limit: int,
        what: str,
        data: Mapping[str, str] | None,
    ) -> Reply:
        import urllib3

        parts = urlsplit(url)
        verify, cert = (
            tls_for(parts.netloc, self.options) if parts.scheme == "https" else (True, None)
        )
        if verify is True and self._ca_bundle:
            verify = self._ca_bundle
        proxy = _select_proxy(url, self.proxies_for(url))
        manager = self.manager(proxy, verify if parts.scheme == "https" else True, cert)
        sent = {**BASE_HEADERS, **headers}
        body = None
        if data is not None:
            body = urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        with self._lock:
            self.count += 1
        with self.slots(parts.netloc):  # held until the body is read
            try:
                resp = manager.urlopen(
                    method,
                    url,
                    headers=sent,
                    body=body,
                    redirect=False,
                    retries=False,
                    timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
                    preload_content=False,
                )
            except urllib3.exceptions.HTTPError as e:
                raise RegistryError(f"{what}: {_reason(e, parts.netloc)}") from e
            try:
                body_read = _read(resp, limit, what, time.monotonic() + 2 * self.timeout)
            except BaseException:
                resp.close()  # unread bytes must not reach the next request on this connection
                raise
            finally:
                resp.release_conn()
            return Reply(resp.status, resp.headers.copy(), body_read, url)  # case-insensitive


def _read(resp: urllib3.BaseHTTPResponse, limit: int, what: str, deadline: float) -> bytes:
    """The body, at most ``limit`` bytes, by ``deadline`` (a per-read timeout alone lets a
    server drip one byte at a time forever)."""
    import urllib3

    length = resp.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise RegistryError(f"{what}: response of {length} bytes exceeds the {limit}-byte limit")
    chunks: list[bytes] = []
    total = 0
    try:
        for chunk in resp.stream(65536):
            total += len(chunk)
            if time.monotonic() > deadline:
                raise RegistryError(f"{what}: the response is too slow (--timeout)")
            if total > limit:
                raise RegistryError(f"{what}: response exceeds the {limit}-byte limit")
            chunks.append(chunk)
    except urllib3.exceptions.HTTPError as e:
        raise RegistryError(f"{what}: truncated response ({_reason(e, '')})") from e
    return b"".join(chunks)


def _switchable(error: RegistryError) -> bool:
    """True when ``error`` says the other scheme may work: no connection, or no TLS, here."""
    from urllib3 import exceptions

    cause = error.__cause__
    broken = (
        exceptions.NewConnectionError,
        exceptions.ConnectTimeoutError,
        exceptions.SSLError,
        exceptions.ProtocolError,
        exceptions.ProxyError,
    )
    return isinstance(cause, broken) and "CERTIFICATE_VERIFY_FAILED" not in str(cause)


def _retry_after(value: str | None, default: float) -> float:
    if not value:
        return default
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def _environment_proxies(host: str, port: int | None) -> dict[str, str]:
    """``*_PROXY`` variables by scheme, or none when ``NO_PROXY`` matches ``host``, as requests
    reads them: entries are host names (matching their subdomains), ``host:port``, IP
    addresses or CIDR blocks, and ``*`` for every host."""
    import ipaddress
    from urllib.request import getproxies_environment

    proxies = getproxies_environment()
    no_proxy = proxies.pop("no", "")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (e.strip().lstrip(".") for e in no_proxy.replace(" ", ",").split(",")):
        if not entry:
            continue
        if entry == "*":
            return {}
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return {}
            except ValueError:
                pass
            continue
        with_port = f"{host}:{port}" if port else host
        if host == entry or host.endswith("." + entry) or with_port == entry:
            return {}
    return proxies


def _select_proxy(url: str, proxies: Mapping[str, str]) -> str:
    """The proxy for ``url``: its scheme's, else ``ALL_PROXY``'s; ``""`` for none."""
    return proxies.get(urlsplit(url).scheme) or proxies.get("all") or ""


def _proxy_headers(proxy: str) -> dict[str, str]:
    """``Proxy-Authorization`` from credentials in the proxy URL (``http://user:pw@proxy``)."""
    from urllib.parse import unquote

    import urllib3

    parts = urlsplit(proxy)
    if not parts.username:
        return {}
    auth = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return dict(urllib3.make_headers(proxy_basic_auth=auth))


def _reason(error: Exception, host: str) -> str:
    from urllib3 import exceptions

    text = str(error)
    if isinstance(error, exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return (
                f"TLS certificate of {host} not trusted "
                f"(pass --ca-file, or put ca.crt in certs.d/{host}/)"
            )
        return f"TLS handshake with {host} failed"
    if isinstance(error, exceptions.ProxyError):
        return f"cannot reach {host} through the proxy"
    if isinstance(error, exceptions.NameResolutionError):
        return f"cannot resolve {hostname(host)}"
    if isinstance(error, exceptions.NewConnectionError):
        if "Name or service not known" in text or "nodename nor servname" in text:
            return f"cannot resolve {hostname(host)}"
        if "refused" in text:
            return f"cannot reach {host} (connection refused)"
        return f"cannot reach {host}"
    if isinstance(error, exceptions.TimeoutError):
        return f"{host} timed out"
    if isinstance(error, exceptions.ProtocolError | exceptions.DecodeError):
        if host and "IncompleteRead" not in text and "Connection broken" not in text:
            return f"cannot reach {host}"
        return "the connection broke mid-body"
    return type(error).__name__
