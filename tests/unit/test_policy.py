"""The policy file: loading, validation errors that name file, line and field, and hostile YAML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.cli import run_mbci
from helpers.paths import ROOT

from mb_ci import policy
from mb_ci.errors import PolicyError
from mb_ci.models import Severity


def write(tmp_path: Path, text: str, name: str = "policy.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        policy.load(path)
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(path), "policy.yml")


def test_no_file_means_the_defaults():
    loaded = policy.load(None)
    assert loaded.preset == "oci"
    assert loaded.required_keys() == (
        "org.opencontainers.image.created",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.source",
    )
    assert loaded.git == policy.GitPolicy()
    assert loaded.severity("revision-dirty") is Severity.WARNING


FULL = """\
version: 1
preset: both
strict: true
allow: ["com.example.*"]
annotations: either
labels:
  org.opencontainers.image.licenses:
    required: true
    format: spdx-expression
  org.opencontainers.image.vendor:
    value: "Acme Inc."
  com.example.tier:
    enum: [frontend, backend]
  com.example.team:
    pattern: "^[a-z][a-z-]+$"
    severity: warning
  com.example.date:
    value: 2024-05-01
  org.label-schema.vcs-ref:
    required: false
  org.label-schema.build-date:
    deprecated: "use org.opencontainers.image.created"
  com.example.secret:
    forbidden: true
checks:
  created-max-age: error
  revision-dirty: off
  label-unknown: info
git:
  remote: upstream
  revision:
    accept: head
    allow-dirty: true
  created:
    clock-skew: 90s
    max-age: 30d
  version:
    allow-v-prefix: false
"""


def test_a_full_policy(tmp_path):
    loaded = policy.load(write(tmp_path, FULL))
    assert loaded.preset == "both"
    assert loaded.strict is True
    assert loaded.allow == ("com.example.*",)
    assert loaded.annotations == "either"
    assert loaded.severity("revision-dirty") is Severity.OFF  # YAML 1.1 would read `off` as false
    assert loaded.severity("created-max-age") is Severity.ERROR
    assert loaded.severity("label-pattern", "com.example.team") is Severity.WARNING
    assert loaded.labels["com.example.date"].value == "2024-05-01"  # a string, not a date
    assert loaded.labels["com.example.tier"].enum == ("frontend", "backend")
    assert loaded.labels["org.label-schema.build-date"].deprecated.startswith("use ")
    assert loaded.labels["com.example.team"].line == 14
    assert loaded.git == policy.GitPolicy(
        remote="upstream",
        accept="head",
        allow_dirty=True,
        clock_skew=90,
        max_age=30 * 86400,
        allow_v_prefix=False,
    )
    keys = loaded.required_keys()
    assert "org.label-schema.vcs-ref" not in keys  # required: false takes it out of the preset
    assert "org.opencontainers.image.licenses" in keys
    assert len(keys) == 6


def test_the_shipped_example_policy_is_valid():
    for path in ROOT.glob("examples/**/.mb-ci.yml"):
        policy.load(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nstrict: 'yes'\n", "policy.yml:2: strict: 'yes' is not of type 'boolean'"),
        ("version: 1\nstrict: yes\n", "policy.yml:2: strict: 'yes' is not of type 'boolean'"),
        (
            "version: 1\nlabels:\n  a.b:\n    required: true\n    format: rfc3393\n",
            "policy.yml:5: labels.a.b.format: 'rfc3393' is not one of ['url', 'rfc3339',",
        ),
        ("version: 1\nbogus: 1\n", "policy.yml:2: bogus: unknown key (allowed: allow, "),
        (
            "version: 1\ngit:\n  remote: origin\n  revisoin: {}\n",
            "policy.yml:4: git.revisoin: unknown key (allowed: created, remote, revision, version)",
        ),
        (
            "version: 1\nlabels:\n  a.b:\n    requierd: true\n",
            "policy.yml:4: labels.a.b.requierd: unknown key (allowed: deprecated, description,",
        ),
        ("version: 2\n", "policy.yml:1: version: 1 was expected"),
        ("preset: oci\n", "policy.yml:1: (top level): 'version' is a required property"),
        ("- 1\n- 2\n", "policy.yml:1: (top level): [1, 2] is not of type 'object'"),
        ("version: 1\nlabels: [1]\n", "policy.yml:2: labels: [1] is not of type 'object'"),
        (
            "version: 1\ngit:\n  created:\n    clock-skew: 5x\n",
            "policy.yml:4: git.created.clock-skew: '5x' is not a duration: give seconds, or a "
            "number with s, m, h, d or w (e.g. 90, 5m, 30d)",
        ),
        (
            "version: 1\nchecks:\n  revision-matches-head: fatal\n",
            "policy.yml:3: checks.revision-matches-head: 'fatal' is not one of ['error', ",
        ),
        (
            "version: 1\nlabels:\n  a.b:\n    enum: []\n",
            "policy.yml:4: labels.a.b.enum: [] should be non-empty",
        ),
    ],
)
def test_schema_errors_name_file_line_path_and_reason(tmp_path, text, expected):
    assert error_of(tmp_path, text).startswith(expected)


def test_duplicate_key(tmp_path):
    message = error_of(tmp_path, "version: 1\nlabels:\n  a.b: {}\n  a.b: {required: true}\n")
    assert message == "policy.yml:4: labels.a.b: duplicate key (keep one of them)"


def test_invalid_regex(tmp_path):
    message = error_of(tmp_path, "version: 1\nlabels:\n  a.b:\n    pattern: '(['\n")
    assert message.startswith("policy.yml:4: labels.a.b.pattern: invalid regular expression: ")


def test_unknown_check_id_with_did_you_mean(tmp_path):
    message = error_of(tmp_path, "version: 1\nchecks:\n  revision-matches-haed: off\n")
    assert message == (
        "policy.yml:3: checks.revision-matches-haed: unknown check id "
        "(did you mean 'revision-matches-head'?)"
    )
    far = error_of(tmp_path, "version: 1\nchecks:\n  zzz: off\n")
    assert far.endswith("unknown check id (see `mb-ci checks` for the list)")


def test_required_and_forbidden(tmp_path):
    message = error_of(
        tmp_path, "version: 1\nlabels:\n  a.b:\n    required: true\n    forbidden: true\n"
    )
    assert message == "policy.yml:3: labels.a.b: a label cannot be both required and forbidden"


def test_invalid_yaml(tmp_path):
    assert error_of(tmp_path, "version: 1\nlabels: [\n").startswith("policy.yml:3: invalid YAML: ")
    assert error_of(tmp_path, "").startswith("policy.yml: empty policy")
    assert "invalid YAML" in error_of(tmp_path, "version: 1\n---\nversion: 1\n")


def test_not_utf8(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_bytes(b"version: 1\n# \xff\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        policy.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(PolicyError, match="no such file"):
        policy.load(tmp_path / "nope.yml")


BOMB = """\
version: 1
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
badges: *i
"""


def test_yaml_bomb_is_refused(tmp_path):
    message = error_of(tmp_path, BOMB)
    assert message == "policy.yml: too many nodes after alias expansion (is this a YAML bomb?)"


def test_deep_nesting_is_refused(tmp_path):
    message = error_of(tmp_path, "version: 1\nbadges: " + "[" * 200 + "]" * 200 + "\n")
    assert "nested too deeply" in message


def test_large_file_is_refused(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text("version: 1\n" + "# padding\n" * 200_000)  # 2 MB
    with pytest.raises(PolicyError, match="larger than 1024 KiB"):
        policy.load(path)


def test_policy_validate_command(tmp_path):
    good = write(tmp_path, FULL, ".mb-ci.yml")
    ok = run_mbci("policy", "validate", str(good))
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout == f"{good}: valid (preset both, 8 label rules)\n"
    # found at the checkout root without a file argument
    assert run_mbci("policy", "validate", cwd=tmp_path).returncode == 0
    bad = write(tmp_path, "version: 1\nstrict: 3\n", "bad.yml")
    result = run_mbci("policy", "validate", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"mb-ci: error: {bad}:2: strict: 3 is not of type 'boolean'\n"
    unknown = write(tmp_path, "version: 1\ngit:\n  remote: origin\n  remotes: [a]\n", "u.yml")
    result = run_mbci("policy", "validate", str(unknown))
    assert result.returncode == 2
    assert result.stderr == (
        f"mb-ci: error: {unknown}:4: git.remotes: unknown key "
        "(allowed: created, remote, revision, version)\n"
    )
    (tmp_path / "empty").mkdir()
    none = run_mbci("policy", "validate", cwd=tmp_path / "empty")
    assert none.returncode == 2
    assert "no .mb-ci.yml here" in none.stderr


def test_check_with_a_bad_policy_exits_2_before_anything_else(tmp_path):
    bad = write(tmp_path, "version: 1\nlabels:\n  x:\n    format: rfc3393\n")
    # no checkout and no such image: the policy is judged first
    result = run_mbci("check", "no-such-image:1", "--policy", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert re.match(
        rf"mb-ci: error: {re.escape(str(bad))}:4: labels\.x\.format: 'rfc3393'", lines[0]
    )


def test_policy_schema_command_prints_the_shipped_schema():
    result = run_mbci("policy", "schema")
    assert result.returncode == 0
    top = (ROOT / "schemas" / "policy.schema.json").read_text()
    assert result.stdout == top
    assert (ROOT / "mb_ci" / "schemas" / "policy.schema.json").read_text() == top
    schema = json.loads(top)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(":1")
    assert schema["additionalProperties"] is False


def test_the_schema_is_a_valid_2020_12_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(policy.schema())


def test_catastrophic_pattern_is_a_finding_not_a_hang(tmp_path):
    from mb_ci.checks.base import Findings
    from mb_ci.checks.labels import check_labels

    path = write(tmp_path, "version: 1\npreset: none\nlabels:\n  x.y:\n    pattern: '^(a+)+$'\n")
    loaded = policy.load(path)
    out = Findings(loaded)
    check_labels({"x.y": "a" * 5000 + "!"}, out)
    [finding] = out.items
    assert finding.check == "label-pattern"
    assert finding.line == 4
    out = Findings(loaded)
    check_labels({"x.y": "aaaa"}, out)
    assert out.items == []


def test_keys_are_strings_as_written(tmp_path):
    path = write(
        tmp_path, "version: 1\nlabels:\n  123:\n    required: true\n  1.10:\n    value: x\n"
    )
    loaded = policy.load(path)
    assert sorted(loaded.labels) == ["1.10", "123"]
    assert "123" in loaded.required_keys()
    message = error_of(tmp_path, "version: 1\nlabels:\n  ? [a, b]\n  : {}\n")
    assert message == "policy.yml:3: labels: a key must be a string"


def test_no_python_objects(tmp_path):
    message = error_of(tmp_path, "version: !!python/object/apply:os.system ['touch x']\n")
    assert message.startswith("policy.yml:1: invalid YAML: could not determine a constructor")
    assert not (tmp_path / "x").exists()


def test_a_pattern_judges_the_whole_value_however_long(tmp_path):
    from mb_ci.checks.base import Findings
    from mb_ci.checks.labels import check_labels

    loaded = policy.load(
        write(tmp_path, "version: 1\npreset: none\nlabels:\n  x.y:\n    pattern: 'a+'\n")
    )
    out = Findings(loaded)
    check_labels({"x.y": "a" * 70_000 + "!"}, out)
    assert [f.check for f in out.items] == ["label-pattern"]


def test_the_readme_policy_example_is_valid_and_means_what_it_says(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Policy reference") :]
    block = section[section.index("```yaml\n") + len("```yaml\n") :]
    block = block[: block.index("```")]
    loaded = policy.load(write(tmp_path, block))
    assert loaded.severity("revision-dirty") is Severity.OFF  # `off`, not YAML 1.1's false
    assert loaded.git.max_age == 30 * 86400


def test_a_pattern_that_runs_out_of_time_says_so(tmp_path):
    from mb_ci.checks.base import Findings
    from mb_ci.checks.labels import check_labels

    text = "version: 1\npreset: none\nlabels:\n  x.y:\n    pattern: '^(a|aa)+$'\n"
    out = Findings(policy.load(write(tmp_path, text)))
    check_labels({"x.y": "a" * 5000 + "!"}, out)
    [finding] = out.items
    assert finding.check == "label-pattern"
    assert "took longer than 1s" in finding.message
