"""Presets: shipped files, combination order, extension, show-preset, and the Red Hat lists held
to their real sources (tests/data/redhat, see SOURCES.md)."""

from __future__ import annotations

import json
import re

import pytest
import regex
import tomllib
import yaml
from helpers.facts import image, policy
from helpers.paths import ROOT

from mb_ci import presets
from mb_ci.checks import check_image
from mb_ci.errors import PolicyError
from mb_ci.models import Severity
from mb_ci.policy import Policy, validate
from mb_ci.vocab import OCI

DATA = ROOT / "tests" / "data" / "redhat"
RULE_DATA = yaml.safe_load((DATA / "rhtap-ec-policy-rule_data.yml").read_text("utf-8"))["rule_data"]
TRADEMARK_CASES = re.findall(
    r'Entry\("[^"]*", "((?:[^"\\]|\\.)*)", (true|false)\)',
    (DATA / "preflight-trademark_validator_test.go").read_text("utf-8"),
)


def _findings(rules: Policy, labels: dict[str, str]):
    return check_image(image(labels), None, _no_ci(), rules).findings


def _no_ci():
    from helpers.facts import ci

    return ci()


@pytest.mark.parametrize("name", presets.names())
def test_every_preset_file_is_a_valid_policy(name):
    data = presets.data(name)
    validate(data, {}, f"{name}.yaml")  # raises PolicyError with the line when it is not
    assert data["preset"] == "none" and data["version"] == 1


def test_the_schema_names_exactly_the_shipped_presets():
    schema = json.loads((ROOT / "schemas" / "policy.schema.json").read_text("utf-8"))
    assert schema["$defs"]["preset-name"]["enum"] == list(presets.names())
    assert {"oci", "label-schema", "both", "none", "ghcr", "redhat", "preflight"} == set(
        presets.names()
    )


def test_the_preset_files_are_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "presets/*.yaml" in config["tool"]["setuptools"]["package-data"]["mb_ci"]


@pytest.mark.parametrize("name", ["oci", "label-schema", "both", "none"])
def test_a_vocabulary_preset_file_says_what_vocab_presets_says(name):
    from mb_ci.vocab import PRESETS

    data = presets.data(name)
    rules = data.get("labels") or {}
    assert list(rules) == list(PRESETS[name])
    assert all(rule == {"required": True} for rule in rules.values())
    assert set(data) <= {"version", "preset", "labels"}


def test_the_legacy_presets_require_what_they_always_did():
    assert Policy().required_keys() == (OCI + "created", OCI + "revision", OCI + "source")
    ls = "org.label-schema."
    assert Policy(preset="label-schema").required_keys() == (
        ls + "build-date",
        ls + "vcs-ref",
        ls + "vcs-url",
    )
    assert len(Policy(preset="both").required_keys()) == 6
    assert Policy(preset="none").required_keys() == ()


def test_a_single_string_and_a_list_of_one_are_the_same_policy():
    assert policy("preset: ghcr\n").required_keys() == policy("preset: [ghcr]\n").required_keys()


def test_presets_combine_in_order_and_the_policy_extends_them():
    combined = policy(
        "preset: [oci, ghcr]\n"
        "labels:\n"
        f"  {OCI}licenses:\n    severity: warning\n"
        f"  {OCI}created:\n    required: false\n"
    )
    assert combined.required_keys() == (
        OCI + "revision",
        OCI + "source",
        OCI + "description",
        OCI + "licenses",
    )
    licenses = combined.rules[OCI + "licenses"]
    # the policy changed the severity only: ghcr's requirement and pattern stay
    assert licenses.required and licenses.pattern and licenses.severity is Severity.WARNING
    # ghcr's source rule (format: url) extends oci's (required) rather than replacing it
    assert combined.rules[OCI + "source"].format == "url"
    assert combined.presets == ("oci", "ghcr") and combined.preset == "oci"


def test_a_later_preset_gate_replaces_an_earlier_and_the_policy_wins():
    assert policy("preset: [preflight]\n").limits["max_layers"].limit == 40
    assert policy("preset: [preflight]\nmax_layers: 12\n").limits["max_layers"].limit == 12


def test_show_preset_prints_the_shipped_file(mbci):
    for name in presets.names():
        result = mbci("policy", "show-preset", name)
        assert result.returncode == 0, result.stderr
        assert result.stdout == (ROOT / "mb_ci" / "presets" / f"{name}.yaml").read_text("utf-8")


def test_show_preset_of_an_unknown_name_is_one_line_exit_2(mbci):
    result = mbci("policy", "show-preset", "redhta")
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "did you mean 'redhat'" in result.stderr


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "preset: redhta\n",
            "policy.yml:2: preset: 'redhta' is not a preset (did you mean 'redhat'?",
        ),
        (
            "preset: [oci, ghrc]\n",
            "policy.yml:2: preset.1: 'ghrc' is not a preset (did you mean 'ghcr'?",
        ),
    ],
)
def test_an_unknown_preset_is_one_line_with_its_line(mbci, tmp_path, body, message):
    path = tmp_path / "policy.yml"
    path.write_text("version: 1\n" + body)
    result = mbci("policy", "validate", str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_validate_names_every_preset(mbci, tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text("version: 1\npreset: [redhat, preflight]\n")
    result = mbci("policy", "validate", str(path))
    assert result.returncode == 0, result.stderr
    assert "(preset redhat, preflight, 0 label rules)" in result.stdout


# --- the Red Hat lists, held to their sources -------------------------------------------------


def test_redhat_requires_ec_required_labels_and_preflight_required_labels():
    rules = Policy(preset="none", presets=("redhat",))
    ec = [item["name"] for item in RULE_DATA["required_labels"]]
    ec_optional = [item["name"] for item in RULE_DATA["optional_labels"]]
    # preflight's HasRequiredLabel list (has_required_labels.go, `requiredLabels`)
    preflight = ["name", "vendor", "version", "release", "summary", "description", "maintainer"]
    assert set(rules.required_keys()) == set(ec) | set(preflight)
    assert set(ec_optional) <= set(preflight)  # EC's optional labels are preflight's required
    for item in RULE_DATA["required_labels"]:
        since = item.get("effective_on")
        rule = rules.rules[item["name"]]
        assert (rule.effective_on.isoformat() if rule.effective_on else None) == (
            since[:10] if since else None
        ), item["name"]
        assert rule.description and rule.description.split(";")[0].strip() in " ".join(
            item["description"].split()
        )


def test_redhat_deprecates_what_ec_deprecates_with_its_replacement_as_an_error():
    rules = Policy(preset="none", presets=("redhat",))
    for item in RULE_DATA["deprecated_labels"]:
        rule = rules.rules[item["name"]]
        assert rule.deprecated == f'replace with "{item["replacement"]}"'
        assert rule.severity is Severity.ERROR  # EC's deprecated_labels rule is a `deny`
    deprecated = {k for k, r in rules.rules.items() if r.deprecated is not None}
    assert deprecated == {item["name"] for item in RULE_DATA["deprecated_labels"]}


def test_the_trademark_table_has_cases():
    assert len(TRADEMARK_CASES) == 10


@pytest.mark.parametrize("name", ["redhat", "preflight"])
@pytest.mark.parametrize(("text", "violates"), TRADEMARK_CASES)
def test_trademark_rule_agrees_with_preflight(name, text, violates):
    value = text.encode().decode("unicode_escape")
    rules = Policy(preset="none", presets=(name,))
    for key in ("name", "vendor", "maintainer"):
        pattern = rules.rules[key].pattern
        assert pattern is not None
        assert (regex.fullmatch(pattern, value) is None) is (violates == "true"), (key, value)


def test_preflight_layer_limit_is_forty():
    assert Policy(preset="none", presets=("preflight",)).limits["max_layers"].limit == 40


def test_a_preset_rule_without_a_line_points_nowhere():
    finding = next(
        f
        for f in _findings(Policy(preset="none", presets=("ghcr",)), {})
        if f.label == OCI + "source"
    )
    assert finding.line is None
    assert "(Links the package to its repository on GitHub.)" in finding.message


def test_a_wrong_preset_file_would_be_refused():
    with pytest.raises(PolicyError, match="is not a preset"):
        validate({"version": 1, "preset": "nope"}, {("preset",): 2}, "p.yml")


# --- a real Red Hat Dockerfile, linted with `preset: redhat` ------------------------------------

BUNDLE = DATA / "cli-manager-operator-bundle.Dockerfile"


@pytest.mark.parametrize(
    ("day", "pending"),
    [("2026-06-06", "warning"), ("2026-06-07", "error")],
)
def test_a_real_red_hat_dockerfile_under_the_redhat_preset(mbci, tmp_path, day, pending):
    rules = tmp_path / "policy.yml"
    rules.write_text("version: 1\npreset: redhat\n")
    result = mbci(
        "lint-dockerfile", str(BUNDLE), "--policy", str(rules), "--format", "json", "--date", day
    )
    assert result.returncode == 1, result.stderr
    found = sorted(
        (f["check"], f["label"], f["severity"]) for f in json.loads(result.stdout)["findings"]
    )
    assert found == [
        # preflight's HasNoProhibitedLabels: Red Hat's own vendor and maintainer are a partner's
        # trademark violation (EC instead pins vendor to 'Red Hat, Inc.', see redhat.yaml)
        ("label-pattern", "maintainer", "error"),
        ("label-pattern", "vendor", "error"),
        # EC's required_labels the Dockerfile does not set (Konflux's build task adds vcs-ref
        # and vcs-type at build time); cpe and created are required from 2026-06-07
        ("label-required", "cpe", pending),
        ("label-required", "org.opencontainers.image.created", pending),
        ("label-required", "vcs-ref", "error"),
        ("label-required", "vcs-type", "error"),
    ]


def test_ghcr_what_githubs_package_page_reads():
    rules = Policy(preset="none", presets=("ghcr",))
    good = {
        OCI + "source": "https://github.com/acme/widget",
        OCI + "description": "d" * 512,
        OCI + "licenses": "Apache-2.0 OR MIT",
    }
    assert _findings(rules, good) == ()
    bad = {**good, OCI + "description": "d" * 513, OCI + "licenses": "my own licence"}
    found = sorted((f.check, f.label) for f in _findings(rules, bad))
    assert found == [
        ("label-format", OCI + "licenses"),
        ("label-pattern", OCI + "description"),
    ]


GHCR_KEYS = tuple(OCI + k for k in ("description", "source", "licenses"))


def test_ghcr_asks_for_the_index_annotations_the_package_page_reads():
    """The labels alone leave a multi-platform image's package page blank: the preset hands
    the three keys to annotation-parity, on the index."""
    rules = Policy(preset="none", presets=("ghcr",))
    assert rules.annotation_rules.required == GHCR_KEYS and rules.annotation_rules.level == "index"
    labels = {
        OCI + "source": "https://github.com/acme/widget",
        OCI + "description": "A widget",
        OCI + "licenses": "MIT",
    }
    pushed = image(labels, transport="docker")
    missing = sorted(f.label for f in check_image(pushed, None, None, rules).findings)
    assert missing == sorted(GHCR_KEYS)
    shown = image(labels, transport="docker", index_annotations=labels)
    assert [f for f in check_image(shown, None, None, rules).findings] == []
    # the policy's own level wins; its own keys add to the preset's
    own = policy(
        "preset: [ghcr]\nannotation-keys:\n  required: [org.opencontainers.image.title]\n"
        "  level: either\n"
    )
    assert own.annotation_rules.required == (*GHCR_KEYS, OCI + "title")
    assert own.annotation_rules.level == "either"


def test_redhat_forbids_inheriting_what_ec_disallows():
    """The list is EC's own rule data (tests/data/redhat), not our reading of it."""
    ec = [item["name"] for item in RULE_DATA["disallowed_inherited_labels"]]
    rules = Policy(preset="none", presets=("redhat",))
    assert rules.inherited_rules.forbid == tuple(ec)
    mine = policy("preset: redhat\ninherited:\n  forbid: [com.example.team]\n")
    assert mine.inherited_rules.forbid == (*ec, "com.example.team")
