"""``mb-ci check IMAGE``: compare an image's labels with the git checkout and the policy."""

from __future__ import annotations

import argparse
import os

from mb_ci.commands import COMMANDS
from mb_ci.commands.common import (
    add_common,
    add_image_argument,
    add_source_options,
    emit,
    policy_for,
    source_options,
)
from mb_ci.models import Report

NAME = "check"
HELP = COMMANDS[NAME]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_image_argument(parser)
    parser.add_argument(
        "--no-git",
        action="store_true",
        help="check the policy only, without comparing with a git checkout",
    )
    parser.add_argument(
        "--dockerfile",
        default=os.environ.get("MB_CI_DOCKERFILE"),
        metavar="PATH",
        help="the Dockerfile that report locations point at (SARIF, Code Quality, annotations; "
        "default: Dockerfile at the checkout root when present; $MB_CI_DOCKERFILE)",
    )
    add_common(parser)
    add_source_options(parser)


def run(args: argparse.Namespace) -> int:
    return emit(build_report(args), args)


def build_report(args: argparse.Namespace) -> Report:
    """Inspect, check and locate: everything but the output (the Action shares this)."""
    from mb_ci import report as reporting
    from mb_ci import sources
    from mb_ci.checks import check_image
    from mb_ci.commands.common import parse_reports
    from mb_ci.facts import ci as ci_env
    from mb_ci.facts import git as gitfacts
    from mb_ci.report.locations import locate

    # a bad --format or --report is a usage error (exit 2) before any work is done
    reporting.resolve(args.format)
    parse_reports(args.report)
    policy = policy_for(args)
    options = source_options(args)
    ci = ci_env.read(os.environ)
    git = None if args.no_git else gitfacts.read(args.repo, policy.git.remote, ci)
    ci = ci_env.resolve(ci, git)
    image = sources.inspect(args.image, options)
    result = check_image(image, git, ci, policy)
    report = Report(
        command=NAME,
        subject=args.image,
        findings=result.findings,
        image=image,
        git=git,
        ci=ci,
        matched_commit=result.matched_commit,
        checked=result.checked,
    )
    return locate(report, getattr(args, "dockerfile", None), policy.path)
