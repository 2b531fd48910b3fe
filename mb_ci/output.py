"""Where reports leave mb-ci: rendered, coloured and written to stdout, ``--output``, ``--report``
files, and the Action's log, step summary and outputs. No other module writes a report.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from mb_ci.errors import EXIT_FINDINGS, EXIT_OK, UsageError

if TYPE_CHECKING:
    from mb_ci.audit.model import AuditResult, AuditRow, Summary
    from mb_ci.models import Report
    from mb_ci.report import RenderOptions


@dataclass(frozen=True)
class OutputOptions:
    """Where and how a command's reports go (``--format``, ``--output``, ``--report``, …)."""

    format: str = "text"
    output: str | None = None
    reports: tuple[tuple[str, str], ...] = ()  # (format, path), checked by parse_reports
    verbose: bool = False
    strict: bool = False


def use_color(stream_is_tty: bool, env: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set or ``TERM=dumb``."""
    env = os.environ if env is None else env
    return stream_is_tty and not env.get("NO_COLOR") and env.get("TERM") != "dumb"


def render_options(verbose: bool, strict: bool, color: bool = False) -> RenderOptions:
    """Reporter options, with when and where this run happens (JUnit's timestamp, hostname)."""
    import datetime as dt
    import socket

    from mb_ci.report import RenderOptions

    return RenderOptions(
        color=color,
        verbose=verbose,
        strict=strict,
        now=dt.datetime.now(dt.timezone.utc),
        hostname=socket.gethostname(),
    )


def parse_reports(specs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``--report FORMAT=PATH`` items (each may hold several, by line or comma) as (format,
    path); a format no reporter has is a usage error."""
    from mb_ci import report as reporting

    out = []
    for spec in specs:
        for part in (p.strip() for p in spec.replace("\n", ",").split(",")):
            if not part:
                continue
            fmt, sep, path = part.partition("=")
            if not sep or not path:
                raise UsageError(f"--report {part}: expected FORMAT=PATH", "e.g. json=report.json")
            reporting.resolve(fmt)
            out.append((fmt, path))
    return tuple(out)


def parse_audit_reports(specs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The audit's ``--report FORMAT=PATH``, one each, in one of the audit's formats."""
    from mb_ci.audit import FORMATS

    out = []
    for spec in specs:
        fmt, sep, path = spec.partition("=")
        if not sep or not path or fmt not in FORMATS:
            names = list(FORMATS)
            raise UsageError(
                f"--report {spec}: expected FORMAT=PATH with FORMAT "
                f"{', '.join(names[:-1])} or {names[-1]}",
                "e.g. --report json=audit.json",
            )
        out.append((fmt, path))
    return tuple(out)


def _exit_code(passed: bool) -> int:
    return EXIT_OK if passed else EXIT_FINDINGS


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def write(texts: Callable[[str, bool], str], out: OutputOptions, main_format: str) -> None:
    """The main text to ``--output`` or stdout, and each ``--report`` to its file.

    ``texts(format, color)`` renders one format; colour only for a terminal on stdout.
    """
    from mb_ci.fsutil import write_text

    to_tty = out.output is None and sys.stdout.isatty()
    text = texts(main_format, use_color(to_tty))
    for fmt, path in out.reports:
        write_text(path, texts(fmt, False))
    if out.output:
        write_text(out.output, text)
    else:
        _stdout(text)


def emit(report: Report, out: OutputOptions) -> int:
    """Write the main report and every ``--report``; return the exit code the findings give."""
    from mb_ci import report as reporting

    fmt = reporting.resolve(out.format)

    def texts(name: str, color: bool) -> str:
        return reporting.render(report, name, render_options(out.verbose, out.strict, color))

    write(texts, out, fmt)
    return _exit_code(report.passed(out.strict))


def emit_many(reports: Sequence[Report], out: OutputOptions) -> int:
    """Several reports on stdout in one text or github stream (no report files); the exit code
    of the worst. GitHub's cap on annotations per type holds over all of them."""
    from mb_ci import report as reporting
    from mb_ci.report import github

    fmt = reporting.resolve(out.format)
    options = render_options(out.verbose, out.strict, use_color(sys.stdout.isatty()))
    if fmt == "github":
        text = github.render_many(list(reports), options)
    else:
        text = "".join(reporting.render(report, fmt, options) for report in reports)
    _stdout(text)
    return _exit_code(all(r.passed(out.strict) for r in reports))


def emit_audit(result: AuditResult, out: OutputOptions) -> None:
    """The audit's report and ``--report`` files; its summary line on stderr when stdout does
    not show the text table."""
    from mb_ci.audit import FORMATS
    from mb_ci.audit.report_text import summary_line
    from mb_ci.report import RenderOptions

    def texts(name: str, color: bool) -> str:
        return FORMATS[name].render(result, RenderOptions(color=color))

    write(texts, out, out.format)
    if out.output or out.format != "text":
        sys.stderr.write(f"mb-ci audit: {summary_line(result.summary, len(result.rows))}\n")


def stream_audit(
    rows: Iterable[AuditRow],
    shown: Callable[[AuditRow], bool],
    head: AuditResult,
    out: OutputOptions,
) -> tuple[AuditResult, Summary]:
    """``--format jsonl``: each shown row is written to stdout or ``--output`` as it comes.

    Only the counts are kept, so memory does not grow with the audit; the rows are kept only
    when a ``--report`` file in another format needs them at the end. ``head`` carries the
    shard, policy, HEAD and filters. Returns the result (its summary over every row) and the
    counts of the shown rows, which decide the exit code.
    """
    from dataclasses import replace

    from mb_ci.audit import FORMATS, report_jsonl
    from mb_ci.audit import model as audit
    from mb_ci.audit.report_text import summary_line
    from mb_ci.report import RenderOptions

    summary = shown_counts = audit.Summary()
    kept: list[AuditRow] | None = [] if out.reports else None
    with _open_stream(out.output) as stream:
        for row in rows:
            counts = audit.Summary.of((row,))
            summary = summary + counts
            if not shown(row):
                continue
            shown_counts = shown_counts + counts
            stream.write(report_jsonl.image_line(row))
            stream.flush()
            if kept is not None:
                kept.append(row)
        result = replace(head, rows=(), summary=summary)
        stream.write(report_jsonl.last_line(result, shown_counts))
    if kept is not None:
        from mb_ci.fsutil import write_text

        full = replace(result, rows=tuple(sorted(kept, key=audit.AuditRow.key)))
        for fmt, path in out.reports:
            write_text(path, FORMATS[fmt].render(full, RenderOptions()))
    sys.stderr.write(f"mb-ci audit: {summary_line(summary, shown_counts.audited)}\n")
    return result, shown_counts


@contextlib.contextmanager
def _open_stream(path: str | None) -> Iterator[TextIO]:
    """stdout, or ``path`` opened for writing (a stream cannot be replaced atomically)."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        fh = open(path, "w", encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot write: {e.strerror}") from e
    with fh:
        yield fh


# --- the GitHub Action ---------------------------------------------------------------------------


def emit_in_action(report: Report, out: OutputOptions, env: Mapping[str, str]) -> list[str]:
    """The job log and every report file (folders made as needed); returns the paths written.

    In every format but ``github``, the report is fenced with stop-commands, so that no label
    value it quotes is taken for a workflow command even if an escape were missed (actions/
    toolkit "stop-commands"), and the annotations follow the fence. ``github`` is annotations
    itself, escaped for the runner; inside the fence they would be shown as text.
    """
    import secrets

    from mb_ci import report as reporting
    from mb_ci.fsutil import make_parents, write_text
    from mb_ci.report.github import annotation_lines

    fmt = reporting.resolve(out.format, env)
    options = render_options(out.verbose, out.strict)
    if fmt == "github":
        _stdout(reporting.render(report, fmt, options))
    else:
        token = secrets.token_hex(16)
        text = reporting.render(report, fmt, options)
        annotations = "".join(line + "\n" for line in annotation_lines(report))
        _stdout(f"::stop-commands::{token}\n{text}::{token}::\n{annotations}")
    paths = []
    for extra_fmt, path in out.reports:
        make_parents(path)
        write_text(path, reporting.render(report, extra_fmt, options))
        paths.append(path)
    return paths


def step_summary(report: Report, out: OutputOptions, env: Mapping[str, str]) -> None:
    """The Markdown summary on the run's page (``$GITHUB_STEP_SUMMARY``)."""
    from mb_ci.report.summary import render as summary

    append(env.get("GITHUB_STEP_SUMMARY"), summary(report, render_options(out.verbose, out.strict)))


def output_block(name: str, value: str) -> str:
    """``name<<DELIM`` … ``DELIM`` with a random delimiter the value does not contain, so no
    line of a label value can end the block early and set another output."""
    import secrets

    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:  # pragma: no cover - 128 random bits
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def set_outputs(env: Mapping[str, str], outputs: Mapping[str, str]) -> None:
    """Append step outputs to ``$GITHUB_OUTPUT``."""
    append(env.get("GITHUB_OUTPUT"), "".join(output_block(k, v) for k, v in outputs.items()))


def error_annotation(message: str) -> None:
    """A failure as the Action shows it: one ``::error`` annotation on stdout."""
    from mb_ci.report.github import command
    from mb_ci.safety import printable, redact

    _stdout(command("error", {"title": "mb-ci"}, printable(redact(message), 1000)) + "\n")


def append(path: str | None, text: str) -> None:
    """Append to one of the runner's files (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``)."""
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        raise UsageError(f"{path}: cannot write: {e.strerror}") from e
