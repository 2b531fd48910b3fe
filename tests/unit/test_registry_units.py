"""The pure parts of the daemonless sources: challenges, platforms, TLS choice, credentials."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from mb_ci.errors import ImageError, UsageError
from mb_ci.sources import oci
from mb_ci.sources.archive import split_path
from mb_ci.sources.options import SourceOptions
from mb_ci.sources.registry.auth import lookup, parse_challenge
from mb_ci.sources.registry.client import _retry_after
from mb_ci.sources.registry.tls import is_loopback, plain_allowed, tls_for


def test_bearer_challenge_is_parsed() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/alpine:pull"'
    )
    challenge = parse_challenge(header)
    assert challenge is not None and challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.docker.io/token"
    assert challenge.params["scope"] == "repository:library/alpine:pull"
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None and basic.scheme == "basic"


def test_retry_after_seconds_and_default() -> None:
    assert _retry_after("3", 0.5) == 3.0
    assert _retry_after(None, 0.5) == 0.5
    assert _retry_after("soon", 0.5) == 0.5


def descriptor(
    platform: dict[str, str] | None, notes: dict[str, str] | None = None
) -> oci.Descriptor:
    raw = {"mediaType": oci.OCI_MANIFEST, "digest": "sha256:" + "a" * 64, "size": 1}
    if platform:
        raw["platform"] = platform  # type: ignore[assignment]
    if notes:
        raw["annotations"] = notes  # type: ignore[assignment]
    return oci.descriptor(raw, "test")


def test_select_skips_attestations_and_honours_platforms() -> None:
    amd = descriptor({"os": "linux", "architecture": "amd64"})
    arm = descriptor({"os": "linux", "architecture": "arm64", "variant": "v8"})
    att = descriptor(
        {"os": "unknown", "architecture": "unknown"},
        {"vnd.docker.reference.type": "attestation-manifest"},
    )
    chosen, skipped = oci.select([amd, arm, att], (), "x")
    assert chosen == [amd, arm] and len(skipped) == 1
    chosen, _ = oci.select([amd, arm, att], ("linux/arm64",), "x")
    assert chosen == [arm]  # arm64/v8 is arm64
    with pytest.raises(ImageError, match="the index has: linux/amd64, linux/arm64/v8"):
        oci.select([amd, arm, att], ("linux/s390x",), "x")
    with pytest.raises(UsageError, match="OS/ARCH"):
        oci.select([amd], ("amd64",), "x")


def test_bad_descriptor_digest_is_refused() -> None:
    with pytest.raises(ImageError, match="bad descriptor digest"):
        oci.descriptor({"digest": "sha256:../../etc/passwd", "size": 1}, "x")


def test_loopback_and_insecure_hosts() -> None:
    assert is_loopback("127.0.0.1:5000") and is_loopback("localhost") and is_loopback("[::1]:80")
    assert not is_loopback("registry.example:5000")
    options = SourceOptions(insecure_registries=("registry.example:5000",))
    assert plain_allowed("registry.example:5000", options)
    assert not plain_allowed("other.example", options)


def test_certs_d_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "registry.example:5000"
    folder.mkdir()
    (folder / "ca.crt").write_text("x")
    monkeypatch.setenv("MB_CI_CERTS_D", str(tmp_path))
    assert tls_for("registry.example:5000", SourceOptions()) == (str(folder / "ca.crt"), None)
    assert tls_for("elsewhere.example", SourceOptions()) == (True, None)
    assert tls_for("elsewhere.example", SourceOptions(ca_file=str(folder / "ca.crt")))[0] == str(
        folder / "ca.crt"
    )


def test_credentials_from_config_and_auth_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = base64.b64encode(b"me:pw").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"r.example": {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    found = lookup("r.example", SourceOptions())
    assert found is not None and (found.username, found.password) == ("me", "pw")
    assert "pw" not in repr(found)
    assert lookup("other.example", SourceOptions()) is None
    (tmp_path / "auth.json").write_text(json.dumps({"auths": {"other.example": {"auth": auth}}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "auth.json"))
    assert lookup("other.example", SourceOptions()) is not None
    with pytest.raises(UsageError, match="go together"):
        lookup("r.example", SourceOptions(username="me"))


def test_split_path_takes_the_existing_prefix(tmp_path: Path) -> None:
    archive = tmp_path / "app.tar"
    archive.write_bytes(b"")
    assert split_path(f"{archive}:app:1.0") == (archive, "app:1.0")
    assert split_path(f"{archive}") == (archive, None)
    assert split_path("missing.tar:x") == (Path("missing.tar:x"), None)


def test_an_index_with_too_many_platforms_is_refused() -> None:
    many = [descriptor({"os": "linux", "architecture": f"arch{i}"}) for i in range(65)]
    with pytest.raises(ImageError, match="pick some with --platform"):
        oci.select(many, (), "x")
    assert len(oci.select(many, ("linux/arch3",), "x")[0]) == 1


@pytest.mark.parametrize(
    ("ref", "mode", "head"),
    [
        ("alpine:3", "auto", True),  # Docker Hub counts manifest GETs against its pull limit
        ("docker.io/acme/app:1", "auto", True),
        ("index.docker.io/acme/app:1", "auto", True),
        ("ghcr.io/acme/app:1", "auto", False),
        ("127.0.0.1:5000/app:1", "auto", False),
        ("ghcr.io/acme/app:1", "head", True),
        ("alpine:3", "get", False),
    ],
)
def test_manifest_requests_decide_head_first_per_registry(ref, mode, head):
    from mb_ci.sources.registry import head_first, parse_reference

    assert head_first(parse_reference(ref), mode) is head


def test_proxy_settings_are_the_environments_read_once_per_host(monkeypatch) -> None:
    from mb_ci.sources.registry.client import Http

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp.pem")
    http = Http(SourceOptions())
    proxied = http.proxies_for("https://ghcr.io/v2/acme/app/manifests/1")
    assert proxied.get("https") == "http://proxy.example:3128"
    assert http.proxies_for("https://internal.example/v2/") == {}
    assert http._ca_bundle == "/etc/ssl/corp.pem"  # what trust_env gave verify=True
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:3128")
    assert http.proxies_for("https://ghcr.io/v2/other") is proxied  # memoised per host


PROXY_ENVIRONMENTS = [
    {"HTTPS_PROXY": "http://proxy.example:3128"},
    {"https_proxy": "http://proxy.example:3128", "no_proxy": "example.com"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".example.com, internal"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8,192.168.1.7"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "registry.example.com:5000"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"},
    {"ALL_PROXY": "socks5://p:1080"},
    {"HTTP_PROXY": "http://p:1"},
]
PROXY_URLS = [
    "https://example.com/v2/",
    "https://registry.example.com:5000/v2/",
    "https://registry.example.com/v2/",
    "https://notexample.com/v2/",
    "https://internal/v2/",
    "https://10.1.2.3:5000/v2/",
    "https://192.168.1.7/v2/",
    "https://192.168.1.8/v2/",
    "http://127.0.0.1:5000/v2/",
]


@pytest.mark.parametrize("env", PROXY_ENVIRONMENTS)
def test_proxy_choice_agrees_with_requests(env, monkeypatch) -> None:
    """requests' own environment handling is the oracle: the same proxy for every URL."""
    from requests.utils import get_environ_proxies, select_proxy

    from mb_ci.sources.registry.client import Http, _select_proxy

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    http = Http(SourceOptions())
    for url in PROXY_URLS:
        theirs = select_proxy(url, get_environ_proxies(url)) or ""
        assert _select_proxy(url, http.proxies_for(url)) == theirs, url
