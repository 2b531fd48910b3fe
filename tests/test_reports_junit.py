"""JUnit XML valid against the JUnit XSD Jenkins and GitLab follow (windyroad/JUnit-Schema,
kept in tests/data/junit with its origin in SOURCES.md), not only readable by one parser."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_reporters_ci import WARN, mismatch, missing, report

from mb_ci.models import Finding, Severity
from mb_ci.report import RenderOptions, render

XSD = Path(__file__).parent / "data" / "junit" / "JUnit.xsd"
HOSTILE = "k\x00\x1b[31m]]></failure><x a='1'>&amp;\u2028"


@pytest.fixture(scope="module")
def schema():
    import xmlschema

    return xmlschema.XMLSchema(str(XSD))


CASES = {
    "clean": ((), (None,)),
    "findings": ((mismatch(), missing(), WARN), (None,)),
    "multi-platform": (
        (mismatch(platform="linux/arm64"), WARN, mismatch(line=None)),
        ("linux/amd64", "linux/arm64"),
    ),
    "hostile": ((mismatch(label=HOSTILE), Finding("x", Severity.INFO, HOSTILE)), (None,)),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("strict", [False, True])
def test_valid_against_the_xsd(schema, name, strict):
    findings, platforms = CASES[name]
    options = RenderOptions(
        strict=strict,
        now=dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        hostname="runner\n01 ",
    )
    text = render(report(findings, platforms=platforms), "junit", options)
    errors = list(schema.iter_errors(text))
    assert not errors, errors[0]
    for suite in ET.fromstring(text.encode()).iter("testsuite"):
        # the XSD's timestamp has no zone: UTC
        assert suite.get("timestamp") == "2024-05-01T12:00:00"
        assert suite.get("hostname") == "runner\\n01"
        assert suite.get("time") == "0"


def test_the_xsd_rejects_what_the_old_output_had(schema):
    """The validation can fail: a testcase ``file`` attribute is not in the XSD."""
    text = render(report((mismatch(),)), "junit", RenderOptions())
    assert schema.is_valid(text)
    assert not schema.is_valid(text.replace("<testcase ", '<testcase file="Dockerfile" ', 1))


def test_unknown_host_is_localhost(schema):
    text = render(report(()), "junit", RenderOptions(hostname=" "))
    assert ET.fromstring(text.encode()).find("testsuite").get("hostname") == "localhost"


def test_cli_report_is_valid(schema, repo, build_image, mbci, tmp_path):
    tag = build_image({"org.opencontainers.image.revision": "0" * 40})
    out = tmp_path / "junit.xml"
    result = mbci("check", tag, f"--report=junit={out}", cwd=repo.path)
    assert result.returncode == 1, result.stderr
    assert not list(schema.iter_errors(str(out)))
    suite = ET.parse(out).getroot().find("testsuite")
    stamp = dt.datetime.fromisoformat(suite.get("timestamp")).replace(tzinfo=dt.timezone.utc)
    assert abs(dt.datetime.now(dt.timezone.utc) - stamp) < dt.timedelta(days=1)
    assert suite.get("hostname")
