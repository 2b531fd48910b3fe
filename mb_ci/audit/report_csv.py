"""The audit as CSV: one row per image, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from mb_ci.audit.model import AuditResult, AuditRow
from mb_ci.report import RenderOptions
from mb_ci.safety import safe

COLUMNS = (
    "container",
    "reference",
    "verdict",
    "image_id",
    "digest",
    "revision",
    "source",
    "version",
    "created",
    "errors",
    "warnings",
    "dangling",
    "no_origin",
    "failed_checks",
    "error",
)


def cell(value: object) -> str:
    """A value made printable and redacted, never read as a formula by a spreadsheet.

    https://owasp.org/www-community/attacks/CSV_Injection
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = safe(str(value), None)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _values(row: AuditRow) -> list[object]:
    failed = sorted({f.check for f in row.findings if f.severity.value in ("error", "warning")})
    return [
        row.container,
        row.reference,
        row.verdict,
        row.image_id,
        row.digest,
        *(row.concepts.get(c) for c in ("revision", "source", "version", "created")),
        row.errors,
        row.warnings,
        row.dangling,
        row.no_origin,
        ";".join(failed),
        row.error,
    ]


def render(result: AuditResult, options: RenderOptions) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in result.rows:
        writer.writerow([cell(v) for v in _values(row)])
    return buf.getvalue()
