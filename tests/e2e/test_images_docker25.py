"""``docker save`` archives as engine 25 writes them, read like skopeo reads them.

The test bed's engine is 20.10, whose ``docker save`` writes the classic form. Engine 25.0.0's
form is rebuilt from that real output, member for member, as moby's ``image/tarexport/save.go``
(commit 032797ea4bcbde6546b71b5f608dc3bf166bdf28, see tests/data/SOURCES.md) writes it: an OCI
layout (``oci-layout``, ``index.json``, ``blobs/sha256/…`` holding the config, the layer tars
and a manifest whose ``layers`` is empty, moby/moby#47065) plus the legacy ``manifest.json``
pointing into ``blobs/``. Saved by image id, no reference is recorded, so ``index.json`` says
``"manifests": null`` (moby/moby#47210) and ``RepoTags`` is null; saved under two tags, one
manifest gets two descriptors, one per tag.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from helpers.clock import now
from helpers.git import SOURCE, Repo, new_repo

NO_ENGINE = "unix:///nonexistent/docker.sock"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
pytestmark = pytest.mark.skipif(not shutil.which("docker"), reason="no docker CLI")


def go_json(doc: Any) -> bytes:
    """``encoding/json.Marshal``: compact, in the struct's field order."""
    return json.dumps(doc, separators=(",", ":")).encode()


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        out = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                out[member.name] = handle.read()
        return out


def moby25(engine_save: Path, out: Path, refs: list[str]) -> Path:
    """Engine 25.0.0's ``docker save`` of the one image in ``engine_save`` under ``refs``."""
    legacy = members(engine_save)
    [item] = json.loads(legacy["manifest.json"])
    config = legacy[item["Config"]]
    image = json.loads(config)
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    blobs = {config_digest: config}
    for name, diff_id in zip(item["Layers"], image["rootfs"]["diff_ids"], strict=True):
        blobs[diff_id] = legacy[name]
    platform = {"architecture": image["architecture"], "os": image["os"]}
    manifest = go_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
                "platform": platform,
            },
            "layers": [],
        }
    )
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    blobs[manifest_digest] = manifest
    descriptors = [
        {
            "mediaType": OCI_MANIFEST,
            "digest": manifest_digest,
            "size": len(manifest),
            "annotations": {
                "io.containerd.image.name": f"docker.io/{ref}",
                "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[1],
            },
            "platform": platform,
        }
        for ref in refs
    ]
    files = {
        "index.json": go_json(
            {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors or None}
        ),
        "manifest.json": go_json(
            [
                {
                    "Config": "blobs/sha256/" + config_digest[7:],
                    "RepoTags": refs or None,
                    "Layers": ["blobs/sha256/" + d[7:] for d in image["rootfs"]["diff_ids"]],
                }
            ]
        )
        + b"\n",
        "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
    }
    if refs:
        repos: dict[str, dict[str, str]] = {}
        for ref in refs:
            name, tag = ref.rsplit(":", 1)
            repos.setdefault(name, {})[tag] = image["rootfs"]["diff_ids"][-1][7:]
        files["repositories"] = go_json(repos) + b"\n"
    with tarfile.open(out, "w") as tar:
        for folder in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        named = {f"blobs/sha256/{d[7:]}": data for d, data in blobs.items()}
        for name, data in sorted({**named, **files}.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def labels(revision: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.created": now(),
    }


def save(tag: str, path: Path) -> Path:
    subprocess.run(["docker", "save", tag, "-o", str(path)], check=True, capture_output=True)
    return path


def check(mbci: Any, checkout: Repo, ref: str, *args: str) -> Any:
    return mbci(
        "check", ref, "--format", "json", *args, cwd=checkout.path, env={"DOCKER_HOST": NO_ENGINE}
    )


def findings(result: Any) -> list[tuple[str, str | None]]:
    assert result.stdout, result.stderr
    return sorted((f["check"], f["label"]) for f in json.loads(result.stdout)["findings"])


@pytest.fixture(scope="module")
def bed(tmp_path_factory: Any, build_image: Any) -> Any:
    work = tmp_path_factory.mktemp("docker25")
    checkout = new_repo(work / "widget")
    good = build_image(labels(checkout.head))
    bad = build_image(labels("0" * 40))
    return work, checkout, good, bad


def test_saved_by_image_id_manifests_null(bed: Any, mbci: Any) -> None:
    work, checkout, good, bad = bed
    for name, tag, expected in (("good", good, 0), ("bad", bad, 1)):
        archive = moby25(save(tag, work / f"{name}.tar"), work / f"{name}-by-id.tar", [])
        assert json.loads(members(archive)["index.json"])["manifests"] is None
        result = check(mbci, checkout, f"docker-archive:{archive}")
        assert result.returncode == expected, result.stdout + result.stderr
        engine = mbci("check", tag, "--format", "json", cwd=checkout.path)
        assert findings(result) == findings(engine)
        [platform] = json.loads(result.stdout)["image"]["platforms"]
        assert platform["platform"] == "linux/amd64"


def test_one_image_under_two_tags(bed: Any, mbci: Any, engine: Any) -> None:
    work, checkout, good, _ = bed
    second = good.rsplit(":", 1)[0] + ":also"
    engine.images.get(good).tag(second)
    try:
        archive = moby25(save(good, work / "two.tar"), work / "two-tags.tar", [good, second])
    finally:
        engine.images.remove(second)
    index = json.loads(members(archive)["index.json"])
    assert len(index["manifests"]) == 2 and len({m["digest"] for m in index["manifests"]}) == 1
    for ref in ("", f":{good}", f":{second}"):
        result = check(mbci, checkout, f"docker-archive:{archive}{ref}")
        assert result.returncode == 0, result.stdout + result.stderr
        doc = json.loads(result.stdout)["image"]
        assert doc["digest"] == index["manifests"][0]["digest"]
    # gzipped, as CI caches keep them
    gz = work / "two-tags.tar.gz"
    gz.write_bytes(__import__("gzip").compress(archive.read_bytes(), 1))
    assert check(mbci, checkout, f"docker-archive:{gz}").returncode == 0


def test_by_id_archive_read_by_position(bed: Any, mbci: Any) -> None:
    """moby/moby#51389: index.json may miss an image that manifest.json lists; skopeo reads
    manifest.json, and so does mb-ci when index.json does not name the image asked for."""
    work, checkout, good, _ = bed
    archive = moby25(save(good, work / "g.tar"), work / "g-by-id.tar", [])
    result = check(mbci, checkout, f"docker-archive:{archive}:@0")
    assert result.returncode == 0, result.stderr


def test_archive_errors_say_archive(bed: Any, mbci: Any) -> None:
    work, checkout, good, _ = bed
    archive = moby25(save(good, work / "e.tar"), work / "e25.tar", [good])
    missing = check(mbci, checkout, f"docker-archive:{archive}:nope:1")
    assert missing.returncode == 3 and "in the archive" in missing.stderr
    assert "layout" not in missing.stderr.split(".tar:", 1)[1]
    tar_of_nothing = work / "empty.tar"
    with tarfile.open(tar_of_nothing, "w"):
        pass
    for transport in ("docker-archive", "oci-archive"):
        result = check(mbci, checkout, f"{transport}:{tar_of_nothing}")
        assert result.returncode == 3 and "layout" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"config": "Labels"}, "`config` is a string, expected an object"),
        ({"rootfs": "layers"}, "`rootfs` is a string, expected an object"),
        ({"config": {"Labels": {"a": 1}}}, "`config.Labels.a` is a number, expected a string"),
    ],
)
def test_classic_archive_with_a_config_of_the_wrong_shape(
    bed: Any, mbci: Any, change: dict[str, Any], message: str
) -> None:
    """The engine's own save, its config rewritten (and renamed to its new digest)."""
    work, checkout, good, _ = bed
    legacy = members(save(good, work / "shape.tar"))
    [item] = json.loads(legacy["manifest.json"])
    config = {**json.loads(legacy.pop(item["Config"])), **change}
    data = json.dumps(config).encode()
    item["Config"] = hashlib.sha256(data).hexdigest() + ".json"
    legacy[item["Config"]] = data
    legacy["manifest.json"] = json.dumps([item]).encode()
    out = work / "shape-bad.tar"
    with tarfile.open(out, "w") as tar:
        for name, blob in legacy.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    result = check(mbci, checkout, f"docker-archive:{out}")
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1 and f"config {item['Config']}: {message}" in result.stderr
