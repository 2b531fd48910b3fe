"""docker-archive:, oci: and oci-archive: give the engine's verdict, with no engine, bounded."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.clock import now
from helpers.git import SOURCE, Repo, new_repo
from helpers.images import build_platform_image

pytestmark = pytest.mark.skipif(not shutil.which("skopeo"), reason="no skopeo")
NO_ENGINE = "unix:///nonexistent/docker.sock"


def labels(revision: str) -> dict[str, str]:
    created = now()
    return {
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.created": created,
    }


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def gzipped(path: Path) -> Path:
    out = path.with_name(path.name + ".gz")
    out.write_bytes(gzip.compress(path.read_bytes(), 1))
    return out


def tar_dir(folder: Path, out: Path) -> Path:
    with tarfile.open(out, "w") as tar:
        for item in sorted(folder.rglob("*")):
            tar.add(item, arcname=str(item.relative_to(folder)), recursive=False)
    return out


def docker25(tag: str, work: Path) -> Path:
    """The engine 25+ ``docker save`` layout: an OCI layout plus a manifest.json into blobs/."""
    layout = work / "d25"
    sh("skopeo", "copy", "-q", f"docker-daemon:{tag}", f"oci:{layout}:{tag.split(':')[-1]}")
    index = json.loads((layout / "index.json").read_text())
    entry = index["manifests"][0]
    entry["annotations"]["io.containerd.image.name"] = f"docker.io/{tag}"
    (layout / "index.json").write_text(json.dumps(index))
    manifest = json.loads((layout / "blobs/sha256" / entry["digest"][7:]).read_text())
    (layout / "manifest.json").write_text(
        json.dumps(
            [
                {
                    "Config": "blobs/sha256/" + manifest["config"]["digest"][7:],
                    "RepoTags": [tag],
                    "Layers": [
                        "blobs/sha256/" + layer["digest"][7:] for layer in manifest["layers"]
                    ],
                }
            ]
        )
    )
    return tar_dir(layout, work / "d25.tar")


def put_blob(layout: Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs/sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def multi_layout(amd: str, arm: str, work: Path) -> Path:
    """An OCI layout whose one image is an index: amd64, arm64 and an attestation manifest."""
    layout = work / "multi"
    for name, tag in (("amd", amd), ("arm", arm)):
        sh("skopeo", "copy", "-q", f"docker-daemon:{tag}", f"oci:{layout}:{name}")
    entries = json.loads((layout / "index.json").read_text())["manifests"]
    platforms = {"amd": "amd64", "arm": "arm64"}
    manifests = []
    for entry in entries:
        name = entry.pop("annotations")["org.opencontainers.image.ref.name"]
        manifests.append({**entry, "platform": {"os": "linux", "architecture": platforms[name]}})
    config = put_blob(layout, b"{}")
    statement = put_blob(layout, b'{"_type":"https://in-toto.io/Statement/v0.1"}')
    attestation = put_blob(
        layout,
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                "layers": [{"mediaType": "application/vnd.in-toto+json", **statement}],
            }
        ).encode(),
    )
    manifests.append(
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            **attestation,
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": manifests[0]["digest"],
            },
        }
    )
    index = put_blob(
        layout,
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": manifests,
            }
        ).encode(),
    )
    top = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.index.v1+json",
                **index,
                "annotations": {"org.opencontainers.image.ref.name": "multi"},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(top))
    return layout


@dataclass
class Bed:
    checkout: Repo
    good: str
    bad: str
    work: Path


@pytest.fixture(scope="module")
def bed(tmp_path_factory: Any, build_image: Any) -> Any:
    work = tmp_path_factory.mktemp("archives")
    checkout = new_repo(work / "widget")
    good = build_image(labels(checkout.head))
    bad = build_image(labels("0" * 40))
    return Bed(checkout, good, bad, work)


def check(mbci: Any, bed: Bed, image: str, *args: str) -> Any:
    return mbci(
        "check",
        image,
        "--format",
        "json",
        *args,
        cwd=bed.checkout.path,
        env={"DOCKER_HOST": NO_ENGINE},
    )


_ENGINE: dict[str, tuple[int, list[tuple[str, str | None]]]] = {}


def engine_verdict(mbci: Any, bed: Bed, tag: str) -> tuple[int, list[tuple[str, str | None]]]:
    """The same image checked from the engine (once per image: it does not change)."""
    if tag not in _ENGINE:
        _ENGINE[tag] = verdict(mbci("check", tag, "--format", "json", cwd=bed.checkout.path))
    return _ENGINE[tag]


def verdict(result: Any) -> tuple[int, list[tuple[str, str | None]]]:
    assert result.stdout, result.stderr
    doc = json.loads(result.stdout)
    return result.returncode, sorted((f["check"], f["label"]) for f in doc["findings"])


@pytest.mark.parametrize(
    "form", ["legacy", "legacy-gz", "docker25", "docker25-gz", "oci", "oci-archive"]
)
def test_archives_give_the_engine_verdict(bed: Bed, mbci: Any, form: str) -> None:
    for name, tag, expected in (("good", bed.good, 0), ("bad", bed.bad, 1)):
        work = bed.work / f"{form}-{name}"
        work.mkdir()
        if form.startswith("legacy"):
            path = work / "save.tar"
            sh("docker", "save", tag, "-o", str(path))
            ref = f"docker-archive:{gzipped(path) if form.endswith('-gz') else path}"
        elif form.startswith("docker25"):
            path = docker25(tag, work)
            ref = f"docker-archive:{gzipped(path) if form.endswith('-gz') else path}"
        elif form == "oci":
            sh("skopeo", "copy", "-q", f"docker-daemon:{tag}", f"oci:{work / 'layout'}:v1")
            ref = f"oci:{work / 'layout'}:v1"
        else:
            sh("skopeo", "copy", "-q", f"docker-daemon:{tag}", f"oci-archive:{work / 'o.tar'}:v1")
            ref = f"oci-archive:{work / 'o.tar'}"
        archived = check(mbci, bed, ref)
        assert archived.returncode == expected, archived.stdout + archived.stderr
        assert verdict(archived) == engine_verdict(mbci, bed, tag)
        platform = json.loads(archived.stdout)["image"]["platforms"][0]
        assert platform["platform"] == "linux/amd64" and platform["layers"] == 1
        assert platform["config_digest"].startswith("sha256:")


def test_oci_layout_with_index_checks_each_platform(bed: Bed, mbci: Any, engine: Any) -> None:
    arm = build_platform_image(engine, labels("1" * 40), "linux/arm64")
    try:
        layout = multi_layout(bed.good, arm, bed.work)
    finally:
        engine.images.remove(arm, force=True)
    result = check(mbci, bed, f"oci:{layout}:multi")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert [p["platform"] for p in doc["image"]["platforms"]] == ["linux/amd64", "linux/arm64"]
    assert len(doc["image"]["skipped"]) == 1 and "attestation" in doc["image"]["skipped"][0]
    failing = {f["platform"] for f in doc["findings"] if f["check"] == "revision-matches-head"}
    assert failing == {"linux/arm64"}
    amd_only = check(mbci, bed, f"oci:{layout}:multi", "--platform", "linux/amd64")
    assert amd_only.returncode == 0, amd_only.stdout


def test_archive_with_two_images_needs_a_name(bed: Bed, mbci: Any) -> None:
    path = bed.work / "two.tar"
    sh("docker", "save", bed.good, bed.bad, "-o", str(path))
    vague = check(mbci, bed, f"docker-archive:{path}")
    assert vague.returncode == 3 and "holds 2 images" in vague.stderr
    named = check(mbci, bed, f"docker-archive:{path}:{bed.good}")
    assert named.returncode == 0, named.stderr
    with tarfile.open(path) as tar:
        handle = tar.extractfile("manifest.json")
        assert handle is not None
        entries = json.load(handle)
    bad = next(i for i, e in enumerate(entries) if bed.bad in e["RepoTags"])  # save's own order
    assert check(mbci, bed, f"docker-archive:{path}:@{bad}").returncode == 1


def test_gzip_bomb_ends_with_an_error(bed: Bed, mbci: Any) -> None:
    header = tarfile.TarInfo("blobs/sha256/" + "0" * 64)
    header.size = 8 * 1024**3
    zeros = gzip.compress(b"\0" * (64 * 1024 * 1024), 1)
    bomb = bed.work / "bomb.tar.gz"
    with bomb.open("wb") as out:
        out.write(gzip.compress(header.tobuf(format=tarfile.GNU_FORMAT)))
        for _ in range(128):  # 8 GiB of zeros in about 35 MB
            out.write(zeros)
    result = check(mbci, bed, f"docker-archive:{bomb}")
    assert result.returncode == 3
    assert "gzip bomb" in result.stderr and result.stderr.count("\n") == 1


def test_missing_and_corrupt_archives_exit_3(bed: Bed, mbci: Any) -> None:
    missing = check(mbci, bed, f"docker-archive:{bed.work / 'nope.tar'}")
    assert missing.returncode == 3 and "no such file" in missing.stderr
    junk = bed.work / "junk.tar"
    junk.write_bytes(b"this is not a tarball\n" * 100)
    corrupt = check(mbci, bed, f"oci-archive:{junk}")
    assert corrupt.returncode == 3 and str(junk) in corrupt.stderr
    path = bed.work / "cut.tar"
    sh("docker", "save", bed.good, "-o", str(path))
    cut = gzipped(path)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    truncated = check(mbci, bed, f"docker-archive:{cut}")
    assert truncated.returncode == 3 and truncated.stderr.count("\n") == 1
    empty_dir = bed.work / "empty-layout"
    empty_dir.mkdir()
    assert "not an OCI image layout" in check(mbci, bed, f"oci:{empty_dir}").stderr
