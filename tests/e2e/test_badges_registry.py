"""The image badge agrees with the registry manifest: layer count and compressed size."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers.images import build_platform_image
from helpers.registry import Client, push, start_registry, which

from mb_ci.badges.core import human_size

pytestmark = [
    pytest.mark.registry,
    pytest.mark.skipif(not which("docker-registry"), reason="no docker-registry"),
]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
LABELS = {
    "org.opencontainers.image.revision": "3333333333333333333333333333333333333333",
    "org.opencontainers.image.source": "https://gitlab.com/acme/widget",
}


@pytest.fixture(scope="module")
def bed(tmp_path_factory: Any, engine: Any, build_image: Any) -> Any:
    work = tmp_path_factory.mktemp("badges-registry")
    reg = start_registry(work / "reg")
    amd = build_image(LABELS, extra="COPY payload.txt /second.txt")
    arm = build_platform_image(engine, LABELS, "linux/arm64")
    client = Client(reg)
    digests = {"amd64": push(amd, reg, "app:amd64"), "arm64": push(arm, reg, "app:arm64")}
    entries = [
        client.entry("app", digests["amd64"], "linux/amd64"),
        client.entry("app", digests["arm64"], "linux/arm64"),
        client.attestation("app", digests["amd64"]),
    ]
    client.put_index("app", "multi", entries)
    manifests = {plat: json.loads(client.get("app", digest)[0]) for plat, digest in digests.items()}
    yield reg, manifests, amd, work
    reg.stop()
    engine.images.remove(arm, force=True)


def expected(manifest: dict[str, Any]) -> str:
    sizes = [layer["size"] for layer in manifest["layers"]]
    return f"{human_size(sum(sizes))}, {len(sizes)} layer" + ("s" if len(sizes) > 1 else "")


def badges_json(mbci: Any, ref: str, *args: str, cwd: Path) -> dict[str, Any]:
    result = mbci("badges", ref, "--format", "json", "--only", "image,commit", *args,
                  cwd=cwd, env=NO_ENGINE)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_multi_platform_badges_match_each_manifest(bed, mbci, tmp_path):
    reg, manifests, _, _ = bed
    doc = badges_json(mbci, f"docker://{reg.host}/app:multi", cwd=tmp_path)
    got = {b["label"]: b["message"] for b in doc["badges"] if b["kind"] == "image"}
    assert got == {
        "image linux/amd64": expected(manifests["amd64"]),
        "image linux/arm64": expected(manifests["arm64"]),
    }
    assert len(manifests["amd64"]["layers"]) == 2  # the attestation is not a platform
    commit = next(b for b in doc["badges"] if b["kind"] == "commit")
    assert commit["link"] == "https://gitlab.com/acme/widget/-/commit/" + "3" * 40


def test_chosen_platform_only(bed, mbci, tmp_path):
    reg, manifests, _, _ = bed
    doc = badges_json(
        mbci, f"docker://{reg.host}/app:multi", "--platform", "linux/arm64", cwd=tmp_path
    )
    images = [(b["name"], b["message"]) for b in doc["badges"] if b["kind"] == "image"]
    assert images == [("image", expected(manifests["arm64"]))]


def test_single_manifest(bed, mbci, tmp_path):
    reg, manifests, _, _ = bed
    doc = badges_json(mbci, f"docker://{reg.host}/app:amd64", cwd=tmp_path)
    assert doc["badges"][0]["message"] == expected(manifests["amd64"])


def test_docker_archive_has_layer_count_but_no_download_size(bed, mbci, tmp_path):
    _, manifests, amd, _ = bed
    archive = tmp_path / "image.tar"
    subprocess.run(["docker", "save", amd, "-o", str(archive)], check=True, capture_output=True)
    doc = badges_json(mbci, f"docker-archive:{archive}", cwd=tmp_path)
    assert doc["badges"][0]["message"] == f"{len(manifests['amd64']['layers'])} layers"


@pytest.mark.skipif(not which("skopeo"), reason="no skopeo")
def test_oci_layout_matches_its_manifest(bed, mbci, tmp_path):
    _, _, amd, _ = bed
    layout = tmp_path / "layout"
    subprocess.run(
        ["skopeo", "copy", "-q", f"docker-daemon:{amd}", f"oci:{layout}:app"],
        check=True,
        capture_output=True,
    )  # skopeo gzips the layers on the way, as a push would
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((layout / "blobs" / "sha256" / digest).read_text())
    assert all(la["mediaType"].endswith("+gzip") for la in manifest["layers"])
    doc = badges_json(mbci, f"oci:{layout}:app", cwd=tmp_path)
    assert doc["badges"][0]["message"] == expected(manifest)
