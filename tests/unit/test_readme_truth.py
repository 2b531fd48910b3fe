"""README.md stays true: options, check ids, policy keys, Action inputs and outputs, links."""

from __future__ import annotations

import argparse
import json
import os
import re

import pytest
import yaml
from helpers.paths import ROOT

from mb_ci.catalog import CHECKS
from mb_ci.cli import build_parser

README = (ROOT / "README.md").read_text(encoding="utf-8")

# Long options the README may leave out, each with the reason. Keep it empty if you can.
OPTION_EXCEPTIONS: dict[str, str] = {
    "--help": "argparse's own; every command has it",
}


def _mask_fences(text: str) -> str:
    """``text`` with fenced code blocks blanked (same length): ``# comments`` are no headings."""
    fence = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
    return fence.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


MASKED = _mask_fences(README)


def _section(title: str) -> str:
    """The README section headed ``title``, up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(title)}\s*$", MASKED, re.MULTILINE)
    assert match, f"README has no section '{title}'"
    level = len(match.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(MASKED, match.end())
    return README[match.end() : end.start() if end else len(README)]


def _subparsers(parser: argparse.ArgumentParser, prefix: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub
                yield from _subparsers(sub, f"{prefix}{name} ")


def _long_options() -> list[tuple[str, str]]:
    out = []
    for command, sub in _subparsers(build_parser()):
        for action in sub._actions:
            out.extend((command, o) for o in action.option_strings if o.startswith("--"))
    return out


LONG_OPTIONS = _long_options()


def test_the_parser_walk_finds_every_command():
    commands = {c for c, _ in LONG_OPTIONS}
    assert {"check", "labels", "audit", "badges", "build", "lint-dockerfile"} <= commands
    assert "policy validate" in commands


@pytest.mark.parametrize(("command", "option"), LONG_OPTIONS)
def test_every_long_option_is_documented(command, option):
    if option in OPTION_EXCEPTIONS:
        return
    assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", README), (
        f"mb-ci {command} {option} is not mentioned in README.md"
    )


def _checks_table() -> dict[str, str]:
    rows = {}
    for line in _section("Checks").splitlines():
        match = re.match(r"\|\s*`([a-z0-9-]+)`\s*\|\s*(\w+)\s*\|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_every_check_is_in_the_checks_table_with_its_default_severity(check_id):
    table = _checks_table()
    assert check_id in table, f"{check_id} is missing from README's checks table"
    default = CHECKS[check_id].severity.value
    assert table[check_id] == default, f"{check_id}: README says {table[check_id]}, code {default}"


def test_the_checks_table_names_no_unknown_check():
    assert set(_checks_table()) <= set(CHECKS)


def _schema_keys() -> list[str]:
    schema = json.loads((ROOT / "schemas" / "policy.schema.json").read_text(encoding="utf-8"))
    keys = list(schema["properties"])
    keys += list(schema["$defs"]["rule"]["properties"])
    for name in ("git", "badges"):
        for key, sub in schema["$defs"][name]["properties"].items():
            keys.append(key)
            keys.extend(sub.get("properties", {}))
    return sorted(set(keys))


@pytest.mark.parametrize("key", _schema_keys())
def test_every_policy_key_is_in_the_policy_reference(key):
    reference = _section("Policy reference")
    assert re.search(rf"(^|[\s`{{])({re.escape(key)}):", reference, re.MULTILINE), (
        f"policy key '{key}' is not in README's policy reference"
    )


def _action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(_action()["inputs"]))
def test_every_action_input_is_documented(name):
    assert re.search(rf"^\| `{re.escape(name)}` \|", README, re.MULTILINE), (
        f"Action input '{name}' has no row in README"
    )


@pytest.mark.parametrize("name", sorted(_action()["outputs"]))
def test_every_action_output_is_documented(name):
    assert re.search(rf"^\| `{re.escape(name)}` \|", README, re.MULTILINE), (
        f"Action output '{name}' has no row in README"
    )


def test_documented_exit_codes_are_the_real_ones():
    from mb_ci import errors

    rows = dict(re.findall(r"^\| (\d) \| (.+?) \|$", _section("Exit codes"), re.MULTILINE))
    assert sorted(rows) == ["0", "1", "2", "3", "4"]
    real = {
        errors.EXIT_OK: "passed",
        errors.EXIT_FINDINGS: "findings",
        errors.EXIT_USAGE: "usage",
        errors.EXIT_INSPECT: "could not inspect",
        errors.EXIT_INTERNAL: "internal",
    }
    for code, word in real.items():
        assert word in rows[str(code)], f"exit code {code} should read '{word}'"


@pytest.mark.parametrize("script", ["demo", "test"])
def test_setup_commands_are_documented_and_runnable(script):
    assert f"bash scripts/{script}\n" in README
    path = ROOT / "scripts" / script
    assert path.is_file(), path
    assert os.access(path, os.X_OK), f"{path} is not executable"


def test_required_sections_exist():
    for title in ("Usage", "Policy reference", "Output formats", "Exit codes", "Troubleshooting"):
        _section(title)


# links outside code: inline code such as `](javascript:alert(1))` is not a link
LINKS = re.findall(r"\]\(([^)\s]+)\)", re.sub(r"`[^`\n]*`", "", MASKED))


def _slug(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def test_relative_links_point_at_files():
    relative = [link for link in LINKS if not re.match(r"[a-z]+:|#", link)]
    assert relative, "expected relative links in README"
    missing = [link for link in relative if not (ROOT / link.split("#")[0]).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_anchor_links_match_headings():
    headings = re.findall(r"^#+ (.+?)\s*$", MASKED, re.MULTILINE)
    slugs = {_slug(h) for h in headings}
    anchors = [link[1:] for link in LINKS if link.startswith("#")]
    assert anchors, "expected in-page links in README"
    broken = [a for a in anchors if a not in slugs]
    assert not broken, f"README anchors without a heading: {broken}"


def test_slug_rules():
    assert _slug("Fleet audit: `mb-ci audit`") == "fleet-audit-mb-ci-audit"
    assert _slug("Images without an engine: registries, archives, platforms") == (
        "images-without-an-engine-registries-archives-platforms"
    )
