"""Options and plumbing every reporting command shares: format, output, reports, policy, repo."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mb_ci import report as reporting
from mb_ci.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from mb_ci.fsutil import write_text
from mb_ci.models import Report
from mb_ci.policy import Policy, find_policy, load
from mb_ci.sources.options import SourceOptions


def add_common(parser: argparse.ArgumentParser) -> None:
    env = os.environ
    group = parser.add_argument_group("output and policy")
    group.add_argument(
        "--format",
        default=env.get("MB_CI_FORMAT", "text"),
        metavar="FORMAT",
        help="report format on stdout: text (default), json, sarif, junit, codequality, github, "
        "or auto ($MB_CI_FORMAT)",
    )
    group.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    group.add_argument(
        "--report",
        action="append",
        default=[],
        metavar="FORMAT=PATH",
        help="also write a report in FORMAT to PATH (repeatable)",
    )
    group.add_argument(
        "--policy",
        default=env.get("MB_CI_POLICY"),
        metavar="FILE",
        help="policy file (default: .mb-ci.yml at the checkout root; $MB_CI_POLICY)",
    )
    group.add_argument(
        "--repo",
        default=env.get("MB_CI_REPO", "."),
        metavar="DIR",
        help="the git checkout (default: the current directory; $MB_CI_REPO)",
    )
    group.add_argument("--strict", action="store_true", help="fail on warnings too")
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="more detail (CI commit used, remote normalisation); never secrets",
    )


def add_image_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "image",
        metavar="IMAGE",
        help="name[:tag], name@digest, image id, or TRANSPORT:REF "
        "(docker-daemon:, docker://, docker-archive:, oci:, oci-archive:)",
    )


def add_source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("image access")
    group.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="OS/ARCH[/VARIANT]",
        help="check only this platform of a multi-platform image (repeatable)",
    )
    group.add_argument(
        "--username", default=os.environ.get("MB_CI_REGISTRY_USERNAME"), help="registry user name"
    )
    group.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the registry password or token from standard input",
    )
    group.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="allow plain HTTP and unverified TLS to HOST (repeatable; loopback may use HTTP)",
    )
    group.add_argument("--ca-file", metavar="PATH", help="CA bundle for registry TLS")
    group.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="network time limit per request (default 30)",
    )


def source_options(args: argparse.Namespace) -> SourceOptions:
    password = os.environ.get("MB_CI_REGISTRY_PASSWORD")
    if getattr(args, "password_stdin", False):
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input was empty")
    return SourceOptions(
        platforms=tuple(getattr(args, "platform", ()) or ()),
        username=getattr(args, "username", None),
        password=password,
        insecure_registries=tuple(getattr(args, "insecure_registry", ()) or ()),
        ca_file=getattr(args, "ca_file", None),
        timeout=getattr(args, "timeout", 30.0),
    )


def policy_for(args: argparse.Namespace) -> Policy:
    root = checkout_root(args.repo)
    return load(find_policy(root, args.policy))


def checkout_root(repo: str) -> Path:
    """The checkout root if there is one, else ``repo`` (a missing checkout is found later)."""
    from mb_ci.errors import CheckoutError
    from mb_ci.facts.git import find_root

    try:
        return find_root(repo)
    except CheckoutError:
        return Path(repo)


def parse_reports(specs: list[str]) -> list[tuple[str, str]]:
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
    return out


def render_options(args: argparse.Namespace, stream_is_tty: bool) -> reporting.RenderOptions:
    import datetime as dt
    import socket

    color = stream_is_tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    return reporting.RenderOptions(
        color=bool(color),
        verbose=args.verbose,
        strict=args.strict,
        now=dt.datetime.now(dt.timezone.utc),
        hostname=socket.gethostname(),
    )


def emit_many(reports: list[Report], args: argparse.Namespace) -> int:
    """Several reports on stdout in one text or github stream (no report files); the exit code
    of the worst. GitHub's cap on annotations per type holds over all of them."""
    from mb_ci.report import github

    fmt = reporting.resolve(args.format)
    options = render_options(args, sys.stdout.isatty())
    if fmt == "github":
        sys.stdout.write(github.render_many(reports, options))
    else:
        for report in reports:
            sys.stdout.write(reporting.render(report, fmt, options))
    sys.stdout.flush()
    passed = all(r.passed(args.strict) for r in reports)
    return EXIT_OK if passed else EXIT_FINDINGS


def emit(report: Report, args: argparse.Namespace) -> int:
    """Write the main report and every ``--report``; return the exit code the findings give."""
    reports = parse_reports(args.report)
    fmt = reporting.resolve(args.format)
    to_tty = args.output is None and sys.stdout.isatty()
    text = reporting.render(report, fmt, render_options(args, to_tty))
    plain = render_options(args, False)
    for extra_fmt, path in reports:
        write_text(path, reporting.render(report, extra_fmt, plain))
    if args.output:
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return EXIT_OK if report.passed(args.strict) else EXIT_FINDINGS
