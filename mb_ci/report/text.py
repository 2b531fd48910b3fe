"""The human-readable report: grouped by label, coloured only when asked, every value made safe."""

from __future__ import annotations

from collections import defaultdict

from mb_ci.models import Finding, Report, Severity
from mb_ci.report import RenderOptions
from mb_ci.report.locations import place
from mb_ci.report.tiers import describe, label_tiers
from mb_ci.safety import safe

_COLORS = {"error": "31", "warning": "33", "info": "36", "ok": "32", "dim": "2", "bold": "1"}
_MARK = {Severity.ERROR: "✗", Severity.WARNING: "!", Severity.INFO: "i"}


def _paint(text: str, what: str, options: RenderOptions) -> str:
    return f"\x1b[{_COLORS[what]}m{text}\x1b[0m" if options.color else text


def render(report: Report, options: RenderOptions) -> str:
    lines: list[str] = []
    lines.append(_paint(f"mb-ci {report.command} {safe(report.subject)}", "bold", options))
    image, git = report.image, report.git
    if image is not None:
        ident = image.digest or image.image_id
        if ident:
            lines.append(f"  image    {safe(ident)}")
        if image.skipped:
            lines.append(f"  skipped  {safe(', '.join(image.skipped))}")
    if git is not None:
        branch = safe(git.branch) if git.branch else "detached HEAD"
        state = ", dirty" if git.dirty else ""
        lines.append(f"  commit   {git.head[:12]} ({branch}{state})")
        if git.remote_normalized and not (options.verbose and git.remote_url):
            lines.append(f"  remote   {safe(git.remote_normalized)}")
    if options.verbose:
        lines.extend(_verbose(report))
    lines.append("")
    platforms = image.platforms if image is not None else ()
    by_platform: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_platform[finding.platform].append(finding)
    if image is not None:
        for platform in platforms:
            name = platform.platform if image.multi_platform else None
            if name:
                lines.append(_paint(f"platform {safe(name)}", "bold", options))
            # tiers are shown once a provenance is attached; without one every label is
            # label-only, and `provenance: required` says so in a finding
            shown = platform.provenance is not None and platform.provenance.present
            described = describe(platform) if shown else None
            if described:
                lines.append(f"  provenance  {safe(described, 300)}")
            lines.extend(
                _labels_block(
                    dict(platform.labels),
                    by_platform.pop(name, []),
                    options,
                    label_tiers(platform) if shown else None,
                )
            )
            annotations = {**image.index_annotations, **platform.annotations}
            if annotations:
                lines.append(_paint("  annotations (index and manifest)", "dim", options))
                width = min(max(len(k) for k in annotations), 48)
                for key, value in sorted(annotations.items()):
                    lines.append(f"    {safe(key, 120).ljust(width)}  {safe(value, 80)}")
            lines.append("")
    for name, findings in by_platform.items():
        if name:
            lines.append(_paint(f"platform {safe(name)}", "bold", options))
        if name is None and image is not None and image.multi_platform:
            # about the image as a whole (e.g. platforms-agree): no one value to show per key
            lines.append(_paint("all platforms", "bold", options))
            lines.extend(_labels_block(None, findings, options))
        else:
            lines.extend(_labels_block({}, findings, options))
        lines.append("")
    if report.command == "lint-dockerfile" and report.dockerfile:
        lines.extend(_dockerfile_locations(report))
    lines.append(_summary(report, options))
    return "\n".join(lines) + "\n"


def _verbose(report: Report) -> list[str]:
    out: list[str] = []
    ci = report.ci
    if ci is not None and ci.provider:
        out.append(
            f"  ci       {ci.provider}: sha={ci.sha or '-'}"
            + (
                f" pr-head={ci.pr_head_sha or '-'} pr-merge={ci.pr_merge_sha or '-'}"
                if ci.is_pull_request
                else ""
            )
        )
    git = report.git
    if git is not None:
        if git.remote_url:
            out.append(
                f"  remote   {safe(git.remote_name or '')} {safe(git.remote_url)}"
                f" -> {safe(git.remote_normalized)}"
            )
        if git.tags:
            out.append(f"  tags     {safe(', '.join(git.tags))}")
        if git.shallow:
            out.append("  shallow  yes")
    if report.matched_commit:
        out.append(f"  matched  {report.matched_commit}")
    if report.checked:
        out.append(f"  checks   {', '.join(report.checked)}")
    return out


def _labels_block(
    labels: dict[str, str] | None,
    findings: list[Finding],
    options: RenderOptions,
    tiers: dict[str, str] | None = None,
) -> list[str]:
    """One line per label key with its findings below; ``labels=None`` shows keys only."""
    by_label: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_label[finding.label].append(finding)
    keys = sorted(set(labels or {}) | {k for k in by_label if k is not None})
    out: list[str] = []
    if not keys and not by_label:
        out.append("  (no labels)")
    width = min(max((len(k) for k in keys), default=0), 48)
    for key in keys:
        items = by_label.get(key, [])
        mark = _paint("✓", "ok", options) if not items else _mark(items, options)
        if labels is None:
            out.append(f"  {mark} {safe(key, 120)}")
        else:
            value = labels.get(key)
            shown = safe(value, 80) if value is not None else _paint("(missing)", "dim", options)
            tier = f"  [{tiers.get(key, 'label-only')}]" if tiers is not None else ""
            out.append(f"  {mark} {safe(key, 120).ljust(width)}  {shown}{tier}")
        for finding in items:
            out.extend(_finding_lines(finding, options))
    for finding in by_label.get(None, []):
        out.append(f"  {_mark([finding], options)} {safe(finding.message)}")
        out.extend(_finding_lines(finding, options, with_message=False))
    return out


def _mark(findings: list[Finding], options: RenderOptions) -> str:
    worst = max(findings, key=lambda f: f.severity.rank).severity
    return _paint(_MARK[worst], worst.value, options)


def _finding_lines(
    finding: Finding, options: RenderOptions, with_message: bool = True
) -> list[str]:
    out = []
    sev = _paint(finding.severity.value, finding.severity.value, options)
    if with_message:
        out.append(f"      {sev} [{finding.check}] {safe(finding.message)}")
    if finding.expected is not None:
        out.append(f"        expected: {safe(finding.expected)}")
    if finding.actual is not None:
        out.append(f"        actual:   {safe(finding.actual)}")
    return out


def _summary(report: Report, options: RenderOptions) -> str:
    e, w = report.errors, report.warnings
    verdict = "passed" if report.passed(options.strict) else "FAILED"
    color = "ok" if verdict == "passed" else "error"
    matched = (
        f", revision matched the {report.matched_commit} commit" if report.matched_commit else ""
    )
    return _paint(
        f"{verdict}: {e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}{matched}",
        color,
        options,
    )


def _dockerfile_locations(report: Report) -> list[str]:
    """``PATH:LINE: severity [check] message``, the form editors and pre-commit users jump to."""
    out = []
    for f in report.findings:
        path, line = place(f, report)
        if f.file is None:
            path = report.subject  # the path as typed: an editor opens it from where it runs
        if path is not None and line is not None:
            out.append(
                f"{safe(path, 200)}:{line}: {f.severity.value} [{f.check}] {safe(f.message)}"
            )
    return [*out, ""] if out else []
