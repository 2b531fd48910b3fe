"""The audit as JSON Lines: one image a line, then the envelope's head (without ``images``).

Each line is written as soon as its image is judged (``mb_ci.output.stream_audit``), so a
consumer can start on the first rows, and mb-ci need not hold every row of a large audit.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from mb_ci.audit.model import AuditResult, AuditRow, Summary, exit_code, row_dict
from mb_ci.audit.report_json import envelope
from mb_ci.report import RenderOptions


def line(data: Any) -> str:
    """One compact JSON object on one line; non-ASCII as ``\\uXXXX``, so no character of a
    label value (U+2028, a newline) can split the line."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")) + "\n"


def image_line(row: AuditRow) -> str:
    return line(row_dict(row))


def last_line(result: AuditResult, shown: Summary) -> str:
    """The ``mb-ci/audit`` envelope without ``images``; ``result`` and ``summary.shown`` come
    from ``shown``, the counts of the image lines (``result.rows`` is not read)."""
    head = envelope(replace(result, rows=()))
    del head["images"]
    head["result"] = "pass" if exit_code(shown) == 0 else "fail"
    head["summary"]["shown"] = shown.audited
    return line(head)


def render(result: AuditResult, options: RenderOptions) -> str:
    rows = "".join(image_line(r) for r in result.rows)
    return rows + last_line(result, Summary.of(result.rows))
