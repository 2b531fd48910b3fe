"""JUnit XML for GitLab's test report widget and Jenkins' junit step: one testcase per check
per platform, a ``<failure>`` for each error-level finding (warnings too under ``--strict``).

The document is valid against the JUnit XSD of Apache Ant's format (windyroad/JUnit-Schema,
which Jenkins and GitLab read): each ``testsuite`` has ``package``, ``id``, ``timestamp`` (UTC,
no zone), ``hostname`` and ``time``, then ``properties``, its test cases, ``system-out`` and
``system-err``; a test case carries ``name``, ``classname`` and ``time`` and nothing else, so
the file and line of a finding are in its failure text, and findings that do not fail a test
case are in the suite's ``system-out``.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections import defaultdict

from mb_ci.catalog import CHECKS
from mb_ci.models import Finding, Report, Severity
from mb_ci.report import RenderOptions
from mb_ci.report.locations import place
from mb_ci.report.tiers import label_tiers
from mb_ci.safety import safe

ALL_PLATFORMS = "all platforms"
PACKAGE = "mb-ci"
ZERO_TIME = "0"  # the checks are not timed one by one


def _fails(finding: Finding, options: RenderOptions) -> bool:
    return finding.severity is Severity.ERROR or (
        options.strict and finding.severity is Severity.WARNING
    )


def _describe(finding: Finding, report: Report) -> str:
    # safe() escapes every control character, which also keeps the XML 1.0 well-formed
    lines = [f"[{finding.severity.value}] {safe(finding.message)}"]
    if finding.label:
        lines.append(f"label:    {safe(finding.label)}")
    if finding.expected is not None:
        lines.append(f"expected: {safe(finding.expected)}")
    if finding.actual is not None:
        lines.append(f"actual:   {safe(finding.actual)}")
    path, line = place(finding, report)
    if path:
        lines.append(f"at:       {safe(path, 300)}" + (f":{line}" if line else ""))
    return "\n".join(lines)


def _suites(report: Report) -> dict[str, list[Finding]]:
    """Platform name -> its findings, in the image's platform order."""
    image = report.image
    names = [p.name for p in image.platforms] if image and image.platforms else ["default"]
    suites: dict[str, list[Finding]] = {name: [] for name in names}
    multi = image is not None and image.multi_platform
    for finding in report.findings:
        if not multi:
            suites[names[0]].append(finding)
        else:
            suites.setdefault(finding.platform or ALL_PLATFORMS, []).append(finding)
    return suites


def timestamp(options: RenderOptions) -> str:
    """``xs:dateTime`` without a zone, as the XSD's pattern asks: UTC."""
    now = options.now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is not None:
        now = now.astimezone(dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S")


def hostname(options: RenderOptions) -> str:
    """A host name as an ``xs:token``; the XSD says ``localhost`` when it is not known."""
    name = " ".join(safe(options.hostname or "", 255).split())
    return name or "localhost"


def _testsuite(
    root: ET.Element,
    index: int,
    name: str,
    findings: list[Finding],
    report: Report,
    options: RenderOptions,
) -> None:
    by_check: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_check[finding.check].append(finding)
    checks = list(report.checked) if name != ALL_PLATFORMS else []
    checks += [c for c in by_check if c not in checks]
    suite = ET.SubElement(
        root,
        "testsuite",
        name=f"mb-ci {report.command} {safe(report.subject)} [{safe(name)}]",
        package=PACKAGE,
        id=str(index),
        timestamp=timestamp(options),
        hostname=hostname(options),
    )
    props = ET.SubElement(suite, "properties")
    platforms = report.image.platforms if report.image is not None else ()
    platform = next((p for p in platforms if p.name == name), None)
    # the trust tier of each label (mb_ci/provenance), once provenance was judged
    for key, tier in sorted((label_tiers(platform) or {}).items() if platform else ()):
        ET.SubElement(props, "property", name=f"tier:{safe(key)}", value=tier)
    failures = 0
    passing: list[str] = []
    for check in checks:
        case = ET.SubElement(
            suite, "testcase", name=check, classname=f"mb-ci.{safe(name)}", time=ZERO_TIME
        )
        found = by_check.get(check, [])
        failing = [f for f in found if _fails(f, options)]
        if failing:
            failures += 1
            first = failing[0]
            message = (f"{safe(first.label)}: " if first.label else "") + safe(first.message)
            failure = ET.SubElement(case, "failure", message=message, type=check)
            info = CHECKS.get(check)
            body = "\n\n".join(_describe(f, report) for f in failing)
            failure.text = body + (f"\n\n{info.help}" if info else "")
        passing += [f"{check}: {_describe(f, report)}" for f in found if not _fails(f, options)]
    ET.SubElement(suite, "system-out").text = "\n\n".join(passing) or None
    ET.SubElement(suite, "system-err")
    suite.set("tests", str(len(checks)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    suite.set("time", ZERO_TIME)


def render(report: Report, options: RenderOptions) -> str:
    root = ET.Element("testsuites")
    for index, (name, findings) in enumerate(_suites(report).items()):
        _testsuite(root, index, name, findings, report, options)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
