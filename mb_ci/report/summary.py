"""The Markdown job summary the Action appends to ``$GITHUB_STEP_SUMMARY``.

Label values are hostile: every Markdown or HTML metacharacter in them becomes a numeric
character reference, so a value cannot open a link, an image, a table cell, raw HTML, or
mention a user. Code spans are kept for trusted text only, since references are not decoded
inside them.
"""

from __future__ import annotations

from mb_ci.models import Report
from mb_ci.report import RenderOptions
from mb_ci.safety import safe

MAX_ROWS = 200
_SPECIAL = set("\\`*_{}[]()#+-.!|<>&~\"'@:=$")


def md(value: str | None, limit: int | None = 300) -> str:
    """A hostile value as inert Markdown text: redacted, controls escaped, specials as ``&#N;``."""
    text = safe(value, limit)
    return "".join(f"&#{ord(ch)};" if ch in _SPECIAL else ch for ch in text)


def render(report: Report, options: RenderOptions) -> str:
    passed = report.passed(options.strict)
    e, w = report.errors, report.warnings
    verdict = "✅ passed" if passed else "❌ failed"
    out = [f"### mb-ci {report.command}: {verdict}", ""]
    out += ["| | |", "|---|---|", f"| image | {md(report.subject)} |"]
    image = report.image
    if image is not None and (image.digest or image.image_id):
        out.append(f"| digest | {md(image.digest or image.image_id)} |")
    if image is not None and image.multi_platform:
        out.append(f"| platforms | {md(', '.join(p.name for p in image.platforms))} |")
    if report.git is not None:
        out.append(f"| commit | {report.git.head[:12]} |")
    if report.matched_commit:
        out.append(f"| matched | the {report.matched_commit} commit |")
    out.append(f"| findings | {e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)} |")
    out.append("")
    if report.findings:
        out += ["| severity | check | label | platform | finding |", "|---|---|---|---|---|"]
        for finding in report.findings[:MAX_ROWS]:
            text = md(finding.message)
            if finding.expected is not None:
                text += f"<br>expected: {md(finding.expected)}"
            if finding.actual is not None:
                text += f"<br>actual: {md(finding.actual)}"
            out.append(
                f"| {finding.severity.value} | `{finding.check}` | {md(finding.label, 120)} "
                f"| {md(finding.platform, 60)} | {text} |"
            )
        if len(report.findings) > MAX_ROWS:
            out += [
                "",
                f"… and {len(report.findings) - MAX_ROWS} more findings in the report files.",
            ]
        out.append("")
    return "\n".join(out) + "\n"
