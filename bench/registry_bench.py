"""Benchmark: ``mb-ci check docker://…`` against ``skopeo inspect`` on one local registry.

Starts a real docker-registry on loopback, pushes a single-platform image and a two-platform
index (with an attestation manifest), and puts a request-counting, request-delaying proxy of its
own in front of it. Every tool reads the same references through the proxy, with no delay and
with ``--delay`` ms per request, ``--runs`` interleaved rounds (medians are reported).

    .venv/bin/python bench/registry_bench.py --runs 5 --delay 40 [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import http.server
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import common  # noqa: E402
from helpers.images import build_platform_image  # noqa: E402
from helpers.registry import Client, push, start_registry  # noqa: E402

SECTION = "## (b) Registry check"


class Proxy:
    """Forwards GET/HEAD to ``upstream`` after ``delay`` seconds; counts what it serves."""

    def __init__(self, upstream: str) -> None:
        self.delay = 0.0
        self.requests = 0
        self.probes = 0  # TLS hellos sent to this plain-HTTP port (clients trying https first)
        self.lock = threading.Lock()
        proxy = self
        local = threading.local()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle(self) -> None:
                # A TLS hello on this plain port: hang up at once, as Go's server answers at
                # once, instead of waiting for a request line that never comes.
                if self.connection.recv(1, socket.MSG_PEEK) == b"\x16":
                    with proxy.lock:
                        proxy.probes += 1
                    return
                super().handle()

            def do_GET(self) -> None:
                with proxy.lock:
                    proxy.requests += 1
                time.sleep(proxy.delay)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("accept", "authorization")
                }
                session = getattr(local, "session", None) or requests.Session()
                local.session = session
                resp = session.request(
                    self.command,
                    upstream + self.path,
                    headers=headers,
                    timeout=30,
                    allow_redirects=False,
                )
                body = resp.content
                self.send_response(resp.status_code)
                for k, v in resp.headers.items():
                    if k.lower() in (
                        "content-type",
                        "docker-content-digest",
                        "www-authenticate",
                        "location",
                        "link",
                    ):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_HEAD = do_GET

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.requests = self.probes = 0


def measure(
    tools: dict[str, Callable[[], object]], proxy: Proxy, runs: int, delay: float
) -> dict[str, tuple[int, int, float, float]]:
    """``name -> (requests, probes, median s without delay, median s with delay)``.

    Interleaved (every tool, both delays, each round) after one warm-up round, so that the
    shared machine's noise hits all tools alike.
    """
    times: dict[tuple[str, float], list[float]] = {}
    counts: dict[str, tuple[int, int]] = {}
    for n in range(runs + 1):
        for name, call in tools.items():
            for wait in (0.0, delay):
                proxy.delay = wait
                proxy.reset()
                start = time.perf_counter()
                call()
                if n:
                    times.setdefault((name, wait), []).append(time.perf_counter() - start)
                    counts[name] = (proxy.requests, proxy.probes)
    return {
        name: (*counts[name], median(times[(name, 0.0)]), median(times[(name, delay)]))
        for name in tools
    }


def command(cmd: list[str]) -> Callable[[], object]:
    def call() -> None:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=common.env())
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{cmd[0]} failed: {proc.stderr.strip()}")

    return call


def client_call(ref: str) -> Callable[[], object]:
    """The registry client alone, without Python's start-up and mb-ci's imports."""
    from mb_ci.sources.registry import RegistryClient

    def call() -> None:
        with RegistryClient() as client:
            client.inspect(ref)

    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", type=float, default=40.0, help="ms added to every request")
    parser.add_argument("--write", metavar="FILE", help="replace this benchmark's section in FILE")
    args = parser.parse_args()

    import docker

    engine = docker.from_env()
    work = Path(tempfile.mkdtemp(prefix="mb-ci-bench-"))
    reg = start_registry(work / "registry")
    labels = {
        "org.opencontainers.image.revision": "0" * 40,
        "org.opencontainers.image.source": "https://example.com/x",
    }
    tags = [build_platform_image(engine, labels, p) for p in ("linux/amd64", "linux/arm64")]
    try:
        amd = push(tags[0], reg, "app:single")
        arm = push(tags[1], reg, "app:arm64")
        client = Client(reg)
        client.put_index(
            "app",
            "multi",
            [
                client.entry("app", amd, "linux/amd64"),
                client.entry("app", arm, "linux/arm64"),
                client.attestation("app", amd),
            ],
        )
        proxy = Proxy(reg.url)
        mbci = [common.MBCI, "check", "--no-git", "--format", "json"]
        skopeo = ["skopeo", "inspect", "--tls-verify=false", "--no-creds"]
        rows = []
        for image in ("single", "multi"):
            ref = f"{proxy.host}/app:{image}"
            tools = {
                "mb-ci check": command([*mbci, f"docker://{ref}"]),
                "skopeo inspect": command([*skopeo, f"docker://{ref}"]),
                "skopeo inspect --config": command([*skopeo, "--config", f"docker://{ref}"]),
                "mb-ci client, in process": client_call(ref),
            }
            for name, (count, probes, fast, slow) in measure(
                tools, proxy, args.runs, args.delay / 1000
            ).items():
                rows.append((image, name, count, probes, fast, slow))
    finally:
        reg.stop()
        for tag in tags:
            engine.images.remove(tag, force=True)
    text = report(rows, args)
    print(text)
    if args.write:
        common.splice(Path(args.write), SECTION, text)
    return 0


def report(rows: list[tuple[str, str, int, int, float, float]], args: argparse.Namespace) -> str:
    skopeo = subprocess.run(["skopeo", "--version"], capture_output=True, text=True).stdout.strip()
    intro = (
        f"`mb-ci check docker://…` against {skopeo}, same registry (docker-registry 2.8 on "
        "loopback, plain HTTP), same images, one run of the benchmark. `requests` are the HTTP "
        "requests the benchmark's proxy served; `probes` are TLS hellos it refused (skopeo tries "
        "HTTPS first on an insecure registry, mb-ci tries plain HTTP first on loopback). Wall "
        f"times are medians of {args.runs} interleaved runs after a warm-up, on "
        f"{common.machine()}; `+latency` is what {args.delay:g} ms per request added. The "
        "in-process rows time `RegistryClient.inspect` alone, without Python's start-up."
    )
    lines = [
        SECTION,
        "",
        *textwrap.wrap(intro, width=96),
        "",
        f"| image | tool | requests | probes | wall, 0 ms | wall, {args.delay:g} ms | +latency |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for image, name, count, probes, fast, slow in rows:
        lines.append(
            f"| {image} | {name} | {count} | {probes} | {fast * 1000:.0f} ms | "
            f"{slow * 1000:.0f} ms | {(slow - fast) * 1000:.0f} ms |"
        )
    lines += ["", *summary(rows, args.delay)]
    lines += [
        "",
        "Reproduce (needs docker, docker-registry and skopeo; `scripts/bench registry` runs the"
        " same with `--runs 5`):",
        "",
        "```sh",
        f".venv/bin/python bench/registry_bench.py --runs {args.runs} --delay {args.delay:g} "
        "--write docs/performance.md",
        "```",
        "",
    ]
    return "\n".join(lines)


def summary(rows: list[tuple[str, str, int, int, float, float]], delay: float) -> list[str]:
    by = {(image, name): row for image, name, *row in rows}
    out = []
    for image in ("single", "multi"):
        ours = by[(image, "mb-ci check")]
        client = by[(image, "mb-ci client, in process")]
        config = by[(image, "skopeo inspect --config")]
        plain = by[(image, "skopeo inspect")]
        what = "single-platform image" if image == "single" else "two-platform index"
        out += textwrap.wrap(
            f"- {what}: mb-ci makes {ours[0]} requests + {ours[1]} probes, skopeo inspect "
            f"--config {config[0]} + {config[1]} (one platform only), skopeo inspect "
            f"{plain[0]} + {plain[1]}. Latency added at {delay:g} ms per request: mb-ci's "
            f"client {client[3] - client[2]:.2f} s, skopeo inspect --config "
            f"{config[3] - config[2]:.2f} s. Whole wall time: mb-ci check "
            f"{ours[2] / config[2]:.1f}x skopeo inspect --config, nearly all of it Python's "
            f"start-up and mb-ci's imports (the client alone takes {client[2]:.2f} s).",
            width=96,
            subsequent_indent="  ",
        )
    return out


if __name__ == "__main__":
    raise SystemExit(main())
