"""``mb-ci check IMAGE``: compare an image's labels with the git checkout and the policy."""

from __future__ import annotations

import argparse
import os

from mb_ci.commands.common import add_common, add_source_options, emit, policy_for, source_options

NAME = "check"
HELP = "check an image's labels against the git checkout and the policy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "image",
        metavar="IMAGE",
        help="name[:tag], name@digest, image id, or TRANSPORT:REF "
        "(docker-daemon:, docker://, docker-archive:, oci:, oci-archive:)",
    )
    parser.add_argument(
        "--no-git",
        action="store_true",
        help="check the policy only, without comparing with a git checkout",
    )
    add_common(parser)
    add_source_options(parser)


def run(args: argparse.Namespace) -> int:
    from mb_ci import ci_env, gitfacts, sources
    from mb_ci.checks import check_image
    from mb_ci.commands.common import parse_reports
    from mb_ci.models import Report

    parse_reports(args.report)  # a bad --report is a usage error before any work is done
    policy = policy_for(args)
    options = source_options(args)
    git = None if args.no_git else gitfacts.read(args.repo, policy.git.remote)
    ci = ci_env.read(os.environ)
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
    return emit(report, args)
