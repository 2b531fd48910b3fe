"""The options every reporting command shares, and their typed form: output, policy, sources."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from mb_ci import report as reporting
from mb_ci import sources
from mb_ci.errors import UsageError
from mb_ci.output import OutputOptions
from mb_ci.policy import Policy
from mb_ci.sources.options import SourceOptions


def add_common(parser: argparse.ArgumentParser) -> None:
    env = os.environ
    group = parser.add_argument_group("output and policy")
    group.add_argument(
        "--format",
        default=env.get("MB_CI_FORMAT", "text"),
        metavar="FORMAT",
        help=reporting.format_help(),
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
    add_date(group)
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="more detail (CI commit used, remote normalisation); never secrets",
    )


def add_date(group: argparse._ActionsContainer) -> None:
    group.add_argument(
        "--date",
        default=os.environ.get("MB_CI_DATE"),
        metavar="YYYY-MM-DD",
        help="judge the policy as of this day: rules whose `effective_on` is later only warn "
        "(default: today, UTC; $MB_CI_DATE)",
    )


def day_of(args: argparse.Namespace) -> dt.date | None:
    """``--date`` (or ``MB_CI_DATE``) as a day; a wrong one is a usage error (exit 2)."""
    from mb_ci.policy import parse_day

    text = getattr(args, "date", None)
    return parse_day(text, "--date") if text else None


def add_image_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "image",
        metavar="IMAGE",
        help="name[:tag], name@digest, image id, or TRANSPORT:REF "
        f"({', '.join(sources.prefix(t) for t in sources.TRANSPORTS)})",
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
    group.add_argument(
        "--host-connections",
        type=int,
        default=16,
        metavar="N",
        help="requests in flight to one registry host at once (default 16)",
    )


def source_options(args: argparse.Namespace) -> SourceOptions:
    """The ``image access`` options (``add_source_options``) as ``SourceOptions``."""
    password = os.environ.get("MB_CI_REGISTRY_PASSWORD")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input was empty")
    if not 1 <= args.host_connections <= 64:
        raise UsageError(f"--host-connections {args.host_connections}: expected 1 to 64")
    return SourceOptions(
        platforms=tuple(args.platform),
        username=args.username,
        password=password,
        insecure_registries=tuple(args.insecure_registry),
        ca_file=args.ca_file,
        timeout=args.timeout,
        host_connections=args.host_connections,
    )


def policy_for(args: argparse.Namespace) -> Policy:
    from mb_ci.pipeline import load_policy

    return load_policy(args.repo, args.policy, day_of(args))


def output_options(args: argparse.Namespace) -> OutputOptions:
    """``--format``, ``--output``, ``--report``, ``--verbose``, ``--strict``: checked here, so
    that a bad one is a usage error (exit 2) before any work is done."""
    from mb_ci import report as reporting
    from mb_ci.output import parse_reports

    reporting.resolve(args.format)
    return OutputOptions(
        format=args.format,
        output=args.output,
        reports=parse_reports(args.report),
        verbose=args.verbose,
        strict=args.strict,
    )
