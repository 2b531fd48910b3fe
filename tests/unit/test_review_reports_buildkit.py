"""Label words expanded as BuildKit's shell lexer expands them, proved on BuildKit's own test data.

``tests/data/buildkit/envVarTest`` is the lexer's table of words and results, and
``lex-process-with-matches.json`` the cases of its ``TestProcessWithMatches`` (the pattern
operators ``#``, ``%`` and ``/`` among them); SOURCES.md names their origin. Special and
positional parameters (``$$``, ``$@``, ``$1``) expand to nothing, as the real engine shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import paths
from helpers.dockerfiles import ENV_CASES, ENV_EXPECTED

from mb_ci.checks.dockerfile import check_dockerfile
from mb_ci.dockerfile.parse import DockerfileError, evaluate, read
from mb_ci.dockerfile.words import WordError, expand
from mb_ci.policy import Policy

DATA = paths.DATA / "buildkit"
# the environment lex_test.go gives envVarTest
ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


def _env_var_cases() -> list[tuple[int, str, str]]:
    cases = []
    text = (DATA / "envVarTest").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        platform, source, expected = (part.strip() for part in line.split("|"))
        if platform in ("A", "U"):  # W: Windows only
            cases.append((number, source, expected))
    return cases


ENV_VAR_CASES = _env_var_cases()
MATCH_CASES = json.loads((DATA / "lex-process-with-matches.json").read_text(encoding="utf-8"))


def _expanded(word: str, env: dict[str, str]) -> str | None:
    try:
        return expand(word, env.get).text
    except WordError:
        return None


def test_the_corpus_is_all_there():
    assert len(ENV_VAR_CASES) > 200 and len(MATCH_CASES) > 40
    assert any("${FOO//" in c["input"] for c in MATCH_CASES)


@pytest.mark.parametrize(("number", "source", "expected"), ENV_VAR_CASES)
def test_env_var_test(number, source, expected):
    got = _expanded(source, ENV)
    assert got == (None if expected == "error" else expected), f"envVarTest:{number}"


@pytest.mark.parametrize("case", MATCH_CASES, ids=[c["input"] for c in MATCH_CASES])
def test_process_with_matches(case):
    assert _expanded(case["input"], case["envs"]) == case["expected"]


def test_an_empty_match_after_a_match_is_not_replaced():
    """Go's ReplaceAllString, not Python's re.sub: ``.*`` replaces ``abc`` once."""
    assert expand("${V//*/x}", {"V": "abc"}.get).text == "x"


def _lint(tmp_path: Path, text: str):
    path = tmp_path / "Dockerfile"
    path.write_text(text, encoding="utf-8")
    final = evaluate(read(path))
    return final, check_dockerfile(final, Policy(preset="none"))[0]


def test_pattern_operators_give_the_value_buildkit_writes(tmp_path):
    final, findings = _lint(
        tmp_path,
        "FROM scratch\nARG V=v1.2.3\n"
        'LABEL a="${V#v}" b="${V%.*}" c="${V%%.*}" d="${V/./-}" e="${V//./-}" f="${V##*.}"\n',
    )
    values = {k: f.value for k, f in final.labels.items()}
    assert values == {
        "a": "1.2.3",
        "b": "v1.2",
        "c": "v1",
        "d": "v1-2.3",
        "e": "v1-2-3",
        "f": "3",
    }
    assert not [f for f in findings if f.check == "dockerfile-build-time-value"]


def test_a_pattern_on_a_build_time_arg_stays_unknown(tmp_path):
    final, findings = _lint(tmp_path, 'FROM scratch\nARG V\nLABEL a="${V#v}"\n')
    assert final.labels["a"].value == "${V#v}"
    assert [f.check for f in findings] == ["dockerfile-build-time-value"]


@pytest.mark.parametrize("word", ["${V:#v}", "${V=x}", "${V:=x}", "${.}", "${V/x}"])
def test_a_modifier_buildkit_refuses_is_an_error(tmp_path, word):
    path = tmp_path / "Dockerfile"
    path.write_text(f'FROM scratch\nARG V=1\nLABEL a="{word}"\n', encoding="utf-8")
    with pytest.raises(DockerfileError, match=r"Dockerfile:3: "):
        evaluate(read(path))


SPECIAL = 'FROM scratch\nLABEL d="$$x$@y$1z${-:-q}"\n'


def test_special_parameters_expand_to_nothing(tmp_path):
    final, findings = _lint(tmp_path, SPECIAL)
    assert final.labels["d"].value == "xyzq"
    undefined = [f for f in findings if f.check == "dockerfile-undefined-var"]
    assert len(undefined) == 3
    assert all("shell parameter the builder never sets" in f.message for f in undefined)
    assert "declare `ARG" not in " ".join(f.message for f in undefined)


@pytest.mark.parametrize("name", list(ENV_CASES))
def test_one_env_expands_from_before_it(tmp_path, name):
    final, _ = _lint(tmp_path, ENV_CASES[name])
    assert {k: f.value for k, f in final.labels.items()} == ENV_EXPECTED[name]


def test_a_platform_arg_not_redeclared_in_the_stage_is_empty(tmp_path):
    """BuildKit sets TARGETPLATFORM & co. in the global scope only; it used to be read as an
    ENV the base image may set (info), where it expands to an empty string."""
    final, findings = _lint(
        tmp_path,
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "ARG TARGETARCH\n"
        'LABEL arch=$TARGETARCH platform="${TARGETPLATFORM}"\n',
    )
    assert final.labels["platform"].value == ""
    scope = [f for f in findings if f.check == "dockerfile-arg-scope"]
    assert [f.label for f in scope] == ["platform"]
    assert "`ARG TARGETPLATFORM`" in scope[0].message and "platform ARG" in scope[0].message
    # re-declared, it is the target platform of the build: unknown before it
    assert final.labels["arch"].build_time == ("TARGETARCH",)


def test_a_pattern_cannot_backtrack_for_ever():
    """Go's regexp is linear; a backtracking one took minutes on ``*a*a*a*a*a*b`` against a
    long value with no ``b`` (this test would not finish)."""
    value = "a" * 20_000
    env = {"V": value}.get
    assert expand("${V/*a*a*a*a*a*b/}", env).text == value
    assert expand("${V//" + "*a" * 100 + "/x}", env).text == "x"
    assert expand("${V%%" + "*a" * 100 + "?}", env).text == ""
    assert expand("${V#" + "*a" * 100 + "}", env).text == "a" * (20_000 - 100)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${V/b*/X}", "aX"),  # greedy: to the end
        ("${V//a/}", "bcbc"),
        ("${V//?/-}", "------"),
        ("${V/#/X}", "abcabc"),  # `#` is no anchor in BuildKit: a literal #
        ("${V%b*}", "abca"),
        ("${V%%b*}", "a"),
        ("${V##*b}", "c"),
    ],
)
def test_pattern_operators_leftmost_and_shortest_or_longest(word, expected):
    assert expand(word, {"V": "abcabc"}.get).text == expected
