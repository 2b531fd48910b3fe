"""OCI layouts as other projects and the image-spec write them: nested indexes, names, artifacts.

Material (see tests/data/SOURCES.md): containers/image's ``delete_image_multiple_images`` layout
(indexes, one content under two names) and ``delete_image_with_signature`` layout (a cosign
signature), and the image-spec's own examples, wired into a layout whose digests name real blobs.
No engine is needed.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
from helpers import paths
from helpers.cli import run_mbci
from helpers.git import new_repo

from mb_ci.errors import ImageError, UsageError
from mb_ci.sources import inspect
from mb_ci.sources.options import SourceOptions

DATA = paths.DATA / "images"
SPEC = DATA / "image-spec"
CONTAINERS_IMAGE = DATA / "containers-image"
MULTIPLE = CONTAINERS_IMAGE / "multiple_images"
SIGNATURE = CONTAINERS_IMAGE / "with_signature"


def spec(name: str) -> Any:
    return json.loads((SPEC / name).read_text())


def put(layout: Path, data: bytes, media_type: str) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def point(entry: dict[str, Any], blob: dict[str, Any]) -> dict[str, Any]:
    """The spec's descriptor with its digest and size replaced by a stored blob's."""
    return {**entry, "digest": blob["digest"], "size": blob["size"]}


def spec_manifest(layout: Path, arch: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """manifest.md's example, its config the config.md example for ``arch``."""
    config = spec("config.json")
    config["architecture"] = arch
    config["config"]["Labels"].update(labels or {})
    manifest = spec("manifest.json")
    manifest["config"] = point(
        manifest["config"],
        put(layout, json.dumps(config).encode(), manifest["config"]["mediaType"]),
    )
    return put(layout, json.dumps(manifest).encode(), manifest["mediaType"])


def spec_layout(root: Path) -> Path:
    """image-layout.md's ``index.json`` example as a layout: ``stable-release`` is
    image-index.md's "multiple media types" example, whose nested index is the plain example;
    ``v1.0`` the ppc64le manifest; the ``application/xml`` entry an AppStream document."""
    layout = root / "spec-layout"
    (layout / "oci-layout").parent.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    ppc = spec_manifest(layout, "ppc64le")
    amd = spec_manifest(layout, "amd64", {"com.example.nested": "yes"})
    inner = spec("index.json")
    inner["manifests"] = [point(inner["manifests"][0], ppc), point(inner["manifests"][1], amd)]
    inner_blob = put(layout, json.dumps(inner).encode(), inner["mediaType"])
    middle = spec("index-multiple-media-types.json")
    middle["manifests"] = [
        point(middle["manifests"][0], ppc),
        point(middle["manifests"][1], inner_blob),
    ]
    middle_blob = put(layout, json.dumps(middle).encode(), middle["mediaType"])
    xml = put(layout, b'<?xml version="1.0"?><component type="desktop"/>\n', "application/xml")
    top = spec("layout-index.json")
    top["manifests"] = [
        point(top["manifests"][0], middle_blob),
        point(top["manifests"][1], ppc),
        point(top["manifests"][2], xml),
    ]
    (layout / "index.json").write_text(json.dumps(top))
    return layout


def platforms(ref: str, *wanted: str) -> list[str]:
    facts = inspect(ref, SourceOptions(platforms=wanted))
    return [p.platform or "" for p in facts.platforms]


def cli_error(ref: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    checkout = new_repo(tmp_path / "checkout")
    result = run_mbci("check", ref, *args, cwd=checkout.path)
    assert result.stderr.count("\n") == 1, result.stderr  # one line, never a traceback
    return result.returncode, result.stderr


def test_spec_layout_example_descends_the_nested_index(tmp_path: Path) -> None:
    layout = spec_layout(tmp_path)
    facts = inspect(f"oci:{layout}:stable-release")
    assert [p.platform for p in facts.platforms] == ["linux/ppc64le", "linux/amd64"]
    nested = facts.platforms[1]
    assert nested.labels["com.example.nested"] == "yes"
    assert nested.labels["com.example.project.git.commit"] == (
        "45a939b2999782a3f005621a8d0f29aa387e1d6b"
    )
    assert facts.index_annotations == {"com.example.key1": "value1", "com.example.key2": "value2"}
    # --platform finds a platform that only the nested index lists
    assert platforms(f"oci:{layout}:stable-release", "linux/amd64") == ["linux/amd64"]
    only = inspect(f"oci:{layout}:stable-release", SourceOptions(platforms=("linux/amd64",)))
    assert any("linux/ppc64le, not selected" in s for s in only.skipped)
    assert platforms(f"oci:{layout}:v1.0") == ["linux/ppc64le"]


def test_a_platform_whose_blobs_were_not_saved_is_listed_as_skipped(tmp_path: Path) -> None:
    """``docker save`` from the containerd store keeps the index but only the pulled platform."""
    layout = spec_layout(tmp_path)
    inner = spec("index.json")  # the nested index's amd64 entry: find its blob and drop it
    facts = inspect(f"oci:{layout}:stable-release")
    amd = facts.platforms[1].digest
    assert amd is not None and inner["manifests"][1]["platform"]["architecture"] == "amd64"
    (layout / "blobs" / "sha256" / amd[7:]).unlink()
    kept = inspect(f"oci:{layout}:stable-release")
    assert [p.platform for p in kept.platforms] == ["linux/ppc64le"]
    assert f"{amd} (linux/amd64, manifest not saved)" in kept.skipped
    with pytest.raises(ImageError, match="no container image in the index"):
        inspect(f"oci:{layout}:stable-release", SourceOptions(platforms=("linux/amd64",)))


def test_spec_layout_xml_entry_is_not_an_image(tmp_path: Path) -> None:
    layout = spec_layout(tmp_path)
    with pytest.raises(ImageError, match=r"holds 2 images \(stable-release, v1.0\)"):
        inspect(f"oci:{layout}")
    code, err = cli_error(f"oci:{layout}:@2", tmp_path)
    assert code == 3 and "not a container image (application/xml)" in err


def test_spec_artifacts_named_directly_exit_3_and_are_skipped_in_an_index(
    tmp_path: Path,
) -> None:
    layout = tmp_path / "artifacts"
    image = spec_manifest(layout, "amd64")
    entries = [{**image, "platform": {"os": "linux", "architecture": "amd64"}}]
    for name in ("artifact-minimal.json", "artifact-without-config.json"):
        doc = spec(name)
        entries.append(put(layout, json.dumps(doc).encode(), doc["mediaType"]))
    doc = spec("artifact-with-config.json")
    del doc["artifactType"]  # as older tools (Helm, ORAS 0.x) write it: the config tells
    entries.append(put(layout, json.dumps(doc).encode(), doc["mediaType"]))
    index = put(
        layout,
        json.dumps({"schemaVersion": 2, "manifests": entries}).encode(),
        "application/vnd.oci.image.index.v1+json",
    )
    named = [
        {**e, "annotations": {"org.opencontainers.image.ref.name": f"e{i}"}}
        for i, e in enumerate([index, *entries[1:]])
    ]
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": named}))
    facts = inspect(f"oci:{layout}:e0")
    assert [p.platform for p in facts.platforms] == ["linux/amd64"]
    notes = [s for s in facts.skipped if "not an image" in s]
    assert len(notes) == 3 and sum("application/vnd.example+type" in s for s in notes) == 2
    assert any("config application/vnd.example.config.v1+json" in s for s in notes)
    for name in ("e1", "e2", "e3"):
        code, err = cli_error(f"oci:{layout}:{name}", tmp_path / name)
        assert code == 3 and "not a container image (artifact" in err, err


def test_containers_image_layout_with_indexes_and_shared_digests(tmp_path: Path) -> None:
    ref = f"oci:{MULTIPLE}"
    # seven names, five contents: one image under two names is one image
    with pytest.raises(ImageError, match="the layout holds 5 images"):
        inspect(ref)
    assert platforms(f"{ref}:latest") == ["linux/amd64", "linux/386"]
    assert platforms(f"{ref}:3.18.3", "linux/386") == ["linux/386"]
    assert platforms(f"{ref}:3.16.7", "linux/amd64/v2") == ["linux/amd64"]
    assert platforms(f"{ref}:3.18") == ["linux/amd64"]
    facts = inspect(f"{ref}:3.17.5")
    assert facts.platforms[0].config_digest == (
        "sha256:df11bc189adeb50dadb3291a3a7f2c34b36e0efdba0df70f2c8a2d761b215cde"
    )
    with pytest.raises(
        ImageError, match=r"no platform matches linux/arm64 .*linux/amd64, linux/386"
    ):
        inspect(f"{ref}:latest", SourceOptions(platforms=("linux/arm64",)))
    # the same layout as an oci-archive: errors say archive
    archive = tmp_path / "multiple.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(MULTIPLE, arcname=".")
    assert platforms(f"oci-archive:{archive}:latest") == ["linux/amd64", "linux/386"]
    with pytest.raises(ImageError, match="the archive holds 5 images") as caught:
        inspect(f"oci-archive:{archive}")
    assert "layout" not in str(caught.value).split(".tar:", 1)[1]


def test_cosign_signature_is_not_a_container_image(tmp_path: Path) -> None:
    sig = "sha256-bfd7a7b14cfc6349bfbc291769692e4669470de97718d2ffab83273ea57474cb.sig"
    code, err = cli_error(f"oci:{SIGNATURE}:{sig}", tmp_path / "a")
    assert code == 3 and "not a container image (artifact with layers" in err
    assert "application/vnd.dev.cosign.simplesigning.v1+json" in err
    # the signed image's config blob is not part of the fixture: one line, exit 3
    code, err = cli_error(f"oci:{SIGNATURE}:imageValue", tmp_path / "b")
    assert code == 3 and "has no blobs/sha256/9ca4bda0" in err


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("config", "oops", "`config` is a string, expected an object"),
        ("layers", {"a": 1}, "`layers` is an object, expected a list"),
        ("annotations", {"k": 1}, "`annotations.k` is a number, expected a string"),
    ],
)
def test_a_manifest_of_the_wrong_shape_is_one_line(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    layout = tmp_path / "bad"
    manifest = spec("manifest.json")
    manifest[field] = value
    blob = put(layout, json.dumps(manifest).encode(), manifest["mediaType"])
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [blob]}))
    code, err = cli_error(f"oci:{layout}", tmp_path)
    assert code == 3 and f"manifest {blob['digest']}: {message}" in err, err


def test_config_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    layout = tmp_path / "bad-config"
    manifest = spec("manifest.json")
    for doc, message in (
        ({"config": "Labels"}, "`config` is a string, expected an object"),
        ({"config": {"Labels": ["a"]}}, "`config.Labels` is a list, expected an object"),
        ({"rootfs": {"diff_ids": [1]}}, "`rootfs.diff_ids[0]` is a number, expected a string"),
        ({"architecture": 64}, "`architecture` is a number, expected a string"),
    ):
        manifest["config"] = put(layout, json.dumps(doc).encode(), manifest["config"]["mediaType"])
        blob = put(layout, json.dumps(manifest).encode(), manifest["mediaType"])
        (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [blob]}))
        with pytest.raises(ImageError) as caught:
            inspect(f"oci:{layout}")
        assert f"config {manifest['config']['digest']}: {message}" in str(caught.value)


def test_index_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    layout = tmp_path / "bad-index"
    layout.mkdir()
    for doc, message in (
        ({"manifests": "all"}, "`manifests` is a string, expected a list"),
        ({"manifests": [[]]}, "`manifests[0]` is a list, expected an object"),
        ({"manifests": [{"platform": "linux"}]}, "`manifests[0].platform` is a string"),
        ([], "the document is a list, expected a JSON object"),
    ):
        (layout / "index.json").write_text(json.dumps(doc))
        with pytest.raises(ImageError, match=re.escape(f"index.json: {message}")):
            inspect(f"oci:{layout}")


def test_deep_nesting_is_bounded(tmp_path: Path) -> None:
    layout = tmp_path / "deep"
    entry = spec_manifest(layout, "amd64")
    entry["platform"] = {"os": "linux", "architecture": "amd64"}
    for _ in range(6):
        doc = {"schemaVersion": 2, "manifests": [entry]}
        entry = put(layout, json.dumps(doc).encode(), "application/vnd.oci.image.index.v1+json")
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
    with pytest.raises(ImageError, match="nested more than 4 deep"):
        inspect(f"oci:{layout}")


def test_bad_platform_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="OS/ARCH"):
        inspect(f"oci:{MULTIPLE}:latest", SourceOptions(platforms=("amd64",)))
