"""Authenticated registry requests: challenges, Basic credentials, Bearer tokens per scope.

``Access.get(ref, path, headers, what)`` sends a request, answers a 401 challenge once (Bearer:
a token from the realm for ``repository:NAME:pull``, with the credentials ``auth.lookup`` finds
or anonymously; Basic: the credentials) and maps error answers to one-line ``RegistryError``s.
A host's challenge is remembered, so the next repository there gets its token before its first
request instead of after a 401. Tokens are cached per (realm, service, scope, credentials) until
they expire; credentials are looked up once per registry. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from urllib.parse import urlencode, urlsplit

from mb_ci.errors import RegistryError
from mb_ci.sources import oci
from mb_ci.sources.memo import Memo
from mb_ci.sources.options import SourceOptions
from mb_ci.sources.registry.auth import Challenge, Credentials, lookup, parse_challenge
from mb_ci.sources.registry.client import Http, Reply
from mb_ci.sources.registry.reference import Reference


class Access:
    """Requests to registries with the right ``Authorization``; see the module docstring."""

    def __init__(self, options: SourceOptions) -> None:
        self.options = options
        self.http = Http(options)
        self._tokens = Memo()  # (realm, service, scope, creds) -> (token, expiry)
        self._creds = Memo()  # registry -> Credentials | None
        self._challenges: dict[str, Challenge] = {}
        self._lock = threading.Lock()

    def get(
        self,
        ref: Reference,
        path: str,
        headers: dict[str, str],
        what: str,
        method: str = "GET",
        missing_ok: bool = False,
    ) -> Reply:
        limit = oci.MAX_DOCUMENT if "/tags/list" not in path else 16 * oci.MAX_DOCUMENT
        scope = f"repository:{ref.repository}:pull"
        hdrs = dict(headers)
        with self._lock:
            known = self._challenges.get(ref.host)
        if known is not None:
            hdrs.update(self._authorization(ref, known, scope, what))
        reply = self.http.get(ref.host, path, hdrs, limit, what=what, method=method)
        if reply.status == 401:
            challenge = parse_challenge(reply.headers.get("WWW-Authenticate"))
            if challenge is None or challenge.scheme not in ("bearer", "basic"):
                raise RegistryError(f"{what}: the registry wants an unsupported authentication")
            with self._lock:
                self._challenges[ref.host] = challenge
            if known is not None and challenge.scheme == "bearer":
                self._tokens.drop(self._token_key(ref, challenge, scope))
            hdrs = {**headers, **self._authorization(ref, challenge, scope, what)}
            reply = self.http.get(ref.host, path, hdrs, limit, what=what, method=method)
            if reply.status == 401:
                raise RegistryError(f"{what}: {self._denied(ref)}")
        if missing_ok and reply.status == 404:  # an optional lookup: absence is an answer
            return reply
        return _checked(reply, ref, what)

    def _credentials(self, ref: Reference) -> Credentials | None:
        found: Credentials | None = self._creds.get(
            ("creds", ref.registry), lambda: lookup(ref.registry, self.options)
        )
        return found

    def _denied(self, ref: Reference) -> str:
        creds = self._credentials(ref)
        if creds is None:
            return "authentication required (docker login, or pass --username and --password-stdin)"
        return f"the registry rejected the credentials from {creds.origin}"

    def _authorization(
        self, ref: Reference, challenge: Challenge, scope: str, what: str
    ) -> dict[str, str]:
        creds = self._credentials(ref)
        if challenge.scheme == "basic":
            if creds is None or not creds.username:
                raise RegistryError(f"{what}: {self._denied(ref)}")
            return {"Authorization": _basic(creds.username, creds.password)}
        key = self._token_key(ref, challenge, scope)
        for _ in range(2):
            token, expiry = self._tokens.get(key, lambda: self._token(ref, challenge, scope, what))
            if expiry > time.monotonic():
                return {"Authorization": f"Bearer {token}"}
            self._tokens.drop(key)
        raise RegistryError(f"{what}: the token server keeps issuing expired tokens")

    def _token_key(self, ref: Reference, challenge: Challenge, scope: str) -> Hashable:
        creds = self._credentials(ref)
        return (challenge.realm, challenge.params.get("service", ""), scope, creds and creds.key)

    def _token(
        self, ref: Reference, challenge: Challenge, scope: str, what: str
    ) -> tuple[str, float]:
        realm = challenge.realm
        parts = urlsplit(realm)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise RegistryError(f"{what}: the registry's token realm is not a URL")
        if parts.scheme == "http" and not self.http.plain_allowed(parts.netloc):
            raise RegistryError(f"{what}: refused a plain-HTTP token realm on {parts.netloc}")
        creds = self._credentials(ref)
        query = {"scope": scope}
        if challenge.params.get("service"):
            query["service"] = challenge.params["service"]
        headers: dict[str, str] = {"Accept": "application/json"}
        start = time.monotonic()
        if creds is not None and creds.identity_token:
            # docker's OAuth2 flow for identity tokens (refresh tokens)
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "client_id": "mb-ci",
                **query,
            }
            reply = self.http.fetch(
                realm, headers, 1024 * 1024, what=f"{what} token", method="POST", data=form
            )
        else:
            if creds is not None:
                headers["Authorization"] = _basic(creds.username, creds.password)
            sep = "&" if parts.query else "?"
            reply = self.http.fetch(
                f"{realm}{sep}{urlencode(query)}", headers, 1024 * 1024, what=f"{what} token"
            )
        if reply.status in (401, 403):
            raise RegistryError(f"{what}: {self._denied(ref)}")
        if reply.status != 200:
            raise RegistryError(f"{what}: the token server answered HTTP {reply.status}")
        doc = oci.load(reply.body, f"{what} token response")
        token = doc.get("token") or doc.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{what}: the token server sent no token")
        expires = doc.get("expires_in")
        lifetime = float(expires) if isinstance(expires, (int, float)) and expires > 0 else 60.0
        return token, start + max(lifetime - 5.0, 1.0)


def _checked(reply: Reply, ref: Reference, what: str) -> Reply:
    if reply.status == 200:
        return reply
    code = _error_code(reply.body)
    if reply.status == 404 or code in ("MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN"):
        if code == "NAME_UNKNOWN":
            raise RegistryError(f"{what}: no such repository {ref.repository} on {ref.registry}")
        if code == "BLOB_UNKNOWN" or "/blobs/" in reply.url:
            raise RegistryError(f"{what}: the registry has lost a blob (HTTP 404)")
        raise RegistryError(f"{what}: no such tag or digest '{ref.target}' (manifest unknown)")
    if reply.status == 403:
        raise RegistryError(f"{what}: access denied (HTTP 403)")
    if reply.status == 429:
        raise RegistryError(f"{what}: rate limited by the registry (HTTP 429), try again later")
    suffix = f" {code}" if code else ""
    raise RegistryError(f"{what}: the registry answered HTTP {reply.status}{suffix}")


def _error_code(body: bytes) -> str | None:
    import json

    try:
        doc = json.loads(body[:65536])
        code = doc["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return str(code)[:40] if isinstance(code, str) and code.replace("_", "").isalnum() else None


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
