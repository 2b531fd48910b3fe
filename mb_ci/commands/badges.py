"""``mb-ci badges IMAGE``: MicroBadger's badges as shields.io URLs or SVG files, in the README."""

from __future__ import annotations

import argparse
import difflib
import os
import sys

from mb_ci.badges.core import DEFAULT_ORDER, KINDS, MARKUPS, SIZE_UNITS, STYLES
from mb_ci.badges.plan import BadgeOptions, Plan, apply, plan, stale
from mb_ci.commands import COMMANDS
from mb_ci.commands.common import (
    add_common,
    add_image_argument,
    add_source_options,
    source_options,
)
from mb_ci.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from mb_ci.safety import json_dumps

NAME = "badges"
HELP = COMMANDS[NAME]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_image_argument(parser)
    group = parser.add_argument_group("badges")
    group.add_argument(
        "--style", choices=STYLES, help="static shields.io URLs (default) or SVG files (svg)"
    )
    group.add_argument("--svg-dir", metavar="DIR", help="where SVG files go (.github/badges)")
    group.add_argument(
        "--markup",
        choices=MARKUPS,
        default=os.environ.get("MB_CI_BADGE_MARKUP", "markdown"),
        help="snippet markup on stdout and in the README (default markdown; $MB_CI_BADGE_MARKUP)",
    )
    group.add_argument(
        "--only",
        metavar="KINDS",
        help=f"comma-separated badges in order, of {','.join(KINDS)} (default: the policy's, "
        f"else {','.join(DEFAULT_ORDER)})",
    )
    group.add_argument("--size-unit", choices=SIZE_UNITS, help="MB (powers of 1000) or MiB")
    group.add_argument("--readme", metavar="FILE", help="update the marker block in FILE")
    group.add_argument(
        "--create", action="store_true", help="add the marker block after the first heading"
    )
    group.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and print a diff when the README or an SVG is stale",
    )
    add_common(parser)
    add_source_options(parser)


def _diff(path: str, old: bytes | None, new: bytes) -> str:
    def lines(data: bytes | None) -> list[str]:
        return data.decode("utf-8", "replace").splitlines(keepends=True) if data else []

    diff = difflib.unified_diff(lines(old), lines(new), f"a/{path}", f"b/{path}")
    return "".join(d if d.endswith("\n") else d + "\n" for d in diff)


def _document(p: Plan, markup: str, written: list[str] | None) -> str:
    doc = {
        "schema": "mb-ci/badges",
        "version": 1,
        "markup": markup,
        "snippet": p.snippet,
        "badges": [
            {
                "kind": b.kind,
                "name": b.name,
                "label": b.label,
                "message": b.message,
                "color": b.color,
                "link": b.link,
            }
            for b in p.badges
        ],
        "files": sorted(p.files),
        "readme": p.readme[0] if p.readme else None,
        "written": written,
        "notes": list(p.notes),
    }
    return json_dumps(doc)


def badge_options(args: argparse.Namespace) -> BadgeOptions:
    return BadgeOptions(
        repo=args.repo,
        policy=args.policy,
        style=args.style,
        svg_dir=args.svg_dir,
        markup=args.markup,
        only=args.only,
        size_unit=args.size_unit,
        readme=args.readme,
        create=args.create,
        source=source_options(args),
    )


def run(args: argparse.Namespace) -> int:
    from mb_ci import output
    from mb_ci.output import OutputOptions, parse_reports
    from mb_ci.report import resolve
    from mb_ci.safety import printable

    fmt = "text" if args.format == "auto" else resolve(args.format)
    reports = parse_reports(args.report)
    for f in [fmt, *(f for f, _ in reports)]:
        if f not in ("text", "json"):
            raise UsageError(f"badges: format '{f}' does not apply", "use text or json")
    p = plan(args.image, badge_options(args))
    if args.verbose:
        for line in p.sizes:
            sys.stderr.write(f"mb-ci: {printable(line)}\n")
    for note in p.notes:
        sys.stderr.write(f"mb-ci: note: {printable(note)} (badge left out)\n")
    failed = bool(args.strict and p.notes)
    if args.check:
        changes = stale(p)
        for path, (old, new) in changes.items():
            sys.stdout.write(_diff(path, old, new))
        if changes:
            sys.stderr.write(
                f"mb-ci: {len(changes)} file(s) stale: run `mb-ci badges` without --check\n"
            )
            return EXIT_FINDINGS
        return EXIT_FINDINGS if failed else EXIT_OK
    written = apply(p)
    for path in written:
        sys.stderr.write(f"mb-ci: wrote {printable(path)}\n")
    if args.verbose and not written:
        sys.stderr.write("mb-ci: nothing changed\n")
    texts = {
        "text": p.snippet + "\n" if p.snippet else "",
        "json": _document(p, args.markup, written),
    }
    out = OutputOptions(format=fmt, output=args.output, reports=reports)
    output.write(lambda f, _color: texts[f], out, fmt)
    return EXIT_FINDINGS if failed else EXIT_OK
