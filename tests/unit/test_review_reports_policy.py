"""A policy's regular expression cannot take the memory or the stack of the run.

The ``regex`` module unrolls counted repeats when it compiles: ``((a{1000}){1000}){1000}`` asked
for 13 GB, and 400 nested groups overflowed Python's stack (exit 4). Both are refused with one
line and exit 2, before anything is compiled; patterns policies really use still load.
"""

from __future__ import annotations

import pytest

from mb_ci.errors import PolicyError
from mb_ci.policy import MAX_PATTERN_SIZE, load, pattern_size

RULE = "version: 1\nlabels:\n  org.opencontainers.image.version:\n    pattern: '{}'\n"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("((a{1000}){1000}){1000}", "too big to compile"),
        ("a{4294967294}", "too big to compile"),
        ("(?:x{60000}){60000}", "too big to compile"),
        ("(ab){100000}", "too big to compile"),
        ("(" * 400 + "a" + ")" * 400, "nested more than 50 deep"),
    ],
)
def test_a_pattern_bomb_is_one_line_exit_2(tmp_path, mbci, pattern, message):
    path = tmp_path / "policy.yml"
    path.write_text(RULE.format(pattern))
    with pytest.raises(PolicyError, match=message):
        load(path)
    result = mbci("policy", "validate", str(path), cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-300:]
    assert result.stderr.count("\n") == 1, result.stderr[-300:]
    assert "policy.yml:4: labels.org.opencontainers.image.version.pattern: " in result.stderr


@pytest.mark.parametrize(
    "pattern",
    [
        "^[0-9a-f]{40}$",
        r"v?\d{1,3}\.\d{1,3}\.\d{1,3}(-[0-9A-Za-z.-]{1,64})?",
        r"[{]{5}\{1000000}",  # braces that are no repeat count
        r"\p{L}{1,64}",
        "[[:alpha:]]{1,99}",
        "(" * 40 + "a" + ")" * 40,
        "(a{100}){100}",
    ],
)
def test_patterns_policies_use_still_load(tmp_path, pattern):
    path = tmp_path / "policy.yml"
    path.write_text(RULE.format(pattern))
    rule = load(path).labels["org.opencontainers.image.version"]
    assert rule.pattern == pattern


def test_nested_counts_multiply():
    assert pattern_size("(a{10}){10}")[0] == 100
    assert pattern_size("((a{100}){100}){100}")[0] > MAX_PATTERN_SIZE
    assert pattern_size("[a{9}]{3}")[0] == 3  # a repeat inside a class is a member
