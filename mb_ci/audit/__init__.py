"""The fleet audit: targets, rows, filters, merged shards, and its reports.

Only the table of formats is here (``Reporter`` entries, as ``mb_ci.report.REPORTERS``), and
it imports its reporters on first use, so that `import mb_ci.audit.model` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mb_ci.report import RenderOptions, Reporter

if TYPE_CHECKING:
    from mb_ci.audit.model import AuditResult


def _text(result: AuditResult, options: RenderOptions) -> str:
    from mb_ci.audit import report_text

    return report_text.render(result, options)


def _json(result: AuditResult, options: RenderOptions) -> str:
    from mb_ci.audit import report_json

    return report_json.render(result, options)


def _csv(result: AuditResult, options: RenderOptions) -> str:
    from mb_ci.audit import report_csv

    return report_csv.render(result, options)


def _jsonl(result: AuditResult, options: RenderOptions) -> str:
    from mb_ci.audit import report_jsonl

    return report_jsonl.render(result, options)


def _html(result: AuditResult, options: RenderOptions) -> str:
    from mb_ci.audit import report_html

    return report_html.render(result, options)


def _markdown(result: AuditResult, options: RenderOptions) -> str:
    from mb_ci.audit import report_markdown

    return report_markdown.render(result, options)


FORMATS: dict[str, Reporter[AuditResult]] = {
    f.name: f
    for f in (
        Reporter("text", _text, "a table for people (default)"),
        Reporter("json", _json, "the mb-ci/audit envelope (what --merge reads)"),
        Reporter("csv", _csv, "one row per image"),
        Reporter("jsonl", _jsonl, "one JSON object per image, streamed as judged, then a summary"),
        Reporter("html", _html, "one self-contained page: summary, badges, a filterable table"),
        Reporter("markdown", _markdown, "headline numbers and the failing rows (job summary)"),
    )
}
