"""GitHub Actions annotations: ``::error``/``::warning``/``::notice`` workflow commands.

Every value is escaped the way the runner unescapes it (actions/toolkit ``command.ts``): the
message escapes ``%``, CR and LF; properties also ``:`` and ``,``. A label value therefore cannot
end the line and start a workflow command of its own. GitHub shows at most 10 annotations of
each type per step, so beyond that the tenth says how many more there are, over all the
Dockerfiles one ``lint-dockerfile`` run reports on.
"""

from __future__ import annotations

from collections.abc import Mapping

from mb_ci.models import Finding, Report, Severity
from mb_ci.report import RenderOptions
from mb_ci.report.locations import place
from mb_ci.safety import safe

ANNOTATION_LIMIT = 10
_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: Mapping[str, str | int | None], message: str) -> str:
    """One workflow command line, e.g. ``::error file=Dockerfile,line=3,title=x::message``."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None and value != ""
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _message(finding: Finding) -> str:
    parts = [f"{safe(finding.label)}: " if finding.label else "", safe(finding.message)]
    text = "".join(parts)
    if finding.expected is not None:
        text += f"\nexpected: {safe(finding.expected)}"
    if finding.actual is not None:
        text += f"\nactual:   {safe(finding.actual)}"
    return text


def annotation(finding: Finding, report: Report) -> str:
    title = f"mb-ci {finding.check}"
    if finding.platform:
        title += f" ({safe(finding.platform, 60)})"
    path, line = place(finding, report)
    return command(
        _COMMAND[finding.severity],
        {"file": path, "line": line, "title": title},
        _message(finding),
    )


def annotation_lines(report: Report) -> list[str]:
    return _annotations([report])


def _annotations(reports: list[Report]) -> list[str]:
    """At most ``ANNOTATION_LIMIT`` lines of each type over all ``reports`` (one step)."""
    lines: list[str] = []
    for severity, name in _COMMAND.items():
        found = [(f, r) for r in reports for f in r.findings if f.severity is severity]
        over = len(found) > ANNOTATION_LIMIT
        for finding, report in found[: ANNOTATION_LIMIT - 1] if over else found:
            lines.append(annotation(finding, report))
        if over:
            more = len(found) - (ANNOTATION_LIMIT - 1)
            lines.append(
                command(
                    name,
                    {"title": f"mb-ci: {more} more {severity.value} findings"},
                    f"GitHub shows {ANNOTATION_LIMIT} annotations of a type per step; "
                    f"{more} more {severity.value}-level findings are in the job summary and "
                    "the report files.",
                )
            )
    return lines


def render(report: Report, options: RenderOptions) -> str:
    return render_many([report], options)


def render_many(reports: list[Report], options: RenderOptions) -> str:
    """Several reports of one step (``lint-dockerfile A B``): the cap holds over all of them."""
    return "\n".join([*_annotations(reports), *(_summary(r, options) for r in reports)]) + "\n"


def _summary(report: Report, options: RenderOptions) -> str:
    e, w = report.errors, report.warnings
    verdict = "passed" if report.passed(options.strict) else "FAILED"
    matched = (
        f", revision matched the {report.matched_commit} commit" if report.matched_commit else ""
    )
    return (
        f"mb-ci {report.command} {safe(report.subject)}: {verdict}: "
        f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}{matched}"
    )
