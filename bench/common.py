"""What the benchmarks share: timing, a latency-adding counting proxy, a loopback registry."""

from __future__ import annotations

import http.client
import http.server
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
MBCI = str(VENV_BIN / "mb-ci")
CST = str(VENV_BIN / "container-structure-test")


def env(**extra: str) -> dict[str, str]:
    """The environment for measured commands: no CI variables, no colour.

    Bytecode caching is left on, as in any installed package: with PYTHONDONTWRITEBYTECODE set
    every run would compile mb-ci's sources again and measure that instead.
    """
    skip = ("GITHUB_", "CI", "MB_CI_", "PYTHONDONTWRITEBYTECODE")
    out = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    out.update(NO_COLOR="1", **extra)
    return out


def run(cmd: Sequence[str], cwd: Path | None = None, check: bool = False) -> float:
    """Wall time of one run of ``cmd`` (output discarded)."""
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - start
    if check and proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]!r}")
    return elapsed


def compare(
    commands: Mapping[str, Sequence[str] | Callable[[], None]],
    runs: int,
    warmup: int = 2,
    cwd: Path | None = None,
) -> dict[str, list[float]]:
    """Run every command ``runs`` times, interleaved so that machine noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for n in range(warmup + runs):
        for name, cmd in commands.items():
            if callable(cmd):
                start = time.perf_counter()
                cmd()
                elapsed = time.perf_counter() - start
            else:
                elapsed = run(cmd, cwd, check=True)
            if n >= warmup:
                times[name].append(elapsed)
    return times


def median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1000


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    import platform

    load = os.getloadavg()[0]
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"load average {load:.1f} at the start (the machine is shared)"
    )


# --- a latency-adding, counting HTTP proxy ---------------------------------------------------


@dataclass
class Traffic:
    requests: list[tuple[str, str, int, int]] = field(
        default_factory=list
    )  # method path status bytes
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, status: int, size: int) -> None:
        with self.lock:
            self.requests.append((method, path, status, size))

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()

    def summary(self, configs: set[str] | None = None) -> dict[str, int]:
        """Requests, body bytes, and the bytes of blobs that are not config blobs (layers)."""
        with self.lock:
            reqs = list(self.requests)
        layer = sum(
            size
            for method, path, _, size in reqs
            if method == "GET"
            and "/blobs/" in path
            and path.rsplit("/", 1)[1] not in (configs or ())
        )
        return {
            "requests": len(reqs),
            "bytes": sum(size for *_, size in reqs),
            "layer_bytes": layer,
        }


class DelayProxy:
    """Forwards plain HTTP to ``upstream`` after sleeping ``delay`` seconds per request.

    This kernel has no netem, so network latency is emulated here, on loopback only. Every
    request and the size of every response body are recorded in ``traffic``.
    """

    def __init__(self, upstream: str, delay: float) -> None:
        self.upstream, self.delay, self.traffic = upstream, delay, Traffic()
        self._local = threading.local()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                time.sleep(proxy.delay)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                resp, data = proxy.upstream_request(self.command, self.path, self.headers, body)
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                proxy.traffic.add(self.command, self.path, resp.status, len(data))

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def upstream_request(
        self, method: str, path: str, headers: Any, body: bytes | None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        """One request upstream on this thread's kept-alive connection (reconnecting once)."""
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(self.upstream, timeout=60)
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for key, value in headers.items():  # repeated headers (Accept) kept
                    conn.putheader(key, value)
                conn.endheaders(body)
                resp = conn.getresponse()
                return resp, resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def __enter__(self) -> DelayProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- a loopback registry ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalRegistry:
    """``docker-registry serve`` on a free loopback port with storage in ``root``."""

    def __init__(self, root: Path) -> None:
        if shutil.which("docker-registry") is None:
            sys.exit("bench: docker-registry is not installed (scripts/testbed --full)")
        port = free_port()
        self.host = f"127.0.0.1:{port}"
        config = root / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            f"http:\n  addr: {self.host}\n"
        )
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("docker-registry did not start")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def docker(*args: str, quiet: bool = True) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, env=env())
    if proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {proc.stderr.strip()[-500:]}")
    return proc.stdout.strip()


def build_scratch(tag: str, labels: Mapping[str, str], payload: bytes, workdir: Path) -> str:
    """A ``FROM scratch`` image holding ``payload``; returns its id."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "payload.bin").write_bytes(payload)
    (workdir / "Dockerfile").write_text("FROM scratch\nCOPY payload.bin /payload.bin\n")
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    return docker("build", "-q", "-t", tag, *label_args, str(workdir))


# --- pushing images over the distribution API (fast: no engine, no build) ---------------------


def _sha256(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


def _put_blob(host: str, repo: str, data: bytes) -> str:
    digest = _sha256(data)
    start = urllib.request.Request(f"http://{host}/v2/{repo}/blobs/uploads/", method="POST")
    with urllib.request.urlopen(start, timeout=30) as resp:
        location = resp.headers["Location"]
    if location.startswith("/"):
        location = f"http://{host}{location}"
    sep = "&" if "?" in location else "?"
    put = urllib.request.Request(
        f"{location}{sep}digest={digest}",
        data=data,
        method="PUT",
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(put, timeout=30) as resp:
        assert resp.status == 201, resp.status
    return digest


def push_image(
    host: str, repo: str, tags: Sequence[str], labels: Mapping[str, str], payload: bytes
) -> tuple[str, str, str]:
    """Push a one-layer linux/amd64 image straight to a registry; ``(manifest, config, layer)``
    digests. The layer holds ``payload`` as ``/payload.bin``, so ``docker pull`` works too."""
    import gzip
    import io
    import json
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("payload.bin")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": dict(labels)},
            "rootfs": {"type": "layers", "diff_ids": [_sha256(raw.getvalue())]},
        }
    ).encode()
    layer_digest = _put_blob(host, repo, layer)
    config_digest = _put_blob(host, repo, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": config_digest,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": layer_digest,
                }
            ],
        }
    ).encode()
    for tag in tags:
        req = urllib.request.Request(
            f"http://{host}/v2/{repo}/manifests/{tag}",
            data=manifest,
            method="PUT",
            headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 201, resp.status
    return _sha256(manifest), config_digest, layer_digest


def splice(path: Path, title: str, section: str) -> None:
    """Replace the section headed ``title`` in ``path`` (up to the next ``## ``), or append it.

    Each benchmark owns its own section of docs/performance.md and leaves the others alone.
    """
    text = path.read_text() if path.exists() else "# Performance\n"
    body = section.rstrip("\n") + "\n"
    start = text.find(title)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        end = text.find("\n## ", start + len(title))
        text = text[:start] + body + ("\n" + text[end + 1 :] if end >= 0 else "")
    path.write_text(text)


def emit(title: str, section: str, write: str | None) -> None:
    """Print the section, and splice it into ``write`` when given."""
    print(section)
    if write:
        splice(Path(write), title, section)
