"""JUnit XML valid against the JUnit XSD Jenkins and GitLab follow (windyroad/JUnit-Schema,
kept in tests/data/junit with its origin in SOURCES.md), not only readable by one parser."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from helpers.schemas import junit_schema
from test_reporters_ci import WARN, mismatch, missing, report

from mb_ci.models import Finding, Severity
from mb_ci.report import RenderOptions, render

HOSTILE = "k\x00\x1b[31m]]></failure><x a='1'>&amp;\u2028"


@pytest.fixture(scope="module")
def schema():
    return junit_schema()


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
