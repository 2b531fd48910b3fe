"""docker:// shares the archive's reader: nested indexes, artifacts and shapes on a real registry.

The documents are pushed to a real docker-registry with the distribution API (what ``docker
push`` cannot write): an index whose second entry is itself an index (the image-spec's "image
index with multiple media types" example), the image-spec's artifact examples, and an image
whose config has the wrong shape.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers.clock import now
from helpers.git import SOURCE, new_repo
from helpers.images import build_platform_image
from helpers.paths import DATA
from helpers.registry import Client, push, start_registry, which

pytestmark = [
    pytest.mark.registry,
    pytest.mark.skipif(not which("docker-registry"), reason="no docker-registry"),
]
NO_ENGINE = "unix:///nonexistent/docker.sock"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
SPEC = DATA / "images" / "image-spec"


def labels(revision: str) -> dict[str, str]:
    created = now()
    return {
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.created": created,
    }


def spec_artifact(client: Client, name: str) -> dict[str, Any]:
    """The spec's example, its blobs pushed (``{}`` is the empty descriptor's own content)."""
    doc = json.loads((SPEC / name).read_text())
    empty = client.put_blob("app", b"{}")
    assert empty["digest"] == doc["config"]["digest"]  # the spec's sha256:44136fa3…
    payload = client.put_blob("app", b"an SBOM, a signature or a chart\n")
    doc["layers"] = [{**doc["layers"][0], **payload}]
    return client.put_manifest("app", None, doc, OCI_MANIFEST)


@pytest.fixture(scope="module")
def bed(tmp_path_factory: Any, engine: Any, build_image: Any) -> Any:
    work = tmp_path_factory.mktemp("images-registry")
    checkout = new_repo(work / "widget")
    reg = start_registry(work / "registry")
    client = Client(reg)
    arm = build_platform_image(engine, labels(checkout.head), "linux/arm/v7")
    try:
        amd_digest = push(build_image(labels(checkout.head)), reg, "app:amd")
        arm_digest = push(arm, reg, "app:arm")
    finally:
        engine.images.remove(arm, force=True)
    inner = client.put_index("app", "inner", [client.entry("app", arm_digest, "linux/arm/v7")])
    artifact = spec_artifact(client, "artifact-without-config.json")
    client.put_manifest(
        "app", "sbom", json.loads(client.get("app", artifact["digest"])[0]), OCI_MANIFEST
    )
    # image-index.md's "multiple media types" example: a manifest and an index side by side
    client.put_index(
        "app",
        "nested",
        [client.entry("app", amd_digest, "linux/amd64"), inner, artifact],
        {"com.example.key1": "value1"},
    )
    config = client.put_blob("app", json.dumps({"architecture": "amd64", "config": "x"}).encode())
    layer = json.loads(client.get("app", amd_digest)[0])["layers"][0]
    client.put_manifest(
        "app",
        "bad-config",
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [layer],
        },
        OCI_MANIFEST,
    )
    yield reg, checkout, config["digest"]
    reg.stop()


def check(mbci: Any, bed: Any, tag: str, *args: str) -> Any:
    reg, checkout, _ = bed
    env = {"DOCKER_HOST": NO_ENGINE, "DOCKER_CONFIG": str(checkout.path / ".no-config")}
    ref = f"docker://{reg.host}/app:{tag}"
    return mbci("check", ref, "--format", "json", *args, cwd=checkout.path, env=env)


def test_nested_index_over_the_registry(bed: Any, mbci: Any) -> None:
    result = check(mbci, bed, "nested")
    assert result.returncode == 0, result.stdout + result.stderr
    image = json.loads(result.stdout)["image"]
    assert [p["platform"] for p in image["platforms"]] == ["linux/amd64", "linux/arm/v7"]
    assert image["index_annotations"] == {"com.example.key1": "value1"}
    [note] = image["skipped"]
    assert "artifact application/vnd.example+type" in note


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ("linux/arm", "linux/arm/v7"),  # containerd: arm means arm/v7
        ("linux/arm/v8", "linux/arm/v7"),  # a v8 machine runs v7
        ("linux/amd64/v2", "linux/amd64"),  # an amd64/v2 machine runs the v1 build
        ("linux/x86_64", "linux/amd64"),
    ],
)
def test_platform_is_found_inside_the_nested_index(
    bed: Any, mbci: Any, wanted: str, found: str
) -> None:
    result = check(mbci, bed, "nested", "--platform", wanted)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [p["platform"] for p in json.loads(result.stdout)["image"]["platforms"]] == [found]


def test_arm_v6_is_not_served_an_arm_v7_image(bed: Any, mbci: Any) -> None:
    result = check(mbci, bed, "nested", "--platform", "linux/arm/v6")
    assert result.returncode == 3
    assert "no platform matches linux/arm/v6" in result.stderr and "linux/arm/v7" in result.stderr


def test_artifact_named_directly_exits_3(bed: Any, mbci: Any) -> None:
    result = check(mbci, bed, "sbom")
    assert result.returncode == 3 and result.stderr.count("\n") == 1
    assert "not a container image (artifact application/vnd.example+type)" in result.stderr


def test_config_of_the_wrong_shape_exits_3(bed: Any, mbci: Any) -> None:
    result = check(mbci, bed, "bad-config")
    assert result.returncode == 3 and result.stderr.count("\n") == 1, result.stderr
    assert f"config {bed[2]}: `config` is a string, expected an object" in result.stderr
