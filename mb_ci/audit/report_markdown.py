"""The audit in Markdown (``--format markdown``): headline numbers and the rows that did not
pass, for a GitHub job summary (``$GITHUB_STEP_SUMMARY``) or a pull-request comment.

GitHub refuses a step's summary above 1 MiB; the text stops at ``LIMIT`` (well below, so the
note and anything else the step appends still fit) and says how many rows were left out.
Every value goes through :func:`mb_ci.report.summary.md`, so a label cannot open a link, an
image, raw HTML or a table cell.
"""

from __future__ import annotations

from mb_ci.audit.model import AuditResult, AuditRow
from mb_ci.report import RenderOptions
from mb_ci.report.summary import md

LIMIT = 900 * 1024  # bytes of UTF-8; GitHub's limit is 1 MiB per step


def _row(row: AuditRow, kube: bool) -> str:
    who = row.container or row.reference
    where = md(row.kubernetes.get("workload"), 80) if kube else ""
    revision = md((row.concepts.get("revision") or "")[:12], 12)
    if row.error:
        why = "could not inspect: " + md(row.error, 200)
    else:
        why = ", ".join(
            sorted({f"`{f.check}`" for f in row.findings if f.severity.value != "info"})
        )
    cells = ([where] if kube else []) + [md(who, 120), revision, row.verdict, why]
    return "| " + " | ".join(cells) + " |"


def render(result: AuditResult, options: RenderOptions) -> str:
    s = result.summary
    kube = any(r.kubernetes for r in result.rows)
    code = result.exit_code()
    verdict = {0: "✅ passed", 1: "❌ failed"}.get(code, "⚠️ some images could not be read")
    commits = {r.concepts.get("revision") for r in result.rows if r.concepts.get("revision")}
    lines = [
        f"### mb-ci audit: {verdict}",
        "",
        "| audited | shown | passed | failed | unreadable | commits | without origin |",
        "|---|---|---|---|---|---|---|",
        f"| {s.audited} | {len(result.rows)} | {s.passed} | {s.failed} | {s.unreadable} "
        f"| {len(commits)} | {s.no_origin} |",
        "",
    ]
    if result.filters:
        lines += ["Filters: " + ", ".join(md(f, 200) for f in result.filters), ""]
    failing = [r for r in result.rows if r.verdict != "pass"]
    if failing:
        head = (["workload"] if kube else []) + ["container" if kube else "image"]
        head += ["revision", "verdict", "why"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    size = sum(len(x.encode()) + 1 for x in lines)
    for n, row in enumerate(failing):
        line = _row(row, kube)
        if size + len(line.encode()) + 1 > LIMIT:
            left = len(failing) - n
            lines += [
                "",
                f"… and {left} more row{'s' * (left != 1)} not passing: "
                "GitHub caps a job summary at 1 MiB (see the json or html report).",
            ]
            break
        lines.append(line)
        size += len(line.encode()) + 1
    return "\n".join(lines) + "\n"
