"""The Dockerfile reader agrees with the real engine on the labels a build writes."""

from __future__ import annotations

import io
import tarfile
import uuid
from typing import Any

import pytest

from mb_ci.dockerfile.parse import evaluate, parse

pytestmark = pytest.mark.docker

CASES = {
    "quotes-and-args": (
        "ARG GLOBAL=global-default\n"
        "FROM scratch AS builder\n"
        "ARG VERSION=1.2.3\n"
        "ENV FROM_ENV=env-$VERSION\n"
        "LABEL version=$VERSION braces=${VERSION}-x default=${NOPE:-dflt} alt=${VERSION:+yes} \\\n"
        '      single=\'$VERSION\' double="a \\"q\\" \\\\ \\d $VERSION" plain=a\\ b \\\n'
        "      scoped=$GLOBAL env=$FROM_ENV dollar=$ empty=\n"
        "LABEL legacy form with spaces\n"
        "FROM builder\n"
        "ARG GLOBAL\n"
        "LABEL redeclared=$GLOBAL version=2.0.0\n"
    ),
    "escape-directive": (
        "# escape=`\n"
        "FROM scratch\n"
        "ARG P=C:\\path\n"
        'LABEL path=$P quoted="`"in`" \\kept" `\n'
        "      next=line\n"
    ),
}


def _context(dockerfile: str) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


@pytest.mark.parametrize("name", sorted(CASES))
def test_labels_match_the_engine(engine: Any, name: str) -> None:
    text = CASES[name]
    tag = f"mb-ci-test/df-{uuid.uuid4().hex[:10]}:latest"
    chunks = list(
        engine.api.build(fileobj=_context(text), custom_context=True, tag=tag, rm=True, decode=True)
    )
    errors = [c for c in chunks if "error" in c]
    assert not errors, errors
    try:
        built = engine.images.get(tag).attrs["Config"]["Labels"] or {}
    finally:
        engine.images.remove(tag, force=True)
    ours = {k: f.value for k, f in evaluate(parse(text)).labels.items()}
    assert ours == built
