"""docker:// against a real docker-registry on loopback: verdicts, platforms, auth, TLS."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.clock import now
from helpers.git import SOURCE, Repo, new_repo
from helpers.images import build_platform_image
from helpers.registry import (
    Client,
    FaultServer,
    ForwardProxy,
    Registry,
    TokenServer,
    make_ca,
    push,
    start_registry,
    which,
    write_credential_helper,
)

pytestmark = [
    pytest.mark.registry,
    pytest.mark.skipif(not which("docker-registry", "htpasswd", "openssl"), reason="no registry"),
]
NO_ENGINE = "unix:///nonexistent/docker.sock"
USER, PASSWORD = "ci-bot", "s3cret-Pa55word-xyz"


def labels(revision: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.created": now(),
    }


@dataclass
class Bed:
    """The session's registry, checkout and pushed images."""

    registry: Registry
    checkout: Repo
    old_commit: str
    tags: dict[str, str]  # name -> local engine tag
    digests: dict[str, str]  # name -> manifest digest in the registry
    layers: set[str]  # every layer digest pushed
    workdir: Path

    def ref(self, name: str, host: str | None = None) -> str:
        return f"docker://{host or self.registry.host}/app:{name}"


@pytest.fixture(scope="session")
def bed(tmp_path_factory: Any, engine: Any, build_image: Any) -> Any:
    work = tmp_path_factory.mktemp("registry")
    checkout = new_repo(work / "widget")
    old = checkout.head
    checkout.commit("second")
    reg = start_registry(work / "open")
    tags = {
        "good": build_image(labels(checkout.head)),
        "bad": build_image({**labels("main"), "org.opencontainers.image.source": "https://x.y/z"}),
        "arm64-good": build_platform_image(engine, labels(checkout.head), "linux/arm64"),
        "arm64-old": build_platform_image(engine, labels(old), "linux/arm64"),
    }
    digests = {name: push(tag, reg, f"app:{name}") for name, tag in tags.items()}
    client = Client(reg)
    layer_digests: set[str] = set()
    for digest in digests.values():
        manifest = json.loads(client.get("app", digest)[0])
        layer_digests |= {layer["digest"] for layer in manifest["layers"]}
    for name, arm in (("multi", "arm64-good"), ("mixed", "arm64-old")):
        entries = [
            client.entry("app", digests["good"], "linux/amd64"),
            client.entry("app", digests[arm], "linux/arm64"),
            client.attestation("app", digests["good"]),
        ]
        digests[name] = client.put_index(
            "app", name, entries, {"org.opencontainers.image.source": SOURCE}
        )["digest"]
    yield Bed(reg, checkout, old, tags, digests, layer_digests, work)
    reg.stop()
    for name in ("arm64-good", "arm64-old"):
        engine.images.remove(tags[name], force=True)


def check(
    mbci: Any,
    bed: Bed,
    image: str,
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> Any:
    full_env = {
        "DOCKER_HOST": NO_ENGINE,
        "DOCKER_CONFIG": str(bed.workdir / "no-config"),
        **(env or {}),
    }
    return mbci(
        "check", image, "--format", "json", *args, cwd=bed.checkout.path, env=full_env, input=input
    )


def verdict(result: Any) -> tuple[int, list[tuple[str, str | None]]]:
    doc = json.loads(result.stdout)
    return result.returncode, sorted((f["check"], f["label"]) for f in doc["findings"])


def test_registry_verdict_matches_engine(bed: Bed, mbci: Any) -> None:
    for name, expected in (("good", 0), ("bad", 1)):
        remote = check(mbci, bed, bed.ref(name))
        local = mbci("check", bed.tags[name], "--format", "json", cwd=bed.checkout.path)
        assert remote.returncode == expected, remote.stdout + remote.stderr
        assert verdict(remote) == verdict(local)
        doc = json.loads(remote.stdout)
        platform = doc["image"]["platforms"][0]
        assert doc["image"]["transport"] == "docker"
        assert platform["digest"] == bed.digests[name]
        assert platform["config_digest"].startswith("sha256:")
        assert platform["layers"] == 1 and platform["compressed_size"] > 0


def test_index_checks_both_platforms_and_skips_attestation(bed: Bed, mbci: Any) -> None:
    result = check(mbci, bed, bed.ref("multi"))
    assert result.returncode == 0, result.stdout + result.stderr
    image = json.loads(result.stdout)["image"]
    assert [p["platform"] for p in image["platforms"]] == ["linux/amd64", "linux/arm64"]
    assert [p["digest"] for p in image["platforms"]] == [
        bed.digests["good"],
        bed.digests["arm64-good"],
    ]
    assert image["digest"] == bed.digests["multi"]
    assert len(image["skipped"]) == 1 and "attestation" in image["skipped"][0]
    assert image["index_annotations"] == {"org.opencontainers.image.source": SOURCE}
    only = check(mbci, bed, bed.ref("multi"), "--platform", "linux/arm64")
    assert [p["platform"] for p in json.loads(only.stdout)["image"]["platforms"]] == ["linux/arm64"]


def test_platform_from_another_commit_fails_naming_it(bed: Bed, mbci: Any) -> None:
    result = check(mbci, bed, bed.ref("mixed"))
    assert result.returncode == 1
    findings = json.loads(result.stdout)["findings"]
    revision = [f for f in findings if f["check"] == "revision-matches-head"]
    assert [f["platform"] for f in revision] == ["linux/arm64"]
    assert revision[0]["actual"] == bed.old_commit
    assert any(f["check"] == "platforms-agree" for f in findings)
    text = check(mbci, bed, bed.ref("mixed"), "--format", "text")
    assert "platform linux/arm64" in text.stdout


def test_no_layer_blob_is_ever_requested(bed: Bed, mbci: Any) -> None:
    result = check(mbci, bed, bed.ref("multi"))
    configs = {p["config_digest"] for p in json.loads(result.stdout)["image"]["platforms"]}
    deadline = time.monotonic() + 10  # the registry logs a request after answering it
    while True:
        log = bed.registry.requests_log()
        fetched = {line.rsplit("/", 1)[1] for line in log if line.startswith("GET /v2/app/blobs/")}
        if configs <= fetched or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert configs <= fetched, "the config blobs should have been fetched"
    assert not fetched & bed.layers


def test_missing_tag_and_unreachable_registry_exit_3(bed: Bed, mbci: Any) -> None:
    missing = check(mbci, bed, bed.ref("nope"))
    assert missing.returncode == 3
    assert missing.stderr.count("\n") == 1 and "app:nope" in missing.stderr
    assert "no such tag" in missing.stderr
    down = check(mbci, bed, "docker://127.0.0.1:9/app:1", "--timeout", "5")
    assert down.returncode == 3 and "127.0.0.1:9" in down.stderr
    assert down.stderr.count("\n") == 1


@pytest.fixture(scope="session")
def basic_registry(bed: Bed) -> Any:
    reg = start_registry(
        bed.workdir / "basic", storage=bed.registry.storage, users={USER: PASSWORD}
    )
    yield reg
    reg.stop()


def test_basic_auth_with_password_stdin(bed: Bed, basic_registry: Registry, mbci: Any) -> None:
    ref = bed.ref("good", basic_registry.host)
    ok = check(mbci, bed, ref, "--username", USER, "--password-stdin", input=PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    wrong = check(
        mbci, bed, ref, "-v", "--username", USER, "--password-stdin", input="wrong-pass-99\n"
    )
    assert wrong.returncode == 3
    assert wrong.stderr.count("\n") == 1 and ref in wrong.stderr
    assert "rejected the credentials" in wrong.stderr
    assert "wrong-pass-99" not in wrong.stderr + wrong.stdout
    anonymous = check(mbci, bed, ref)
    assert anonymous.returncode == 3 and "authentication required" in anonymous.stderr


def test_credentials_from_helper_and_auth_file(
    bed: Bed, basic_registry: Registry, mbci: Any, tmp_path: Path
) -> None:
    bindir = tmp_path / "bin"
    write_credential_helper(bindir, "test", basic_registry.host, USER, PASSWORD)
    config = tmp_path / "docker"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credHelpers": {basic_registry.host: "test"}}))
    import os

    env = {"DOCKER_CONFIG": str(config), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    result = check(mbci, bed, bed.ref("good", basic_registry.host), env=env)
    assert result.returncode == 0, result.stderr
    (config / "config.json").write_text(json.dumps({"credsStore": "test"}))
    result = check(mbci, bed, bed.ref("good", basic_registry.host), env=env)
    assert result.returncode == 0, result.stderr
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {basic_registry.host: {"auth": auth}}}))
    result = check(
        mbci, bed, bed.ref("good", basic_registry.host), env={"REGISTRY_AUTH_FILE": str(auth_file)}
    )
    assert result.returncode == 0, result.stderr


def test_tls_with_custom_ca(bed: Bed, mbci: Any, tmp_path: Path) -> None:
    ca, crt, key = make_ca(tmp_path / "pki")
    reg = start_registry(tmp_path / "tls", storage=bed.registry.storage, tls=(ca, crt, key))
    try:
        ref = bed.ref("good", reg.host)
        untrusted = check(mbci, bed, ref)
        assert untrusted.returncode == 3 and "not trusted" in untrusted.stderr
        # REQUESTS_CA_BUNDLE must not override --ca-file (requests ignores a session verify)
        with_ca = check(
            mbci,
            bed,
            ref,
            "--ca-file",
            str(ca),
            env={"REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"},
        )
        assert with_ca.returncode == 0, with_ca.stderr
        certs_d = tmp_path / "certs.d" / reg.host
        certs_d.mkdir(parents=True)
        (certs_d / "ca.crt").write_bytes(ca.read_bytes())
        via_certs_d = check(mbci, bed, ref, env={"MB_CI_CERTS_D": str(tmp_path / "certs.d")})
        assert via_certs_d.returncode == 0, via_certs_d.stderr
    finally:
        reg.stop()


def test_proxies_from_the_environment_tunnel_https_and_forward_http(
    bed: Bed, mbci: Any, tmp_path: Path
) -> None:
    """HTTPS through a CONNECT tunnel with the proxy URL's credentials, plain HTTP as
    absolute-URI requests, and NO_PROXY bypassing the proxy: what requests' environment
    handling did, kept by the registry client's own transport."""
    ca, crt, key = make_ca(tmp_path / "pki")
    reg = start_registry(tmp_path / "tls", storage=bed.registry.storage, tls=(ca, crt, key))
    proxy = ForwardProxy()
    try:
        via = {
            "HTTPS_PROXY": f"http://us%40er:p%3Ass@{proxy.host}",
            "HTTP_PROXY": f"http://{proxy.host}",
        }
        tunnelled = check(mbci, bed, bed.ref("good", reg.host), "--ca-file", str(ca), env=via)
        assert tunnelled.returncode == 0, tunnelled.stderr
        connects = [(line, auth) for line, auth in proxy.seen if line.startswith("CONNECT ")]
        assert connects and all(line.split()[1] == reg.host for line, _ in connects)
        expected = "Basic " + base64.b64encode(b"us@er:p:ss").decode()
        assert {auth for _, auth in connects} == {expected}
        proxy.seen.clear()
        forwarded = check(mbci, bed, bed.ref("good"), env=via)
        assert forwarded.returncode == 0, forwarded.stderr
        assert proxy.seen and all(
            line.split()[1].startswith(f"http://{bed.registry.host}/v2/") for line, _ in proxy.seen
        )
        proxy.seen.clear()
        bypassed = check(mbci, bed, bed.ref("good"), env={**via, "NO_PROXY": "127.0.0.1"})
        assert bypassed.returncode == 0, bypassed.stderr
        assert proxy.seen == []
        socks = check(mbci, bed, bed.ref("good"), env={"ALL_PROXY": "socks5://u:s3cret@h:1080"})
        assert socks.returncode == 3 and "socks5 proxies are not supported" in socks.stderr
        assert "s3cret" not in socks.stderr and "Traceback" not in socks.stderr
    finally:
        proxy.close()
        reg.stop()


def test_token_auth_and_anonymous_tokens(bed: Bed, mbci: Any, tmp_path: Path) -> None:
    server = FaultServer(bed.registry, token_users={USER: PASSWORD})
    try:
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        config = tmp_path / "docker"
        config.mkdir()
        (config / "config.json").write_text(json.dumps({"auths": {server.host: {"auth": auth}}}))
        ok = check(mbci, bed, bed.ref("multi", server.host), env={"DOCKER_CONFIG": str(config)})
        assert ok.returncode == 0, ok.stderr
        tokens = server.requests_to("/token")
        # one token for the repository, reused for the index, both manifests and both configs
        assert len(tokens) == 1 and "scope=repository%3Aapp%3Apull" in tokens[0].path
        assert tokens[0].headers["Authorization"].startswith("Basic ")
        wrong = check(
            mbci,
            bed,
            bed.ref("good", server.host),
            "--username",
            USER,
            "--password-stdin",
            input="not-it-123\n",
        )
        assert wrong.returncode == 3 and "not-it-123" not in wrong.stderr
        assert wrong.stderr.count("\n") == 1
    finally:
        server.close()
    anonymous = FaultServer(bed.registry, anonymous=True)
    try:
        ok = check(mbci, bed, bed.ref("good", anonymous.host))
        assert ok.returncode == 0, ok.stderr
        assert "Authorization" not in anonymous.requests_to("/token")[0].headers
    finally:
        anonymous.close()


def test_real_registry_with_token_auth(bed: Bed, mbci: Any, tmp_path: Path) -> None:
    """distribution's own ``auth: token`` verifies the JWTs of the project's token server."""
    tokens = TokenServer(tmp_path / "tokens", {USER: PASSWORD})
    reg = start_registry(tmp_path / "reg", storage=bed.registry.storage, token=tokens)
    try:
        ref = bed.ref("multi", reg.host)
        ok = check(mbci, bed, ref, "--username", USER, "--password-stdin", input=PASSWORD + "\n")
        assert ok.returncode == 0, ok.stderr
        assert len(tokens.seen) == 1 and "scope=repository%3Aapp%3Apull" in tokens.seen[0].path
        wrong = check(mbci, bed, ref, "--username", USER, "--password-stdin", input="nope-77\n")
        assert wrong.returncode == 3 and "rejected the credentials" in wrong.stderr
        assert "nope-77" not in wrong.stderr
        anonymous = check(mbci, bed, ref)
        assert anonymous.returncode == 3 and "authentication required" in anonymous.stderr
    finally:
        reg.stop()
        tokens.close()
