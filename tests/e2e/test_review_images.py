"""Archives and layouts as real tools write them, named as users name them.

- Engine 25+ (and containerd) write the tag alone as ``org.opencontainers.image.ref.name`` and
  the full name as ``io.containerd.image.name``: ``docker save acme/a:latest acme/b:latest``
  names two images ``latest``. A name that fits several images is an error naming each, never
  a silent pick of the first, and two such images are never read as one image's platforms.
- go-containerregistry's real archives (``tests/data/images/go-containerregistry``): engine
  25's ``docker save`` by image id and a classic ``docker save``; given to ``oci-archive:``,
  the error says which transport reads them.
- A directory given to an archive transport, a tarball that holds the layout one directory
  down, and a layout entry without a name each get a one-line error that says what to do.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import paths
from helpers.cli import run_mbci
from helpers.git import new_repo

DATA = paths.DATA / "images" / "go-containerregistry"
REVISION = "org.opencontainers.image.revision"
needs_skopeo = pytest.mark.skipif(not shutil.which("skopeo"), reason="no skopeo")


def check(ref: str, cwd: Path, *args: str) -> tuple[int, str, str]:
    result = run_mbci("check", ref, "--no-git", "--format", "json", *args, cwd=cwd)
    if result.returncode == 3:
        assert result.stderr.count("\n") == 1, result.stderr  # one line, never a traceback
    return result.returncode, result.stdout, result.stderr


def tar_contents(layout: Path, out: Path) -> Path:
    with tarfile.open(out, "w") as tar:
        tar.add(layout, arcname=".")
    return out


def engine25_names(layout: Path, refs: dict[str, str]) -> None:
    """Rename a skopeo-written layout's entries as engine 25's ``docker save`` names them:
    ``refs`` maps skopeo's name to the full reference saved."""
    index = json.loads((layout / "index.json").read_text())
    for entry in index["manifests"]:
        full = refs[entry["annotations"]["org.opencontainers.image.ref.name"]]
        entry["annotations"] = {
            "io.containerd.image.name": full,
            "org.opencontainers.image.ref.name": full.rsplit(":", 1)[1],
        }
        entry["platform"] = {"architecture": "amd64", "os": "linux"}
    (layout / "index.json").write_text(json.dumps(index))


@pytest.fixture
def two_images_one_tag(tmp_path: Path, build_image: Callable[..., str]) -> tuple[Path, Any]:
    layout = tmp_path / "saved"
    revisions = {"a": "a" * 40, "b": "b" * 40}
    for name, revision in revisions.items():
        tag = build_image({REVISION: revision})
        subprocess.run(
            ["skopeo", "copy", "-q", f"docker-daemon:{tag}", f"oci:{layout}:{name}"],
            check=True,
            capture_output=True,
        )
    engine25_names(layout, {"a": "docker.io/acme/a:latest", "b": "docker.io/acme/b:latest"})
    return layout, revisions


@pytest.mark.docker
@needs_skopeo
def test_a_tag_two_images_share_is_ambiguous_not_the_first(
    tmp_path: Path, two_images_one_tag: tuple[Path, Any]
) -> None:
    layout, revisions = two_images_one_tag
    archive = tar_contents(layout, tmp_path / "saved.tar")
    for transport, path in (("oci", layout), ("oci-archive", archive), ("docker-archive", archive)):
        code, _, err = check(f"{transport}:{path}:latest", tmp_path)
        assert code == 3, (transport, err)
        assert "latest names 2 different images" in err, err
        assert "docker.io/acme/a:latest" in err and "docker.io/acme/b:latest" in err
        # not one image with two platforms either
        code, _, err = check(f"{transport}:{path}", tmp_path)
        assert code == 3 and "holds 2 images" in err, (transport, err)
        assert "docker.io/acme/a:latest, docker.io/acme/b:latest" in err
        # the full name, with or without docker.io, picks the one asked for
        for ref, name in (("acme/b:latest", "b"), ("docker.io/acme/a:latest", "a")):
            code, out, err = check(f"{transport}:{path}:{ref}", tmp_path)
            assert code == 1, (transport, ref, err)  # labels other than revision are missing
            [platform] = json.loads(out)["image"]["platforms"]
            assert platform["labels"][REVISION] == revisions[name]


def test_engine25_save_by_id_reads_as_docker_archive_and_says_so_as_oci_archive(
    tmp_path: Path,
) -> None:
    saved = DATA / "hello-world-v25.tar"
    code, out, err = check(f"docker-archive:{saved}", tmp_path)
    assert code == 1, err
    [platform] = json.loads(out)["image"]["platforms"]
    assert platform["platform"] == "linux/arm64"
    code, _, err = check(f"oci-archive:{saved}", tmp_path)
    assert code == 3
    assert "holds no image (index.json is empty)" in err
    assert "a docker save archive, read it with docker-archive:" in err


def test_a_classic_docker_save_given_to_oci_archive_names_docker_archive(tmp_path: Path) -> None:
    saved = DATA / "test_image_1.tar"
    code, _, err = check(f"oci-archive:{saved}", tmp_path)
    assert code == 3
    assert "no index.json; not an OCI archive" in err
    assert "read it with docker-archive:" in err
    code, out, err = check(f"docker-archive:{saved}", tmp_path)
    assert code == 1, err
    assert json.loads(out)["image"]["platforms"][0]["platform"] == "linux/amd64"


def layout_of_one(tmp_path: Path) -> Path:
    """An OCI layout of go-containerregistry's classic save: its config, one unnamed entry."""
    with tarfile.open(DATA / "test_image_1.tar") as tar:
        [item] = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        config = tar.extractfile(item["Config"]).read()  # type: ignore[union-attr]
    layout = tmp_path / "layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes, media_type: str) -> dict[str, Any]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": put(config, "application/vnd.oci.image.config.v1+json"),
        "layers": [],
    }
    entry = put(json.dumps(manifest).encode(), manifest["mediaType"])
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
    return layout


def test_transport_mix_ups_say_what_to_do(tmp_path: Path) -> None:
    layout = layout_of_one(tmp_path)
    for transport in ("oci-archive", "docker-archive"):
        code, _, err = check(f"{transport}:{layout}", tmp_path)
        assert code == 3 and "a directory, not an archive" in err, err
        assert f"oci:{layout}" in err
    wrapped = tmp_path / "wrapped.tar"
    with tarfile.open(wrapped, "w") as tar:
        tar.add(layout, arcname="layout")
    for transport in ("oci-archive", "docker-archive"):
        code, _, err = check(f"{transport}:{wrapped}", tmp_path)
        assert code == 3 and "layout/index.json is one directory down" in err, err
        assert "tar -C layout -cf" in err
    flat = tar_contents(layout, tmp_path / "flat.tar")
    assert check(f"oci-archive:{flat}", tmp_path)[0] == 1
    # the one entry has no name: say how to name it
    code, _, err = check(f"oci:{layout}:latest", tmp_path)
    assert code == 3 and "no image named latest in the layout (it has: @0 (no name))" in err
    assert check(f"oci:{layout}:@0", tmp_path)[0] == 1


def test_a_checkout_is_not_needed_for_these_errors(tmp_path: Path) -> None:
    checkout = new_repo(tmp_path / "checkout")
    result = run_mbci("check", f"oci-archive:{DATA / 'test_image_1.tar'}", cwd=checkout.path)
    assert result.returncode == 3 and "docker-archive:" in result.stderr


@pytest.mark.docker
def test_a_layer_docker_save_links_to_counts_its_size(
    tmp_path: Path, build_image: Callable[..., str]
) -> None:
    """``docker save`` of two images that share a layer stores it once and symlinks the other
    ``<id>/layer.tar`` to it (the engine's own output here; go-containerregistry's
    ``test_link.tar`` is the same form)."""
    base = build_image({REVISION: "a" * 40})
    derived = f"{base.rsplit(':', 1)[0]}-child:latest"
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base}\nCOPY f /f\n")
    (context / "f").write_text("another layer\n")
    saved = tmp_path / "both.tar"
    try:
        subprocess.run(["docker", "build", "-q", "-t", derived, str(context)], check=True)
        subprocess.run(["docker", "save", "-o", str(saved), base, derived], check=True)
        with tarfile.open(saved) as tar:
            links = {m.name: m for m in tar.getmembers() if m.issym()}
            assert links  # the engine linked the shared layer
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
            [item] = [i for i in manifest if derived in (i.get("RepoTags") or [])]
            sizes = []
            for name in item["Layers"]:
                if name in links:
                    name = posixpath.normpath(
                        posixpath.join(posixpath.dirname(name), links[name].linkname)
                    )
                sizes.append(tar.getmember(name).size)
        code, out, err = check(f"docker-archive:{saved}:{derived}", tmp_path)
        assert code == 1, err
        [platform] = json.loads(out)["image"]["platforms"]
        assert platform["layers"] == 2 and 0 not in sizes
        assert platform["compressed_size"] == sum(sizes)
    finally:
        subprocess.run(["docker", "rmi", "-f", derived], check=False, capture_output=True)


def test_link_loops_and_links_out_of_the_archive_are_missing_members(tmp_path: Path) -> None:
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        for name, target in (
            ("manifest.json", "loop.json"),
            ("loop.json", "manifest.json"),
            ("index.json", "../../etc/passwd"),
        ):
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    for transport in ("docker-archive", "oci-archive"):
        code, _, err = check(f"{transport}:{archive}", tmp_path)
        assert code == 3, err


@pytest.mark.docker
def test_the_engine_s_one_platform_is_not_checked_for_another(
    tmp_path: Path, build_image: Callable[..., str]
) -> None:
    """``--platform`` on a local image: the engine shows one platform; another asked for is an
    error as in every other transport, never a pass of the platform nobody asked about."""
    tag = build_image({REVISION: "a" * 40})
    result = run_mbci("check", tag, "--no-git", "--format", "json", cwd=tmp_path)
    [platform] = json.loads(result.stdout)["image"]["platforms"]
    have = platform["platform"]
    other = "linux/s390x" if have != "linux/s390x" else "linux/amd64"
    code, _, err = check(tag, tmp_path, "--platform", other)
    assert code == 3, err
    assert f"holds the image for {have} only; --platform {other} is not in it" in err
    code, out, err = check(tag, tmp_path, "--platform", have, "--platform", other)
    assert code == 1, err
    assert [p["platform"] for p in json.loads(out)["image"]["platforms"]] == [have]
    if have == "linux/amd64":  # containerd's ladder: an amd64/v2 machine runs amd64 (v1)
        assert check(tag, tmp_path, "--platform", "linux/amd64/v2")[0] == 1
        assert check(tag, tmp_path, "--platform", "linux/x86_64")[0] == 1
