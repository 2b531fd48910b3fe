"""The manifest, config and index readers on real documents, and on arbitrary JSON (hypothesis).

Whatever JSON an image carries, reading it ends in facts or in one of the documented errors
(``ImageError``, exit 3; ``UsageError``, exit 2, for a bad ``--platform``), never in another
exception. The platform table is containerd's normalisation (``platforms/database.go``).
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import pytest
from helpers import paths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mb_ci.errors import ImageError, MbCiError, UsageError
from mb_ci.sources import inspect, oci, platforms
from mb_ci.sources.options import SourceOptions
from mb_ci.sources.resolve import resolve

DATA = paths.DATA / "images"
SCHEMA1 = DATA / "containers-image" / "schema2-to-schema1-by-docker.json"
DIGEST = "sha256:" + "ab" * 32

# -- platforms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("linux/arm", "linux/arm/v7"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/arm/7", "linux/arm/v7"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("Linux/AMD64/V3", "linux/amd64/v3"),
        ("linux/i386", "linux/386"),
        ("macos/arm64", "darwin/arm64"),
    ],
)
def test_platform_names_normalise_as_containerd(name: str, normal: str) -> None:
    assert str(platforms.parse(name)) == normal


def test_platform_choice_prefers_the_closest_entry() -> None:
    entries = [(n, n) for n in ("linux/amd64", "linux/amd64/v3", "linux/arm/v6", "linux/arm/v7")]
    assert platforms.choose(["linux/amd64/v2"], entries) == ["linux/amd64"]
    assert platforms.choose(["linux/amd64/v4"], entries) == ["linux/amd64/v3"]
    assert platforms.choose(["linux/amd64"], entries) == ["linux/amd64"]
    assert platforms.choose(["linux/arm"], entries) == ["linux/arm/v7"]
    assert platforms.choose(["linux/arm/v6"], entries) == ["linux/arm/v6"]
    assert platforms.choose(["linux/arm/v5"], entries) == []
    assert platforms.choose(["linux/ppc64le"], [("linux/ppc64le/power9", 1)]) == [1]
    assert platforms.choose([], entries) == [n for n, _ in entries]
    with pytest.raises(UsageError, match="OS/ARCH"):
        platforms.choose(["linux"], entries)


# -- schema 1 -----------------------------------------------------------------------------


def no_fetch(desc: oci.Descriptor, what: str) -> bytes:
    raise AssertionError(f"nothing to fetch for a schema 1 manifest ({what})")


def test_schema1_labels_come_from_v1_compatibility() -> None:
    """containers/image's schema 1 fixture (docker's own conversion of an httpd image)."""
    doc = json.loads(SCHEMA1.read_text())
    found = resolve(doc, DIGEST, None, "schema1", (), no_fetch, no_fetch)
    [facts] = found.platforms
    assert facts.platform == "linux/amd64" and facts.labels == {}
    compat = json.loads(doc["history"][0]["v1Compatibility"])
    compat["config"]["Labels"] = {"org.opencontainers.image.revision": "a" * 40}
    doc["history"][0]["v1Compatibility"] = json.dumps(compat)
    [facts] = resolve(doc, DIGEST, None, "schema1", (), no_fetch, no_fetch).platforms
    assert facts.labels == {"org.opencontainers.image.revision": "a" * 40}
    doc["history"][0]["v1Compatibility"] = '{"config": "x"}'
    with pytest.raises(ImageError, match=r"v1Compatibility: `config` is a string"):
        resolve(doc, DIGEST, None, "schema1", (), no_fetch, no_fetch)


def test_containers_image_artifact_is_not_a_container_image() -> None:
    doc = json.loads((DATA / "containers-image" / "ociv1.artifact.json").read_text())
    with pytest.raises(
        ImageError,
        match=r"not a container image \(artifact with config "
        r"application/vnd\.oci\.custom\.artifact\.config\.v1\+json\)",
    ):
        resolve(doc, DIGEST, oci.OCI_MANIFEST, "artifact", (), no_fetch, no_fetch)


# -- arbitrary JSON -----------------------------------------------------------------------

KEYS = [
    "schemaVersion", "mediaType", "manifests", "config", "layers", "digest", "size",
    "platform", "os", "architecture", "variant", "annotations", "artifactType", "history",
    "v1Compatibility", "Labels", "rootfs", "diff_ids", "Config", "RepoTags", "Layers",
]  # fmt: skip
MEDIA = [
    oci.OCI_INDEX, oci.OCI_MANIFEST, oci.DOCKER_LIST, oci.DOCKER_MANIFEST, *oci.SCHEMA1_TYPES,
    "application/vnd.oci.image.config.v1+json", "application/xml", "",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from([*MEDIA, DIGEST, "linux", "amd64", "arm", "v7", "1", "{}"])
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=6)
    ),
    max_leaves=30,
)
documents = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The valid shape most of the time, anything at all now and then."""
    return st.one_of(valid, valid, valid, json_values)


strings = st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3)
platform_docs = st.fixed_dictionaries(
    {},
    optional={
        "os": mostly(st.sampled_from(["linux", "windows", "unknown"])),
        "architecture": mostly(st.sampled_from(["amd64", "arm", "arm64", "unknown"])),
        "variant": mostly(st.sampled_from(["v7", "v8", "v2"])),
    },
)
descriptors = st.fixed_dictionaries(
    {
        "mediaType": mostly(st.sampled_from(MEDIA)),
        "digest": mostly(st.sampled_from([DIGEST, "sha256:" + "cd" * 32])),
        "size": mostly(st.integers(0, 10**6)),
    },
    optional={
        "platform": mostly(platform_docs),
        "annotations": mostly(strings),
        "artifactType": mostly(st.sampled_from(["application/vnd.example+type"])),
    },
)
indexes = st.fixed_dictionaries(
    {"schemaVersion": mostly(st.just(2)), "manifests": mostly(st.lists(descriptors, max_size=4))},
    optional={"mediaType": mostly(st.sampled_from(MEDIA)), "annotations": mostly(strings)},
)
manifests = st.fixed_dictionaries(
    {"schemaVersion": mostly(st.just(2)), "config": mostly(descriptors)},
    optional={
        "layers": mostly(st.lists(descriptors, max_size=3)),
        "annotations": mostly(strings),
        "artifactType": st.text(max_size=3),
    },
)
configs = st.fixed_dictionaries(
    {},
    optional={
        "architecture": mostly(st.sampled_from(["amd64", "arm"])),
        "os": mostly(st.just("linux")),
        "variant": mostly(st.just("v7")),
        "config": mostly(st.fixed_dictionaries({}, optional={"Labels": mostly(strings)})),
        "rootfs": mostly(st.fixed_dictionaries({"diff_ids": mostly(st.lists(st.just(DIGEST)))})),
    },
)
schema1s = st.fixed_dictionaries(
    {
        "schemaVersion": st.just(1),
        "history": mostly(
            st.lists(
                st.fixed_dictionaries({"v1Compatibility": mostly(configs.map(json.dumps))}),
                max_size=2,
            )
        ),
    },
    optional={"architecture": mostly(st.just("amd64"))},
)
any_document = st.one_of(indexes, manifests, configs, schema1s, documents)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    top=any_document,
    fetched=st.lists(st.one_of(manifests, configs, indexes, json_values), min_size=1, max_size=4),
    wanted=st.sampled_from([(), ("linux/amd64",), ("linux/arm",), ("bad",)]),
)
def test_resolve_raises_only_documented_errors(
    top: dict[str, Any], fetched: list[Any], wanted: tuple[str, ...]
) -> None:
    calls = iter(range(1000))

    def fetch(desc: oci.Descriptor, what: str) -> bytes:
        return json.dumps(fetched[next(calls) % len(fetched)]).encode()

    try:
        found = resolve(top, DIGEST, None, "x", wanted, fetch, fetch)
    except (ImageError, UsageError) as e:
        assert "\n" not in str(e)
    else:
        assert found.platforms


def tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    manifest_json=mostly(
        st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "Config": json_values,
                    "RepoTags": mostly(st.lists(st.just("app:1"))),
                    "Layers": mostly(st.lists(st.just("layer.tar"))),
                },
            ),
            max_size=2,
        )
    ),
    index_json=st.none() | indexes | documents,
    config=mostly(configs),
    ref=st.sampled_from(["", ":@0", ":app:1", ":latest"]),
)
def test_archive_readers_raise_only_documented_errors(
    tmp_path_factory: Any, manifest_json: Any, index_json: Any, config: Any, ref: str
) -> None:
    config_bytes = json.dumps(config).encode()
    config_name = "blobs/sha256/" + oci.digest_of(config_bytes)[7:]
    files = {config_name: config_bytes, "manifest.json": json.dumps(manifest_json).encode()}
    if isinstance(manifest_json, list) and manifest_json and isinstance(manifest_json[0], dict):
        manifest_json[0]["Config"] = config_name  # reach the config reader too
        files["manifest.json"] = json.dumps(manifest_json).encode()
    if index_json is not None:
        files["index.json"] = json.dumps(index_json).encode()
    path = tmp_path_factory.mktemp("hyp") / "a.tar"
    path.write_bytes(tarball(files))
    for transport in ("docker-archive", "oci-archive"):
        try:
            inspect(f"{transport}:{path}{ref}", SourceOptions())
        except MbCiError as e:
            assert e.exit_code == 3 and "\n" not in str(e), e
