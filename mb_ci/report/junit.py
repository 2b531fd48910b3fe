"""JUnit XML for GitLab's test report widget and Jenkins' junit step: one testcase per check
per platform, a ``<failure>`` for each error-level finding (warnings too under ``--strict``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from mb_ci.catalog import CHECKS
from mb_ci.models import Finding, Report, Severity
from mb_ci.report import RenderOptions
from mb_ci.safety import safe

ALL_PLATFORMS = "all platforms"


def _fails(finding: Finding, options: RenderOptions) -> bool:
    return finding.severity is Severity.ERROR or (
        options.strict and finding.severity is Severity.WARNING
    )


def _describe(finding: Finding) -> str:
    # safe() escapes every control character, which also keeps the XML 1.0 well-formed
    lines = [f"[{finding.severity.value}] {safe(finding.message)}"]
    if finding.label:
        lines.append(f"label:    {safe(finding.label)}")
    if finding.expected is not None:
        lines.append(f"expected: {safe(finding.expected)}")
    if finding.actual is not None:
        lines.append(f"actual:   {safe(finding.actual)}")
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


def _testsuite(
    root: ET.Element, name: str, findings: list[Finding], report: Report, options: RenderOptions
) -> None:
    by_check: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_check[finding.check].append(finding)
    checks = list(report.checked) if name != ALL_PLATFORMS else []
    checks += [c for c in by_check if c not in checks]
    suite = ET.SubElement(
        root, "testsuite", name=f"mb-ci {report.command} {safe(report.subject)} [{safe(name)}]"
    )
    failures = 0
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname=f"mb-ci.{safe(name)}", name=check)
        if report.dockerfile:
            case.set("file", report.dockerfile)
        found = by_check.get(check, [])
        failing = [f for f in found if _fails(f, options)]
        if failing:
            failures += 1
            first = failing[0]
            message = (f"{safe(first.label)}: " if first.label else "") + safe(first.message)
            failure = ET.SubElement(case, "failure", message=message, type=check)
            info = CHECKS.get(check)
            body = "\n\n".join(_describe(f) for f in failing)
            failure.text = body + (f"\n\n{info.help}" if info else "")
        others = [f for f in found if not _fails(f, options)]
        if others:
            ET.SubElement(case, "system-out").text = "\n\n".join(_describe(f) for f in others)
    suite.set("tests", str(len(checks)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")


def render(report: Report, options: RenderOptions) -> str:
    root = ET.Element("testsuites", name="mb-ci")
    for name, findings in _suites(report).items():
        _testsuite(root, name, findings, report, options)
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in root)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in root)))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
