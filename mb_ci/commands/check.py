"""``mb-ci check IMAGE``: compare an image's labels with the git checkout and the policy."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from mb_ci.commands import COMMANDS
from mb_ci.commands.common import (
    add_common,
    add_image_argument,
    add_source_options,
    day_of,
    output_options,
    source_options,
)

if TYPE_CHECKING:
    from mb_ci.pipeline import CheckOptions

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
    parser.add_argument(
        "--target",
        default=os.environ.get("MB_CI_TARGET") or None,
        metavar="STAGE",
        help="the Dockerfile stage the image was built from (docker build --target); "
        "default: the last stage; $MB_CI_TARGET",
    )
    parser.add_argument(
        "--base",
        default=os.environ.get("MB_CI_BASE") or None,
        metavar="REF",
        help="the image this one was built FROM, for label-inherited (any IMAGE form; $MB_CI_BASE)",
    )
    parser.add_argument(
        "--no-base-lookup",
        action="store_true",
        help="never read a base image (no engine or registry access beyond the image itself)",
    )
    add_common(parser)
    add_source_options(parser)


def run(args: argparse.Namespace) -> int:
    from mb_ci import output, pipeline

    out = output_options(args)  # a bad --format or --report: exit 2 before any work is done
    return output.emit(pipeline.check_image(check_options(args)), out)


def check_options(args: argparse.Namespace) -> CheckOptions:
    from mb_ci.pipeline import CheckOptions

    return CheckOptions(
        image=args.image,
        repo=args.repo,
        policy=args.policy,
        dockerfile=args.dockerfile,
        target=args.target,
        base=args.base,
        no_base_lookup=args.no_base_lookup,
        no_git=args.no_git,
        source=source_options(args),
        date=day_of(args),
    )
