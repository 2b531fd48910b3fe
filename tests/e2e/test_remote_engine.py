"""A remote engine over TLS-verified TCP, as GitLab's docker-in-docker service offers it.

socat terminates TLS on loopback (client certificates required) in front of the running engine's
unix socket, so no second dockerd is started. Certificates use docker's DOCKER_CERT_PATH layout.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.clock import now
from helpers.git import SOURCE

SOCKET = Path("/var/run/docker.sock")
EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

pytestmark = pytest.mark.skipif(not shutil.which("socat"), reason="needs socat (testbed --full)")
# set on many CI images; requests would let it replace DOCKER_CERT_PATH/ca.pem (psf/requests#3829)
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(d: Path, name: str) -> None:
    _openssl(
        "req",
        "-x509",
        *EC_KEY,
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.pem",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        cwd=d,
    )


def _leaf(d: Path, ca: str, name: str, ext: str) -> None:
    (d / f"{name}.ext").write_text(
        f"{ext}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl(
        "req",
        "-new",
        *EC_KEY,
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-subj",
        f"/CN={name}",
        cwd=d,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        f"{ca}.pem",
        "-CAkey",
        f"{ca}.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        f"{name}.pem",
        "-extfile",
        f"{name}.ext",
        cwd=d,
    )


def _cert_path(d: Path, ca: str, client: str) -> Path:
    """A DOCKER_CERT_PATH directory: ca.pem, cert.pem, key.pem."""
    d.mkdir()
    for src, dst in (
        (f"{ca}.pem", "ca.pem"),
        (f"{client}.pem", "cert.pem"),
        (f"{client}.key", "key.pem"),
    ):
        shutil.copy(d.parent / src, d / dst)
        (d / dst).chmod(0o644)  # readable by the container's root over any mount
    return d


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    _ca(d, "ca")
    _ca(d, "other-ca")
    _leaf(
        d, "ca", "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"
    )
    _leaf(d, "ca", "client", "extendedKeyUsage=clientAuth")
    _leaf(d, "other-ca", "stranger", "extendedKeyUsage=clientAuth")
    _cert_path(d / "good", "ca", "client")
    _cert_path(d / "foreign-client", "ca", "stranger")
    _cert_path(d / "wrong-ca", "other-ca", "client")
    return d


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_proxy(pki: Path, port: int) -> subprocess.Popen[bytes]:
    """socat: TLS with required client certificates on 127.0.0.1:PORT -> the engine's socket."""
    listen = (
        f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={pki}/server.pem,"
        f"key={pki}/server.key,cafile={pki}/ca.pem,verify=1"
    )
    return subprocess.Popen(
        ["socat", listen, f"UNIX-CONNECT:{SOCKET}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()  # socat's forked children exit with their connections
    proc.wait(timeout=10)


def _listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        assert proc.poll() is None, "socat exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"socat is not listening on {port}")


@pytest.fixture(scope="module")
def endpoint(pki: Path, engine: object) -> Iterator[str]:
    port = _free_port()
    proc = _start_proxy(pki, port)
    try:
        _listening(port, proc)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture
def image(repo, build_image) -> str:
    created = now()
    return build_image(
        {
            "org.opencontainers.image.revision": repo.head,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": created,
        }
    )


def _tls_env(host: str, certs: Path) -> dict[str, str]:
    return {
        "DOCKER_HOST": host,
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(certs),
        "REQUESTS_CA_BUNDLE": SYSTEM_BUNDLE,
    }


def test_check_passes_over_verified_tls(mbci, repo, image, endpoint, pki):
    result = mbci("check", image, cwd=repo.path, env=_tls_env(endpoint, pki / "good"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("certs", ["foreign-client", "wrong-ca", "missing"])
def test_refused_tls_exits_3_with_one_line(mbci, repo, image, endpoint, pki, certs):
    # foreign-client: the engine refuses a client certificate from another CA;
    # wrong-ca: the engine's certificate is not signed by DOCKER_CERT_PATH/ca.pem;
    # missing: DOCKER_TLS_VERIFY without any certificates
    result = mbci("check", image, cwd=repo.path, env=_tls_env(endpoint, pki / certs))
    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    # the line says which certificate directory failed and how to fix it
    assert f"over TLS with {pki / certs}: " in lines[0], lines[0]
    assert "DOCKER_CERT_PATH needs the engine's ca.pem" in lines[0], lines[0]


def _run_container(
    action_image: str, host: str, certs: Path, repo, image: str, name: str
) -> subprocess.Popen[str]:
    """The job as GitLab runs it next to a dind service: engine over TCP, certs in a volume."""
    env = _tls_env(host, Path("/certs/client"))
    cmd = [
        "docker",
        "run",
        "--rm",
        "--name",
        name,
        "--network",
        "host",
        "-v",
        f"{certs}:/certs/client:ro",
        "-v",
        f"{repo.path}:/repo",
    ]
    for key, value in env.items():
        cmd += ["-e", f"{key}={value}"]
    cmd += [action_image, "check", image, "--repo", "/repo"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_container_checks_over_verified_tls(action_image, repo, image, endpoint, pki):
    proc = _run_container(
        action_image, endpoint, pki / "good", repo, image, f"mb-ci-test-{uuid.uuid4().hex[:8]}"
    )
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err


def test_container_waits_for_an_engine_that_starts_later(action_image, repo, image, pki, engine):
    port, name = _free_port(), f"mb-ci-test-{uuid.uuid4().hex[:8]}"
    proc = _run_container(action_image, f"tcp://127.0.0.1:{port}", pki / "good", repo, image, name)
    proxy: list[subprocess.Popen[bytes]] = []
    early: list[bool] = []

    def start_late() -> None:
        # the container is up (its entry point running) before anything listens on the port
        while (
            proc.poll() is None
            and subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Running}}", name],
                capture_output=True,
                text=True,
            ).stdout.strip()
            != "true"
        ):
            time.sleep(0.2)
        time.sleep(2)
        early.append(proc.poll() is None)
        proxy.append(_start_proxy(pki, port))

    starter = threading.Thread(target=start_late, daemon=True)
    starter.start()
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        starter.join(timeout=30)
        for p in proxy:
            _stop(p)
    assert early == [True], "the container exited before the engine came up: " + err
    assert proc.returncode == 0, out + err
    assert "did not answer" not in err
