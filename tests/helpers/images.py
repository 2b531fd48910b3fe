"""``FROM scratch`` images with labels, built on the real engine, and archives ``docker save``
writes."""

from __future__ import annotations

import io
import subprocess
import tarfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker.errors

BUSYBOX = Path("/bin/busybox")


def context_tar(dockerfile: str, files: Mapping[str, bytes]) -> io.BytesIO:
    """A build context holding ``Dockerfile`` and ``files``, as the engine's API takes it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in {"Dockerfile": dockerfile.encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def new_tag() -> str:
    return f"mb-ci-test/{uuid.uuid4().hex[:12]}:latest"


def build_scratch(
    engine: Any,
    labels: Mapping[str, str] | None = None,
    tag: str | None = None,
    busybox: bool = False,
    extra: str = "",
    platform: str | None = None,
    retries: int = 1,
) -> str:
    """Build a ``FROM scratch`` image with ``labels``; returns its tag. The caller removes it.

    ``busybox=True`` copies Debian's static busybox in, for images that must run a command;
    ``extra`` is one more Dockerfile line; ``platform`` needs no emulation (nothing runs).
    """
    tag = tag or new_tag()
    files = {"payload.txt": uuid.uuid4().hex.encode()}
    lines = ["FROM scratch", "COPY payload.txt /payload.txt"]
    if busybox:
        files["busybox"] = BUSYBOX.read_bytes()
        lines += ["COPY busybox /bin/busybox", 'CMD ["/bin/busybox", "sleep", "3600"]']
    if extra:
        lines.append(extra)
    options = {"platform": platform} if platform else {}
    errors: list[str] = []
    # under heavy load the engine has been seen to fail one of these trivial FROM scratch builds
    # transiently; that is the test bed's hiccup, not the code under test
    for _attempt in range(1 + retries):
        stream = engine.api.build(
            fileobj=context_tar("\n".join(lines) + "\n", files),
            custom_context=True,
            tag=tag,
            labels=dict(labels or {}),
            rm=True,
            decode=True,
            **options,
        )
        errors = [chunk["error"] for chunk in stream if "error" in chunk]
        if not errors:
            return tag
    raise RuntimeError(f"test image build failed: {errors}")


def build_platform_image(engine: Any, labels: Mapping[str, str], platform: str) -> str:
    """A ``FROM scratch`` image for ``platform`` with ``labels``; the caller removes it."""
    return build_scratch(engine, labels, platform=platform, retries=0)


def save(path: Path, *refs: str) -> Path:
    """``docker save`` ``refs`` into the archive ``path``."""
    subprocess.run(["docker", "save", *refs, "-o", str(path)], check=True, capture_output=True)
    return path


def engine_labels(engine: Any, dockerfile: bytes) -> tuple[dict[str, str] | None, list[str]]:
    """The labels of the image the engine builds from ``dockerfile``, or its errors."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    buf.seek(0)
    tag = f"mb-ci-test/df-{uuid.uuid4().hex[:12]}:latest"
    errors: list[str] = []
    # one retry: a shared engine has been seen to lose a fresh FROM scratch layer ("unable to
    # find image") while other builds run; that is the test bed, not the Dockerfile
    for _attempt in range(2):
        buf.seek(0)
        try:
            stream = engine.api.build(
                fileobj=buf, custom_context=True, tag=tag, rm=True, decode=True
            )
            errors = [chunk["error"] for chunk in stream if "error" in chunk]
        except docker.errors.APIError as e:  # a Dockerfile the engine cannot parse
            return None, [str(e)]
        if not any("unable to find image" in e for e in errors):
            break
    if errors:
        return None, errors
    try:
        return dict(engine.images.get(tag).labels or {}), []
    finally:
        engine.images.remove(tag, force=True)
