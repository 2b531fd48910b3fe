"""The audit tests' view of a real registry: access-log offsets, retagging, manifests."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
class Registry:
    """``host`` is ``127.0.0.1:PORT``; ``log`` holds one access-log line per request."""

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


@pytest.fixture(scope="session")
def audit_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A real registry (distribution 2.8) on a free loopback port, no auth, no TLS, started
    by the registry tests' ``start_registry``."""
    if shutil.which("docker-registry") is None:
        if os.environ.get("MB_CI_REQUIRE_ENGINE"):
            raise RuntimeError("the tests need docker-registry (scripts/testbed --full)")
        pytest.skip("docker-registry is not installed")
    from registry_fixtures import start_registry

    real = start_registry(tmp_path_factory.mktemp("audit-registry"))
    registry = Registry(real.host, real.log, real.proc)
    yield registry
    real.stop()


def count(requests: list[tuple[str, str, int]], method: str, fragment: str) -> Counter[str]:
    return Counter(path for m, path, _ in requests if m == method and fragment in path)
