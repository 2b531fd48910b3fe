"""Faults the real registry cannot show, injected by a loopback proxy; and the shared client."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from helpers.registry import Client, FaultServer, Registry, Rule, push, start_registry, which

from mb_ci.errors import ImageError, RegistryError
from mb_ci.sources.options import SourceOptions
from mb_ci.sources.registry import RegistryClient, list_tags, parse_reference

pytestmark = [
    pytest.mark.registry,
    pytest.mark.skipif(not which("docker-registry"), reason="no docker-registry"),
]
USER, PASSWORD = "robot", "t0ken-pass-abc"


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: Any, build_image: Any) -> Any:
    reg = start_registry(tmp_path_factory.mktemp("faults"))
    digest = push(build_image({"org.opencontainers.image.revision": "a" * 40}), reg, "app:1")
    client = Client(reg)
    data, media_type = client.get("app", digest)
    for tag in ("2", "3", "4"):
        client.put_manifest("app", tag, __import__("json").loads(data), media_type)
    yield reg, digest
    reg.stop()


@pytest.fixture(autouse=True)
def no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "empty"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)


@pytest.fixture
def proxy(pushed: Any) -> Any:
    server = FaultServer(pushed[0])
    yield server
    server.close()


def test_429_then_success_honours_retry_after(proxy: FaultServer) -> None:
    proxy.rules.append(Rule("/manifests/", "status:429", headers={"Retry-After": "0"}))
    with RegistryClient() as client:
        facts = client.inspect(f"{proxy.host}/app:1")
    assert facts.platforms[0].labels["org.opencontainers.image.revision"] == "a" * 40
    assert len(proxy.requests_to("/manifests/1")) == 2


def test_persistent_503_gives_up_after_bounded_retries(proxy: FaultServer) -> None:
    proxy.rules.append(Rule("/manifests/", "status:503", times=0, headers={"Retry-After": "0"}))
    with RegistryClient() as client, pytest.raises(RegistryError, match="HTTP 503"):
        client.inspect(f"{proxy.host}/app:1")
    assert len(proxy.requests_to("/manifests/1")) == 3


def test_truncated_body_is_an_error(proxy: FaultServer) -> None:
    proxy.rules.append(Rule("/manifests/", "truncate"))
    with RegistryClient() as client, pytest.raises(RegistryError, match=r"truncated|broke"):
        client.inspect(f"{proxy.host}/app:1")


def test_config_digest_mismatch_is_caught(proxy: FaultServer) -> None:
    proxy.rules.append(Rule("/blobs/", "corrupt"))
    with RegistryClient() as client, pytest.raises(ImageError, match="digest mismatch"):
        client.inspect(f"{proxy.host}/app:1")


def test_manifest_digest_mismatch_is_caught(proxy: FaultServer, pushed: Any) -> None:
    proxy.rules.append(Rule("/manifests/", "corrupt"))
    with RegistryClient() as client, pytest.raises(ImageError, match="digest mismatch"):
        client.inspect(f"{proxy.host}/app@{pushed[1]}")


def test_oversized_manifest_is_refused(proxy: FaultServer) -> None:
    proxy.rules.append(Rule("/manifests/", "huge"))
    with RegistryClient() as client, pytest.raises(RegistryError, match="limit"):
        client.inspect(f"{proxy.host}/app:1")


def test_redirect_to_another_host_gets_no_token(pushed: Any) -> None:
    storage = FaultServer(pushed[0], host="127.0.0.2")
    front = FaultServer(pushed[0], token_users={USER: PASSWORD})
    front.rules.append(Rule("/blobs/", "redirect:http://" + storage.host, times=0))
    try:
        options = SourceOptions(username=USER, password=PASSWORD)
        with RegistryClient(options) as client:
            facts = client.inspect(f"{front.host}/app:1")
        assert facts.platforms[0].config_digest
        blob_front = front.requests_to("/blobs/")
        blob_storage = storage.requests_to("/blobs/")
        assert blob_front and blob_front[0].headers["Authorization"].startswith("Bearer ")
        assert blob_storage and all("Authorization" not in s.headers for s in storage.seen)
    finally:
        storage.close()
        front.close()


def test_shared_client_fetches_each_document_once(pushed: Any) -> None:
    server = FaultServer(pushed[0], token_users={USER: PASSWORD})
    errors: list[BaseException] = []
    try:
        client = RegistryClient(SourceOptions(username=USER, password=PASSWORD))

        def work() -> None:
            try:
                client.inspect(f"{server.host}/app@{pushed[1]}")
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        client.close()
        assert not errors
        assert len(server.requests_to("/token")) == 1
        authorized = [s for s in server.seen if "Authorization" in s.headers]
        assert len([s for s in authorized if "/manifests/" in s.path]) == 1
        assert len([s for s in authorized if "/blobs/" in s.path]) == 1
        assert client.request_count == len(server.seen)  # loopback: plain HTTP first, no probe
    finally:
        server.close()


@pytest.mark.parametrize("limit", [1, 3])
def test_requests_in_flight_to_one_host_are_bounded(pushed: Any, limit: int) -> None:
    """16 threads, each reading its own tag: never more than ``host_connections`` at once,
    and exactly that many when the requests are slow enough to overlap."""
    server = FaultServer(pushed[0])
    server.delay = 0.05
    client = RegistryClient(SourceOptions(host_connections=limit))
    errors: list[BaseException] = []

    def work(tag: str) -> None:
        try:
            client.inspect(f"{server.host}/app:{tag}")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    try:
        threads = [threading.Thread(target=work, args=(t,)) for t in ("1", "2", "3", "4") * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert server.max_in_flight == limit
    finally:
        client.close()
        server.close()


def test_host_connections_is_an_option_with_bounds(tmp_path: Path) -> None:
    from helpers.cli import run_mbci

    bad = run_mbci("check", "--host-connections", "0", "docker://127.0.0.1:1/x:1", cwd=tmp_path)
    assert bad.returncode == 2
    assert "--host-connections 0: expected 1 to 64" in bad.stderr


def test_list_tags_follows_link_pagination(pushed: Any, proxy: FaultServer) -> None:
    reg: Registry = pushed[0]
    proxy.rules.append(Rule("/tags/list", "paginate", times=0))
    with RegistryClient() as client:
        client.tag_page = 2
        assert sorted(client.list_tags(f"{proxy.host}/app")) == ["1", "2", "3", "4"]
    pages = proxy.requests_to("/tags/list")
    assert len(pages) == 2 and "last=2" in pages[1].path
    assert sorted(list_tags(f"docker://{reg.host}/app")) == ["1", "2", "3", "4"]


def test_resolve_returns_the_tag_digest(pushed: Any) -> None:
    reg, digest = pushed
    with RegistryClient() as client:
        assert client.resolve(f"{reg.host}/app:1") == digest


def test_reference_parsing() -> None:
    hub = parse_reference("alpine")
    assert (hub.host, hub.registry, hub.repository, hub.tag) == (
        "registry-1.docker.io",
        "docker.io",
        "library/alpine",
        "latest",
    )
    local = parse_reference("localhost:5000/a/b:1.0@sha256:" + "0" * 64)
    assert (local.host, local.repository, local.tag) == ("localhost:5000", "a/b", "1.0")
    assert local.target == "sha256:" + "0" * 64
    with pytest.raises(Exception, match="not a valid"):
        parse_reference("ghcr.io/UPPER/case")
