"""The Dockerfile reader: BuildKit's parser, stages, ARG scope, word expansion, and size bounds."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import paths

from mb_ci.dockerfile import parse as dockerfile
from mb_ci.dockerfile.parse import DockerfileError, evaluate, label_lines, parse, read
from mb_ci.dockerfile.words import UNKNOWN, WordError, expand
from mb_ci.errors import EXIT_INSPECT, UsageError

DATA = paths.DATA / "dockerfiles"
OCI = "org.opencontainers.image."


def labels_of(text: str) -> dict[str, str]:
    return {k: f.value for k, f in evaluate(parse(text)).labels.items()}


def test_continuations_quotes_and_legacy_form() -> None:
    text = (
        "FROM scratch\n"
        "LABEL a=1 \\\n"
        '      b="two words" \\\n'
        "      # a comment inside the continuation is dropped\n"
        "      'c'='$not-expanded'\n"
        "LABEL legacy value with spaces\n"
    )
    assert labels_of(text) == {
        "a": "1",
        "b": "two words",
        "c": "$not-expanded",
        "legacy": "value with spaces",
    }


def test_escape_directive_and_heredoc() -> None:
    final = evaluate(read(DATA / "escape-heredoc.Dockerfile"))
    # the LABEL text inside the heredoc is file content, not an instruction
    assert OCI + "title" not in final.labels
    assert final.labels[OCI + "description"].value == 'C:\\widget\\"quoted"'
    assert final.labels[OCI + "source"].line == 6


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("$V", "1.2.3"),
        ("${V}", "1.2.3"),
        ("v${V}-x", "v1.2.3-x"),
        ("${NOPE:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${V:+set}", "set"),
        ("${NOPE:+set}", ""),
        ("'$V'", "$V"),
        ('"$V"', "1.2.3"),
        ('"a\\"b\\c"', 'a"b\\c'),
        ("a\\ b", "a b"),
        ("\\$V", "$V"),
        ("$", "$"),
        ("${NOPE:-${V}}", "1.2.3"),
    ],
)
def test_expansion_follows_buildkit(word: str, value: str) -> None:
    env = {"V": "1.2.3", "EMPTY": ""}
    assert expand(word, env.get).text == value


def test_expansion_keeps_build_time_variables_as_written() -> None:
    out = expand('"sha-${REF}"', lambda n: UNKNOWN if n == "REF" else None)
    assert out.text == "sha-${REF}"
    assert out.unknown == ["REF"]


@pytest.mark.parametrize("word", ["'open", '"open', "${OPEN", "${}", "${A:?must be set}"])
def test_expansion_errors(word: str) -> None:
    with pytest.raises(WordError):
        expand(word, {}.get)


def test_arg_defaults_and_scope() -> None:
    final = evaluate(read(DATA / "arg-version.Dockerfile"))
    assert final.labels[OCI + "version"].value == "1.2.3"
    scoped = evaluate(read(DATA / "arg-before-from.Dockerfile")).labels[OCI + "revision"]
    assert scoped.value == "" and scoped.global_only == ("VCS_REF",)
    again = evaluate(read(DATA / "arg-redeclared.Dockerfile")).labels[OCI + "revision"]
    assert again.value == "0123456789abcdef0123456789abcdef01234567"
    assert again.global_only == ()


def test_build_time_values() -> None:
    facts = evaluate(read(DATA / "build-time.Dockerfile")).labels
    assert facts[OCI + "revision"].value == "${VCS_REF}"
    assert facts[OCI + "revision"].build_time == ("VCS_REF",)
    assert facts[OCI + "source"].value == "$VCS_URL"


def test_final_stage_inherits_from_named_stage_only() -> None:
    two = evaluate(read(DATA / "two-stage.Dockerfile"))
    assert two.labels[OCI + "revision"].inherited
    assert two.labels[OCI + "source"].value == "https://github.com/acme/widget"  # ENV inherited
    assert two.base is None and two.from_line == 6 and two.last_label_line == 7
    copy = evaluate(read(DATA / "two-stage-copy.Dockerfile"))
    assert set(copy.labels) == {OCI + "title"}  # COPY --from does not carry labels


def test_stage_names_are_case_insensitive_and_base_resolved_through_args() -> None:
    text = "ARG BASE=Builder\nFROM alpine:3 AS builder\nLABEL a=1\nFROM ${BASE}\nLABEL b=2\n"
    final = evaluate(parse(text))
    assert set(final.labels) == {"a", "b"}
    assert final.base == "alpine:3"


def test_from_flags_are_not_the_image() -> None:
    text = (
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nLABEL a=1\n"
        "FROM --platform=linux/amd64 build\nLABEL b=2\n"
    )
    final = evaluate(parse(text))
    assert final.base == "golang:1.22" and set(final.labels) == {"a", "b"}


def test_onbuild_label_is_a_label_of_child_images_only() -> None:
    # `docker build` of this file gives an image without the label (and an OnBuild trigger)
    final = evaluate(read(DATA / "onbuild.Dockerfile"))
    assert OCI + "source" not in final.labels
    assert final.onbuild == {OCI + "source": 4}


def test_label_lines_for_the_sarif_reporter() -> None:
    lines = label_lines(DATA / "missing-required.Dockerfile")
    assert lines == {OCI + "revision": 3, OCI + "title": 4, OCI + "description": 4}


def test_declared_args() -> None:
    assert read(DATA / "build-time.Dockerfile").declared_args() == {
        "BUILD_DATE",
        "VCS_REF",
        "VCS_URL",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"FROM scratch\nLABEL a=" + b"x" * (10 * 1024 * 1024) + b"\n", "larger than 1024 KiB"),
        (b"FROM scratch\nLABEL a=" + b"x" * (70 * 1024) + b"\n", "line longer than 64 KiB"),
        (b"FROM scratch\n" + b"LABEL a=b \\\n" * 20000 + b"\n", "too many continued lines"),
        (b"FROM scratch\n" + b"LABEL a=b\n" * 30000, "more than 20000 instructions"),
        (b"FROM scratch\n" + b"LABEL a=b\n" * 2500, "more than 2000 labels"),
        (b"LABEL a=b\n", "no FROM instruction"),
        (b"FROM scratch\nLABEL\n", "LABEL requires at least one argument"),
        (b"FROM scratch\nLABEL a=b single\n", "Syntax error"),
        (b"\xff\xfe", "not UTF-8"),
        (b'FROM scratch\nLABEL a="open\n', "double-quote"),
    ],
)
def test_bad_input_is_one_line_error_quickly(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    with pytest.raises(DockerfileError) as info:
        evaluate(read(path))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == EXIT_INSPECT


def test_expansion_cannot_blow_up(tmp_path: Path) -> None:
    lines = ["FROM scratch", "ENV A=xxxxxxxxxxxxxxxx"] + ["ENV A=$A$A"] * 40 + ["LABEL a=$A"]
    with pytest.raises(DockerfileError, match="KiB once expanded"):
        evaluate(parse("\n".join(lines) + "\n"))


def test_missing_file() -> None:
    with pytest.raises(DockerfileError, match="no such file"):
        read("/nonexistent/Dockerfile")
    assert dockerfile.MAX_BYTES == 1024 * 1024


def test_target_stage() -> None:
    text = "FROM scratch AS one\nLABEL a=1\nFROM one AS two\nLABEL b=2\nFROM scratch\nLABEL c=3\n"
    assert set(evaluate(parse(text), "ONE").labels) == {"a"}
    assert set(evaluate(parse(text), "two").labels) == {"a", "b"}
    assert set(evaluate(parse(text)).labels) == {"c"}
    with pytest.raises(UsageError, match="no such stage"):
        evaluate(parse(text), "three")


def test_crlf_and_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b'\xef\xbb\xbfFROM scratch\r\nLABEL a=1 \\\r\n  b="2"\r\n')
    facts = evaluate(read(path)).labels
    assert {k: (f.value, f.line) for k, f in facts.items()} == {"a": ("1", 2), "b": ("2", 2)}


def test_empty_arg_default_means_set_at_build_time() -> None:
    text = 'FROM scratch\nARG VCS_REF=""\nARG EMPTY=\nLABEL a="${VCS_REF}" b=$EMPTY\n'
    facts = evaluate(parse(text)).labels
    assert facts["a"].build_time == ("VCS_REF",) and facts["b"].build_time == ("EMPTY",)
