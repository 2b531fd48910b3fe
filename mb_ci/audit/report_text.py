"""The audit as a table: one line per image, then the findings of those that failed."""

from __future__ import annotations

from mb_ci.audit.model import AuditResult, AuditRow, Summary
from mb_ci.models import Severity
from mb_ci.report import RenderOptions
from mb_ci.safety import safe

_COLORS = {"pass": "32", "fail": "31", "unreadable": "33", "bold": "1"}
MAX_FINDINGS = 5


def _paint(text: str, what: str, options: RenderOptions) -> str:
    return f"\x1b[{_COLORS[what]}m{text}\x1b[0m" if options.color else text


def _notes(row: AuditRow) -> str:
    notes = []
    if row.dangling:
        notes.append("dangling")
    if row.no_origin:
        notes.append("no origin labels")
    return ", ".join(notes)


def _cells(
    row: AuditRow, with_container: bool, kube: bool = False, with_tier: bool = False
) -> list[str]:
    revision = row.concepts.get("revision") or "-"
    cells = [safe(row.container or "-", 40)] if with_container else []
    if kube:  # audit --kubernetes: the workload the container belongs to
        cells.append(safe(row.kubernetes.get("workload") or "-", 40))
    cells += [
        safe(row.reference, 60),
        _short(safe(revision, None)),
        safe(row.concepts.get("source") or "-", 50),
        safe(row.concepts.get("version") or "-", 20),
        safe(row.concepts.get("created") or "-", 25),
        *([row.tier or "-"] if with_tier else []),
        row.verdict,
        _notes(row),
    ]
    return cells


def summary_line(summary: Summary, shown: int | None = None) -> str:
    s = summary
    parts = [f"{s.passed} passed", f"{s.failed} failed"]
    if s.unreadable:
        parts.append(f"{s.unreadable} unreadable")
    extra = []
    if s.no_origin:
        extra.append(f"{s.no_origin} without origin labels")
    if s.dangling:
        extra.append(f"{s.dangling} dangling")
    line = f"{s.audited} image{'s' * (s.audited != 1)} audited: {', '.join(parts)}"
    if extra:
        line += f"; {', '.join(extra)}"
    if shown is not None and shown != s.audited:
        line += f" ({shown} shown)"
    return line


def render(result: AuditResult, options: RenderOptions) -> str:
    with_container = any(r.container for r in result.rows)
    kube = any(r.kubernetes for r in result.rows)
    # the revision's trust tier, once any image carries a provenance that backs something
    with_tier = any(r.tier not in (None, "label-only") for r in result.rows)
    header = (
        (["CONTAINER"] if with_container else [])
        + (["WORKLOAD"] if kube else [])
        + [
            "IMAGE",
            "REVISION",
            "SOURCE",
            "VERSION",
            "CREATED",
            *(["TIER"] if with_tier else []),
            "VERDICT",
            "NOTES",
        ]
    )
    table = [header] + [_cells(r, with_container, kube, with_tier) for r in result.rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = []
    for n, line in enumerate(table):
        padded = [cell.ljust(w) for cell, w in zip(line, widths, strict=True)]
        if n and options.color:
            padded[-2] = _paint(padded[-2], line[-2], options)
        text = "  ".join(padded).rstrip()
        lines.append(_paint(text, "bold", options) if n == 0 else text)
    if not result.rows:
        lines.append("(no image matched)")
    details = [r for r in result.rows if r.verdict != "pass"]
    if details:
        lines.append("")
    for row in details:
        who = f"{safe(row.container)} ({safe(row.reference)})" if row.container else row.reference
        lines.append(f"{safe(who)}:")
        if row.error:
            lines.append(f"  could not inspect: {safe(row.error)}")
        shown = [f for f in row.findings if f.severity in (Severity.ERROR, Severity.WARNING)]
        for finding in shown[:MAX_FINDINGS]:
            where = f" ({safe(finding.platform)})" if finding.platform else ""
            lines.append(
                f"  {finding.severity.value} [{finding.check}]{where} {safe(finding.message)}"
            )
        if len(shown) > MAX_FINDINGS:
            lines.append(f"  … and {len(shown) - MAX_FINDINGS} more (see --format json)")
    lines.append("")
    lines.append(summary_line(result.summary, len(result.rows)))
    return "\n".join(lines) + "\n"


def _short(revision: str) -> str:
    """A revision cut to 12 characters, after redaction so no part of a secret survives the cut."""
    return revision if len(revision) <= 12 else revision[:12]
