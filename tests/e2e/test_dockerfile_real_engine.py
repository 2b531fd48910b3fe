"""The Dockerfile read as the engine reads it, proved by building the same bytes in the real
engine (Docker 20.10's ``docker build``) and comparing the labels it writes.

Parser directives (leading whitespace, an unknown directive ending the block), a Latin-1 file,
``ONBUILD LABEL`` (a label of child images, fired by a later ``FROM <stage>``), and a variable
only the base image sets.
"""

from __future__ import annotations

import io
import tarfile
import uuid
from pathlib import Path

import pytest
from helpers.dockerfiles import ENV_CASES, ENV_EXPECTED
from helpers.images import engine_labels

from mb_ci.checks.dockerfile import check_dockerfile
from mb_ci.dockerfile.parse import DockerfileError, evaluate, read
from mb_ci.policy import Policy


def _ours(tmp_path: Path, dockerfile: bytes) -> dict[str, str]:
    path = tmp_path / "Dockerfile"
    path.write_bytes(dockerfile)
    return {k: f.value for k, f in evaluate(read(path)).labels.items()}


CASES = {
    # BuildKit's directive regex allows whitespace before `#`
    "leading-whitespace": b' \t# escape=`\nFROM scratch\nLABEL a="x`\n y" b=c:\\d\n',
    # the block ends at an unknown directive: `escape` after it is a comment
    "unknown-directive-ends-block": b"# foo=bar\n# escape=`\nFROM scratch\nLABEL a=c:\\\\d\n",
    "syntax-then-escape": b"# syntax=docker/dockerfile:1\n# escape=`\nFROM scratch\nLABEL a=x``y\n",
    "blank-line-ends-block": b"\n# escape=`\nFROM scratch\nLABEL a=x\\\n  b=y\n",
    "latin-1": (
        b'FROM scratch\nLABEL org.opencontainers.image.authors="Ren\xe9 M\xfcller" x=caf\xe9\n'
    ),
    "bom": b"\xef\xbb\xbf# escape=`\nFROM scratch\nLABEL a=x`\n  b=c:\\\\d\n",
    "onbuild-fires-in-a-later-stage": (
        b"FROM scratch AS base\nLABEL own=1\nONBUILD LABEL child=1\n"
        b"ONBUILD ENV V=2\nFROM base\nLABEL final=1 v=$V\n"
    ),
    "onbuild-not-for-this-image": b"FROM scratch\nLABEL own=1\nONBUILD LABEL child=1\n",
    "onbuild-fires-once": (
        b"FROM scratch AS a\nONBUILD LABEL one=1\nFROM a AS b\nFROM b\nLABEL last=1\n"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_labels_are_the_engines(engine, tmp_path, name):
    labels, errors = engine_labels(engine, CASES[name])
    assert not errors, errors
    assert _ours(tmp_path, CASES[name]) == labels


def test_latin_1_is_read_as_the_engine_writes_it_with_a_warning(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_bytes(CASES["latin-1"])
    final = evaluate(read(path))
    assert final.labels["x"].value == "caf\ufffd"
    findings, _ = check_dockerfile(final, Policy(preset="none"))
    (warning,) = [f for f in findings if f.check == "dockerfile-not-utf8"]
    assert warning.line == 2 and "save the file as UTF-8" in warning.message


def test_utf_16_is_refused_as_the_engine_fails_it(engine, tmp_path):
    text = "FROM scratch\nLABEL a=b\n".encode("utf-16")
    _, errors = engine_labels(engine, text)
    assert errors
    path = tmp_path / "Dockerfile"
    path.write_bytes(text)
    with pytest.raises(DockerfileError, match="UTF-16, not UTF-8"):
        read(path)


def test_unknown_directive_then_escape_fails_like_the_engine(engine, tmp_path):
    text = b'# foo=bar\n# escape=`\nFROM scratch\nLABEL a="x`\n y"\n'
    _, errors = engine_labels(engine, text)
    assert errors  # the backtick is no escape: `y"` is an instruction of its own
    path = tmp_path / "Dockerfile"
    path.write_bytes(text)
    with pytest.raises(DockerfileError):
        evaluate(read(path))


def test_a_variable_of_the_base_image_is_unknown_before_the_build(engine, tmp_path):
    base = f"mb-ci-test/base-{uuid.uuid4().hex[:12]}:1"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"FROM scratch\nENV NODE_VERSION=20.11.1\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    list(engine.api.build(fileobj=buf, custom_context=True, tag=base, rm=True, decode=True))
    try:
        text = f"FROM {base}\nLABEL org.opencontainers.image.version=$NODE_VERSION\n".encode()
        labels, errors = engine_labels(engine, text)
        assert not errors and labels == {"org.opencontainers.image.version": "20.11.1"}
        path = tmp_path / "Dockerfile"
        path.write_bytes(text)
        final = evaluate(read(path))
        fact = final.labels["org.opencontainers.image.version"]
        assert fact.from_base == ("NODE_VERSION",) and not fact.undefined
        policy = Policy(preset="none")
        findings, _ = check_dockerfile(final, policy)
        assert [(f.check, f.severity.value) for f in findings] == [
            ("dockerfile-build-time-value", "info")
        ]
        assert "the base image may set it with ENV" in findings[0].message
    finally:
        engine.images.remove(base, force=True)


def test_from_scratch_an_undeclared_variable_is_still_empty(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM scratch\nLABEL org.opencontainers.image.version=$NODE_VERSION\n")
    findings, _ = check_dockerfile(evaluate(read(path)), Policy(preset="none"))
    assert [f.check for f in findings] == ["dockerfile-undefined-var"]


# BuildKit's special parameters (see test_review_reports_buildkit.py), as the engine writes them
SPECIAL = 'FROM scratch\nLABEL d="$$x$@y$1z${-:-q}"\n'


def test_special_parameters_as_the_engine_writes_them(engine, tmp_path):
    labels, errors = engine_labels(engine, SPECIAL.encode())
    assert errors == []
    path = tmp_path / "Dockerfile"
    path.write_text(SPECIAL, encoding="utf-8")
    final = evaluate(read(path))
    assert labels == {k: f.value for k, f in final.labels.items()}


@pytest.mark.parametrize("name", list(ENV_CASES))
def test_one_env_as_the_engine_writes_it(engine, name):
    """Every word of one ENV expands with the variables from before it, as the engine does."""
    labels, errors = engine_labels(engine, ENV_CASES[name].encode())
    assert errors == [] and labels == ENV_EXPECTED[name]
