"""Hostile policies and Dockerfiles: one line and the documented exit code, in linear time."""

from __future__ import annotations

from pathlib import Path

import pytest

from mb_ci.dockerfile import parse as dockerfile
from mb_ci.dockerfile.parse import evaluate, read
from mb_ci.errors import PolicyError
from mb_ci.policy import load

DIGITS = "9" * 100_000


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # Python refuses to turn more than 4300 digits into an int (CVE-2020-10735)
        (f"git:\n  created:\n    clock-skew: {DIGITS}\n", ":4: invalid YAML: an integer of"),
        # a hexadecimal one converts, but cannot be printed in the schema's message
        (f"labels:\n  a:\n    value: 0x{'f' * 100_000}\n", ":4: invalid YAML: an integer of"),
        (f"checks:\n  label-required: {DIGITS}\n", ":3: invalid YAML: an integer of"),
        # JSON Schema counts 1.0e+300 as an integer; Python's timedelta cannot hold it
        ("git:\n  created:\n    clock-skew: 1.0e+300\n", ":4: git.created.clock-skew: longer"),
        ("git:\n  created:\n    max-age: 99999999999999999999\n", ":4: git.created.max-age: "),
        ("git:\n  created:\n    max-age: 999999999w\n", ":4: git.created.max-age: longer"),
        # the schema's message quotes the value: bounded to one short line
        (f"preset: '{'x' * 500_000}'\n", ":2: preset: 'xxx"),
    ],
)
def test_hostile_policy_is_one_line_exit_2(tmp_path, mbci, body, message):
    path = tmp_path / "policy.yml"
    path.write_text("version: 1\n" + body)
    with pytest.raises(PolicyError) as info:
        load(path)
    assert message in str(info.value)
    result = mbci("policy", "validate", str(path), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 600, result.stderr[:300]
    assert "Traceback" not in result.stderr


def test_a_century_of_max_age_is_still_fine(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text("version: 1\ngit:\n  created:\n    max-age: 5200w\n")
    assert load(path).git.max_age == 5200 * 7 * 86400


def _chain(path: Path, stages: int, labels: bool) -> Path:
    lines = ["FROM scratch AS s0"]
    for i in range(1, stages):
        lines.append(f"FROM s{i - 1} AS s{i}")
        lines.append(f"ENV E{i}=v{i}")
        if labels and i % 2:
            lines.append(f"LABEL k{i}=$E{i}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_3000_chained_stages_take_linear_work(tmp_path, monkeypatch):
    """Work counted, not timed: each stage's labels and variables are handed on, not copied.

    Before, every ``FROM <stage>`` copied (and re-made) all the labels so far: with 1,500 labels
    over 3,000 stages that was 2.25 million label copies, and 17 s.
    """
    made = 0
    real = dockerfile.dataclasses_replace

    def counting(obj, **changes):
        nonlocal made
        made += 1
        return real(obj, **changes)

    monkeypatch.setattr(dockerfile, "dataclasses_replace", counting)
    final = evaluate(read(_chain(tmp_path / "Dockerfile", 3000, labels=True)))
    assert len(final.labels) == 1500
    assert final.labels["k2999"].value == "v2999" and final.labels["k1"].inherited
    assert not final.labels["k2999"].inherited and final.stage == "s2999"
    assert made <= 1500 + 1


def test_chain_over_the_label_bound_is_one_line(tmp_path, mbci):
    path = tmp_path / "Dockerfile"
    lines = ["FROM scratch AS s0"] + [
        f"FROM s{i - 1} AS s{i}\nLABEL k{i}=v" for i in range(1, 3000)
    ]
    path.write_text("\n".join(lines) + "\n")
    result = mbci("lint-dockerfile", str(path), cwd=tmp_path)
    assert result.returncode == 3
    assert "more than 2000 labels" in result.stderr and result.stderr.count("\n") == 1


def test_only_the_final_stages_chain_counts(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(
        "FROM scratch AS unrelated\nLABEL a=1\n"
        "FROM scratch AS base\nLABEL b=2\n"
        "FROM base\nLABEL c=3\n"
    )
    assert set(evaluate(read(path)).labels) == {"b", "c"}


# --- arbitrary policies: only PolicyError, always one line ------------------------------------

SCALARS = [
    "1",
    "-1",
    "0x" + "f" * 80,
    "9" * 5000,
    "1.0e+300",
    ".nan",
    "-.inf",
    "~",
    "true",
    "!!binary aGk=",
    "!!set {a, b}",
    "2024-01-01",
    "12:30:00",
    "[]",
    "{}",
    "[1, [2]]",
    "'" + "x" * 2000 + "'",
    '"\\u0000"',
    "!!float 1",
    "0o777",
    "'(a*)*b'",
    "'[z-a]'",
    "5m",
    "'99999999999w'",
    "*undefined_alias",
    "&a [*a]",
]
KEYS = {
    "preset": None,
    "strict": None,
    "allow": None,
    "annotations": None,
    "labels": {
        "a.b": dict.fromkeys(
            ["required", "forbidden", "value", "pattern", "enum", "format", "severity"]
        )
    },
    "checks": dict.fromkeys(["label-required", "created-max-age"]),
    "git": {
        "remote": None,
        "revision": dict.fromkeys(["accept", "allow-dirty"]),
        "created": dict.fromkeys(["clock-skew", "max-age"]),
    },
}


def _policy_text():
    """YAML text shaped like a policy: known keys, nested as the schema nests them, with
    hostile scalars (huge numbers, tags, aliases, dates, bad patterns) at any level."""
    from hypothesis import strategies as st

    scalar = st.sampled_from(SCALARS).map(lambda s: f" {s}\n")

    def block(spec, indent):
        keys = st.lists(st.sampled_from(sorted(spec)), unique=True, min_size=1, max_size=len(spec))

        def lines(chosen):
            parts = []
            for key in chosen:
                head = " " * indent + key + ":"
                value = (
                    st.one_of(scalar, block(spec[key], indent + 2).map(lambda b: "\n" + b))
                    if isinstance(spec[key], dict)
                    else scalar
                )
                parts.append(value.map(lambda v, head=head: head + v))
            return st.tuples(*parts).map("".join)

        return keys.flatmap(lines)

    return block(KEYS, 0).map(lambda body: "version: 1\n" + body)


def test_arbitrary_policies_give_one_line_policy_errors(tmp_path):
    from hypothesis import HealthCheck, given, settings

    path = tmp_path / "policy.yml"

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_policy_text())
    def run(text: str) -> None:
        path.write_text(text)
        try:
            load(path)
        except PolicyError as e:
            assert "\n" not in str(e) and len(str(e)) < 700, str(e)[:300]

    run()
