"""Real registries on loopback for tests and benchmarks, plus the few fakes the real one can't be.

- ``start_registry(workdir, storage=..., users=..., tls=...)``: a real ``docker-registry serve``
  on a free 127.0.0.1 port (htpasswd Basic auth, TLS with a self-signed CA made by openssl);
  returns a ``Registry`` with ``host`` (``127.0.0.1:PORT``) and ``log`` (access log path).
  Several registries may share one ``storage`` directory: push once to an open one, read
  through an authenticated or TLS one.
- ``make_ca(dir)``: a CA and a server certificate for 127.0.0.1/localhost.
- ``push(tag, registry, name)``: ``docker push`` an engine image (plain HTTP works because the
  engine treats 127.0.0.0/8 as insecure); returns the manifest digest.
- ``Client``: a tiny distribution-API writer (blobs, manifests, indexes) for what docker cannot
  push: image indexes, attestation manifests, re-platformed configs.
- ``FaultServer``: a loopback proxy in front of a registry that can demand Bearer tokens (a
  token server implementing the documented challenge flow), answer 429s, truncate bodies,
  corrupt blobs and redirect to another host; it records every request it receives.
- ``TokenServer(dir, users)``: a JWT token server for a real registry started with
  ``start_registry(..., token=server)`` (distribution's own ``auth: token``).
- ``AccessLog``: the audit tests' view of a registry: access-log offsets, retagging, manifests.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ACCEPT = ", ".join(
    (
        OCI_INDEX,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        OCI_MANIFEST,
        DOCKER_MANIFEST,
    )
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Registry:
    host: str
    log: Path
    storage: Path
    proc: subprocess.Popen[bytes]
    scheme: str = "http"
    auth: tuple[str, str] | None = None
    ca: Path | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def requests_log(self) -> list[str]:
        """``METHOD /path`` for every request in the registry's access log."""
        text = self.log.read_text(errors="replace")
        return re.findall(r'"((?:GET|HEAD|PUT|POST|PATCH|DELETE) \S+) HTTP/', text)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """``(ca.crt, server.crt, server.key)`` for 127.0.0.1 and localhost, via openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = folder / "ca.key", folder / "ca.crt"
    key, csr, crt = folder / "server.key", folder / "server.csr", folder / "server.crt"
    ext = folder / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")

    def ossl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    ossl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca_crt),
        "-days",
        "2",
        "-subj",
        "/CN=mb-ci test CA",
    )
    ossl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        "/CN=127.0.0.1",
    )
    ossl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_crt),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(crt),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return ca_crt, crt, key


def start_registry(
    workdir: Path,
    storage: Path | None = None,
    users: Mapping[str, str] | None = None,
    tls: tuple[Path, Path, Path] | None = None,
    token: TokenServer | None = None,
) -> Registry:
    """A real ``docker-registry serve`` on loopback; ``tls`` is ``make_ca``'s result.

    With ``token``, the registry itself runs distribution's ``auth: token`` and trusts the
    signing certificate of that ``TokenServer`` (start the token server first).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    storage = storage or workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": uuid.uuid4().hex},
    }
    if users:
        htpasswd = workdir / "htpasswd"
        lines = [
            subprocess.run(
                ["htpasswd", "-Bbn", u, p], check=True, capture_output=True, text=True
            ).stdout.strip()
            for u, p in users.items()
        ]
        htpasswd.write_text("\n".join(lines) + "\n")
        config["auth"] = {"htpasswd": {"realm": "mb-ci-test", "path": str(htpasswd)}}
    if token:
        config["auth"] = {
            "token": {
                "realm": f"http://{token.host}/token",
                "service": token.service,
                "issuer": token.issuer,
                "rootcertbundle": str(token.cert),
            }
        }
    if tls:
        config["http"]["tls"] = {"certificate": str(tls[1]), "key": str(tls[2])}
    conf = workdir / "config.yml"
    conf.write_text(json.dumps(config))  # JSON is YAML
    log = workdir / "registry.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            ["docker-registry", "serve", str(conf)], stdout=out, stderr=subprocess.STDOUT
        )
    scheme = "https" if tls else "http"
    reg = Registry(
        f"127.0.0.1:{port}",
        log,
        storage,
        proc,
        scheme,
        next(iter(users.items())) if users else None,
        tls[0] if tls else None,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()[-2000:]}")
        try:
            requests.get(f"{reg.url}/v2/", timeout=1, verify=str(reg.ca) if reg.ca else True)
            return reg
        except requests.RequestException:
            time.sleep(0.1)
    reg.stop()
    raise RuntimeError("docker-registry did not start")


def push(tag: str, registry: Registry, name: str) -> str:
    """``docker push`` ``tag`` as ``registry/name``; returns the pushed manifest's digest."""
    target = f"{registry.host}/{name}"
    subprocess.run(["docker", "tag", tag, target], check=True, capture_output=True)
    out = subprocess.run(["docker", "push", target], check=True, capture_output=True, text=True)
    subprocess.run(["docker", "rmi", target], check=False, capture_output=True)
    found = re.search(r"digest: (sha256:[0-9a-f]{64})", out.stdout)
    assert found, out.stdout
    return found.group(1)


@dataclass
class Client:
    """Just enough of the distribution API to write what docker push cannot."""

    registry: Registry

    def _url(self, path: str) -> str:
        return f"{self.registry.url}{path}"

    def _kw(self) -> dict[str, Any]:
        return {
            "auth": self.registry.auth,
            "timeout": 10,
            "verify": str(self.registry.ca) if self.registry.ca else True,
        }

    def get(self, repo: str, ref: str) -> tuple[bytes, str]:
        resp = requests.get(
            self._url(f"/v2/{repo}/manifests/{ref}"), headers={"Accept": ACCEPT}, **self._kw()
        )
        resp.raise_for_status()
        return resp.content, resp.headers["Content-Type"]

    def blob(self, repo: str, digest: str) -> bytes:
        resp = requests.get(self._url(f"/v2/{repo}/blobs/{digest}"), **self._kw())
        resp.raise_for_status()
        return resp.content

    def put_blob(self, repo: str, data: bytes) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = requests.post(self._url(f"/v2/{repo}/blobs/uploads/"), **self._kw())
        start.raise_for_status()
        location = requests.compat.urljoin(self.registry.url, start.headers["Location"])
        sep = "&" if "?" in location else "?"
        done = requests.put(
            f"{location}{sep}digest={digest}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            **self._kw(),
        )
        done.raise_for_status()
        return {"digest": digest, "size": len(data)}

    def put_manifest(
        self, repo: str, ref: str | None, doc: Mapping[str, Any], media_type: str
    ) -> dict[str, Any]:
        data = json.dumps(doc, separators=(",", ":")).encode()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        resp = requests.put(
            self._url(f"/v2/{repo}/manifests/{ref or digest}"),
            data=data,
            headers={"Content-Type": media_type},
            **self._kw(),
        )
        assert resp.status_code == 201, resp.text
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def attestation(self, repo: str, subject: str) -> dict[str, Any]:
        """A BuildKit-style attestation manifest for ``subject``, as an index entry."""
        config = self.put_blob(repo, b"{}")
        layer = self.put_blob(
            repo,
            json.dumps(
                {
                    "_type": "https://in-toto.io/Statement/v0.1",
                    "predicateType": "https://slsa.dev/provenance/v0.2",
                    # a provenance about ``subject`` that claims nothing (min mode, no VCS)
                    "subject": [{"name": "_", "digest": {"sha256": subject.split(":")[1]}}],
                    "predicate": {"buildType": "https://mobyproject.org/buildkit@v1"},
                }
            ).encode(),
        )
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [
                {
                    "mediaType": "application/vnd.in-toto+json",
                    **layer,
                    "annotations": {
                        "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"
                    },
                }
            ],
        }
        desc = self.put_manifest(repo, None, manifest, OCI_MANIFEST)
        desc["platform"] = {"os": "unknown", "architecture": "unknown"}
        desc["annotations"] = {
            "vnd.docker.reference.digest": subject,
            "vnd.docker.reference.type": "attestation-manifest",
        }
        return desc

    def put_index(
        self,
        repo: str,
        tag: str,
        entries: list[dict[str, Any]],
        annotations: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        if annotations:
            doc["annotations"] = dict(annotations)
        return self.put_manifest(repo, tag, doc, OCI_INDEX)

    def entry(self, repo: str, digest: str, platform: str) -> dict[str, Any]:
        """An index entry for the manifest ``digest`` already in ``repo``."""
        data, media_type = self.get(repo, digest)
        parts = platform.split("/")
        plat = {
            "os": parts[0],
            "architecture": parts[1],
            **({"variant": parts[2]} if len(parts) > 2 else {}),
        }
        return {
            "mediaType": media_type.split(";")[0],
            "digest": digest,
            "size": len(data),
            "platform": plat,
        }


# -- faults ------------------------------------------------------------------------------------


@dataclass
class Rule:
    """Apply ``action`` to requests whose path matches ``pattern`` (``times`` times, 0 = always)."""

    pattern: str
    action: str  # status:429, truncate, corrupt, huge, paginate, redirect:http://host:port
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-fault (TLS probes, truncation) are expected here


class FaultServer:
    """A loopback HTTP proxy to ``upstream`` with faults, optional Bearer auth and a request log.

    With ``token_users`` set it is also the token server: registry paths answer 401 with
    ``WWW-Authenticate: Bearer realm=".../token",service="mb-ci-test",scope="repository:R:pull"``
    until they carry a token it issued; ``GET /token`` issues one for the Basic credentials in
    ``token_users`` (or anonymously when ``anonymous`` is true).
    """

    def __init__(
        self,
        upstream: Registry,
        host: str = "127.0.0.1",
        token_users: Mapping[str, str] | None = None,
        anonymous: bool = False,
    ) -> None:
        self.upstream = upstream
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self.token_users = dict(token_users or {})
        self.anonymous = anonymous
        self.tokens: set[str] = set()
        self.delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at one time
        self._flight = threading.Lock()
        self.referrers = False  # answer the OCI 1.1 referrers API the registry lacks
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.handle(self)

            do_HEAD = do_GET

        self.httpd = _QuietServer((host, 0), Handler)
        self.host = f"{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_to(self, fragment: str) -> list[Seen]:
        return [s for s in self.seen if fragment in s.path]

    def _send(
        self,
        h: Any,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
        length: int | None = None,
    ) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)
        h.wfile.flush()

    def handle(self, h: Any) -> None:
        self.seen.append(Seen(h.command, h.path, dict(h.headers.items())))
        # in flight: counted before any byte of the answer is sent, so a client that waits
        # for the answer before its next request is never counted twice
        with self._flight:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.delay:
            time.sleep(self.delay)
        with self._flight:
            self.in_flight -= 1
        if h.path.startswith("/token"):
            return self._token(h)
        if self.token_users or self.anonymous:
            got = h.headers.get("Authorization", "")
            if not (got.startswith("Bearer ") and got[7:] in self.tokens):
                repo = re.match(r"/v2/(.+?)/(?:manifests|blobs|tags)/", h.path)
                scope = f',scope="repository:{repo.group(1)}:pull"' if repo else ""
                challenge = f'Bearer realm="http://{self.host}/token",service="mb-ci-test"' + scope
                body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
                return self._send(
                    h,
                    401,
                    body,
                    {"WWW-Authenticate": challenge, "Content-Type": "application/json"},
                )
        found = re.match(r"/v2/(.+?)/referrers/(sha256:[0-9a-f]{64})$", h.path)
        if self.referrers and found:
            return self._referrers(h, found.group(1), found.group(2))
        action = None
        for rule in self.rules:
            if re.search(rule.pattern, h.path) and (rule.times == 0 or rule.hits < rule.times):
                rule.hits += 1
                action = rule
                break
        if action and action.action.startswith("status:"):
            return self._send(h, int(action.action.split(":")[1]), b"slow down", action.headers)
        if action and action.action == "huge":
            return self._send(h, 200, b"{" + b" " * (5 * 1024 * 1024) + b"}", {})
        if action and action.action.startswith("redirect:"):
            target = action.action.split(":", 1)[1] + h.path
            return self._send(h, 307, b"", {"Location": target})
        headers = {k: v for k, v in h.headers.items() if k.lower() in ("accept",)}
        resp = requests.get(
            f"{self.upstream.url}{h.path}",
            headers=headers,
            auth=self.upstream.auth,
            timeout=10,
            allow_redirects=False,
            verify=str(self.upstream.ca) if self.upstream.ca else True,
        )
        body = resp.content
        out = {
            k: v
            for k, v in resp.headers.items()
            if k.lower() in ("content-type", "docker-content-digest", "link", "location")
        }
        if action and action.action == "paginate":  # registry 2.8 ignores n= on tags/list
            return self._paginate(h, resp.json(), h.path)
        if action and action.action == "truncate":
            h.close_connection = True  # the client must see the short body, not wait for more
            out["Connection"] = "close"
            return self._send(h, resp.status_code, body[: len(body) // 2], out, len(body))
        if action and action.action == "corrupt":  # same length, valid JSON, other digest
            for old, new in (
                (b'"os":"linux"', b'"os":"linuy"'),
                (b'"schemaVersion": 2', b'"schemaVersion":2 '),
            ):
                body = body.replace(old, new, 1)
        self._send(h, resp.status_code, body, out)

    def _referrers(self, h: Any, repo: str, digest: str) -> None:
        """The referrers API computed from the registry itself: every tagged or untagged
        manifest the test pushed through ``Client`` is found by walking the tags' indexes."""
        kw = {
            "auth": self.upstream.auth,
            "timeout": 10,
            "verify": str(self.upstream.ca) if self.upstream.ca else True,
        }
        tags = requests.get(f"{self.upstream.url}/v2/{repo}/tags/list", **kw).json()["tags"]
        seen: set[str] = set()
        todo = [t for t in tags or []]
        entries = []
        while todo:
            ref = todo.pop()
            resp = requests.get(
                f"{self.upstream.url}/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT}, **kw
            )
            digest_of = resp.headers.get("Docker-Content-Digest", ref)
            if resp.status_code != 200 or digest_of in seen:
                continue
            seen.add(digest_of)
            doc = resp.json()
            todo.extend(m["digest"] for m in doc.get("manifests") or [])
            if (doc.get("subject") or {}).get("digest") == digest:
                entry = {
                    "mediaType": doc.get("mediaType", OCI_MANIFEST),
                    "digest": digest_of,
                    "size": len(resp.content),
                    "artifactType": doc.get("artifactType")
                    or doc.get("config", {}).get("mediaType"),
                }
                if doc.get("annotations"):
                    entry["annotations"] = doc["annotations"]
                entries.append(entry)
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
        self._send(h, 200, body.encode(), {"Content-Type": OCI_INDEX})

    def _paginate(self, h: Any, doc: dict[str, Any], path: str) -> None:
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(path).query)
        n = int(query.get("n", ["100"])[0])
        tags = sorted(doc.get("tags") or [])
        last = query.get("last", [""])[0]
        rest = [t for t in tags if t > last] if last else tags
        page = rest[:n]
        headers = {"Content-Type": "application/json"}
        if len(rest) > n:
            base = urlsplit(path).path
            headers["Link"] = f'<{base}?n={n}&last={page[-1]}>; rel="next"'
        self._send(h, 200, json.dumps({"name": doc.get("name"), "tags": page}).encode(), headers)

    def _token(self, h: Any) -> None:
        got = h.headers.get("Authorization", "")
        user = None
        if got.startswith("Basic "):
            name, _, password = base64.b64decode(got[6:]).decode().partition(":")
            if self.token_users.get(name) != password:
                return self._send(
                    h, 401, b'{"details":"bad credentials"}', {"Content-Type": "application/json"}
                )
            user = name
        if user is None and not self.anonymous:
            return self._send(
                h, 401, b'{"details":"credentials required"}', {"Content-Type": "application/json"}
            )
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        body = json.dumps({"token": token, "expires_in": 300}).encode()
        self._send(h, 200, body, {"Content-Type": "application/json"})


class ForwardProxy:
    """A loopback HTTP proxy as corporate networks have: ``CONNECT`` tunnels for HTTPS and
    absolute-URI requests for plain HTTP, recording each request line and its
    ``Proxy-Authorization`` header."""

    def __init__(self) -> None:
        import socket

        self.seen: list[tuple[str, str | None]] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: Any) -> None:
        import socket

        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            text, _, rest = head.partition(b"\r\n\r\n")
            lines = text.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            fields = {
                k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if ": " in line)
            }
            self.seen.append((lines[0], fields.get("proxy-authorization")))
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                parts = urllib.parse.urlsplit(target)
                upstream = socket.create_connection((parts.hostname, parts.port or 80))
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                kept = [
                    line
                    for line in lines[1:]
                    if not line.lower().startswith(("proxy-", "connection:"))
                ]
                request = [f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""]
                upstream.sendall("\r\n".join(request).encode("latin-1") + rest)
            with upstream:
                self._pipe(conn, upstream)

    @staticmethod
    def _pipe(a: Any, b: Any) -> None:
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        while True:
            for key, _ in sel.select(timeout=30):
                data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                if not data:
                    return
                key.data.sendall(data)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A token server for distribution's ``auth: token``, per the documented challenge flow.

    ``GET /token?service=S&scope=repository:NAME:pull`` with Basic credentials from ``users``
    (or none, when ``anonymous``) answers ``{"token": JWT, "expires_in": 300}``; the JWT is RS256,
    signed by openssl with a self-signed key whose certificate travels in the ``x5c`` header and
    is the registry's ``rootcertbundle``. ``seen`` records each request's path and headers.
    """

    service = "mb-ci-test"
    issuer = "mb-ci-test-issuer"

    def __init__(self, workdir: Path, users: Mapping[str, str], anonymous: bool = False) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.key, self.cert = workdir / "token.key", workdir / "token.crt"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(self.key),
                "-out",
                str(self.cert),
                "-days",
                "2",
                "-subj",
                "/CN=mb-ci token issuer",
            ],
            check=True,
            capture_output=True,
        )
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        self.x5c = base64.b64encode(der).decode()
        self.users, self.anonymous = dict(users), anonymous
        self.seen: list[Seen] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.seen.append(Seen("GET", self.path, dict(self.headers.items())))
                status, body = server.answer(self.path, self.headers.get("Authorization", ""))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, path: str, authorization: str) -> tuple[int, bytes]:
        from urllib.parse import parse_qs, urlsplit

        subject = ""
        if authorization.startswith("Basic "):
            name, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            if self.users.get(name) != password:
                return 401, b'{"details":"bad credentials"}'
            subject = name
        elif not self.anonymous:
            return 401, b'{"details":"credentials required"}'
        query = parse_qs(urlsplit(path).query)
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": query.get("service", [""])[0],
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing.encode(),
            check=True,
            capture_output=True,
        ).stdout
        token = f"{signing}.{_b64url(signature)}"
        return 200, json.dumps({"token": token, "expires_in": 300}).encode()


def write_credential_helper(bindir: Path, name: str, host: str, user: str, secret: str) -> Path:
    """A ``docker-credential-NAME`` script answering ``get`` for ``host`` only."""
    bindir.mkdir(parents=True, exist_ok=True)
    script = bindir / f"docker-credential-{name}"
    payload = json.dumps({"ServerURL": host, "Username": user, "Secret": secret})
    script.write_text(
        "#!/bin/sh\n"
        '[ "$1" = get ] || exit 1\n'
        "read -r server\n"
        f'if [ "$server" = "{host}" ]; then echo \'{payload}\'; exit 0; fi\n'
        'echo "credentials not found in native keychain"; exit 1\n'
    )
    script.chmod(0o755)
    return script


def which(*tools: str) -> bool:
    return all(shutil.which(t) for t in tools)


Stoppable = Callable[[], None]


# --- the audit's view: access-log offsets, retagging, manifests ---

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json",
    )
)
_ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3})')


@dataclass
class AccessLog:
    """A running registry seen through its access log; ``host`` is ``127.0.0.1:PORT``."""

    host: str
    log: Path
    proc: subprocess.Popen[bytes]

    def mark(self) -> int:
        return self.log.stat().st_size

    def requests(self, since: int = 0) -> list[tuple[str, str, int]]:
        """``(method, path, status)`` for every request logged after offset ``since``."""
        time.sleep(0.2)  # the registry writes its access log line after the response
        with self.log.open("rb") as fh:
            fh.seek(since)
            text = fh.read().decode("utf-8", "replace")
        return [
            (m["method"], m["path"], int(m["status"]))
            for m in (_ACCESS.search(line) for line in text.splitlines())
            if m
        ]

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def manifest(self, repo: str, ref: str) -> tuple[bytes, str, str]:
        req = urllib.request.Request(
            self.url(f"/v2/{repo}/manifests/{ref}"), headers={"Accept": MANIFEST_TYPES}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return (
                resp.read(),
                resp.headers["Content-Type"],
                resp.headers["Docker-Content-Digest"],
            )

    def tag(self, repo: str, source: str, *new_tags: str) -> str:
        """Point each of ``new_tags`` at the manifest ``source`` names; returns its digest."""
        body, media_type, digest = self.manifest(repo, source)
        for new in new_tags:
            req = urllib.request.Request(
                self.url(f"/v2/{repo}/manifests/{new}"),
                data=body,
                method="PUT",
                headers={"Content-Type": media_type},
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert resp.status == 201, resp.status
        return digest

    def config_digest(self, repo: str, ref: str) -> str:
        body, _, _ = self.manifest(repo, ref)
        return str(json.loads(body)["config"]["digest"])


def count(requests: list[tuple[str, str, int]], method: str, fragment: str) -> Counter[str]:
    return Counter(path for m, path, _ in requests if m == method and fragment in path)
