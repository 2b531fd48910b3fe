"""The typed registries: reporters, audit formats, transports and check ids, each one table."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import get_type_hints

import pytest
import yaml

from mb_ci import report as reporting
from mb_ci import sources
from mb_ci.audit import FORMATS
from mb_ci.catalog import CHECKS, UnknownCheck
from mb_ci.checks.base import Findings
from mb_ci.cli import build_parser
from mb_ci.models import ImageFacts
from mb_ci.policy import Policy
from mb_ci.sources.options import SourceOptions

ROOT = Path(__file__).resolve().parents[2]


def _help(command: str, option: str) -> str:
    parser = build_parser(only=command)
    sub = next(a for a in parser._actions if a.dest == "command")
    cmd = sub.choices[command]  # type: ignore[attr-defined]
    return next(a.help for a in cmd._actions if option in a.option_strings)


@pytest.mark.parametrize("command", ["check", "build", "lint-dockerfile"])
def test_every_reporter_is_in_the_format_help(command):
    text = _help(command, "--format")
    for name in reporting.REPORTERS:
        assert re.search(rf"\b{name}\b", text), f"{name} missing from {command} --format help"
    assert "auto" in text


def test_every_reporter_is_in_action_yml_and_no_other():
    spec = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    listed = spec["inputs"]["reports"]["description"].split("Formats:", 1)[1]
    names = [n.strip(" .") for n in listed.split(",")]
    assert names == list(reporting.REPORTERS)


def test_every_reporter_and_audit_format_renders_through_its_entry():
    for name, reporter in reporting.REPORTERS.items():
        assert reporter.name == name and reporter.help
        assert isinstance(reporter.render(_report(), reporting.RenderOptions()), str)
    assert list(FORMATS) == ["text", "json", "csv", "jsonl", "html", "markdown"]
    assert all(f.name == n and f.help for n, f in FORMATS.items())
    from mb_ci.audit.model import AuditResult, AuditRow, Summary

    rows = (AuditRow("docker://r.example/a:1", "unreadable", error="gone"),)
    for f in FORMATS.values():
        assert f.render(AuditResult(rows, Summary.of(rows)), reporting.RenderOptions())


def test_an_unknown_format_is_a_usage_error():
    from mb_ci.errors import UsageError

    with pytest.raises(UsageError, match="unknown format 'sarf'"):
        reporting.resolve("sarf")


@pytest.mark.parametrize("name", sorted(sources.TRANSPORTS))
def test_every_transport_has_the_one_signature(name):
    transport = sources.TRANSPORTS[name]
    params = list(inspect.signature(transport).parameters)
    assert params == ["reference", "options"]
    hints = get_type_hints(transport, vars(sources))
    assert hints == {"reference": str, "options": SourceOptions, "return": ImageFacts}


def test_every_reference_prefix_names_a_transport():
    for ref in (
        "docker://r/x",
        "docker-daemon:x",
        "docker-archive:a.tar",
        "oci:d",
        "oci-archive:a",
    ):
        assert sources.split_reference(ref)[0] in sources.TRANSPORTS
    assert sources.split_reference("busybox")[0] == "docker-daemon"


def test_an_unknown_check_id_raises_where_it_is_emitted():
    out = Findings(Policy())
    with pytest.raises(UnknownCheck, match="revison-matches-head"):
        out.add("revison-matches-head", "misspelled")
    with pytest.raises(UnknownCheck):
        out.ran("no-such-check")
    out.add("revision-matches-head", "known")
    assert [f.check for f in out.items] == ["revision-matches-head"]


def test_an_unknown_check_id_never_gets_a_severity():
    with pytest.raises(UnknownCheck):
        Policy().severity("no-such-check")
    with pytest.raises(UnknownCheck):
        Policy(severities={"no-such-check": CHECKS["label-required"].severity})


def test_a_misspelled_check_id_in_a_policy_is_a_policy_error(tmp_path):
    from mb_ci.errors import EXIT_USAGE, PolicyError
    from mb_ci.policy import load

    path = tmp_path / ".mb-ci.yml"
    path.write_text("version: 1\nchecks:\n  revison-matches-head: warning\n")
    with pytest.raises(PolicyError, match="did you mean 'revision-matches-head'") as caught:
        load(path)
    assert caught.value.exit_code == EXIT_USAGE


def _report():
    from mb_ci.models import Report

    return Report("check", "x", ())
