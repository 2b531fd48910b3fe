"""``mb-ci lint-dockerfile [PATH...]``: apply the label policy to a Dockerfile before any build."""

from __future__ import annotations

import argparse

from mb_ci import report as reporting
from mb_ci.commands import COMMANDS
from mb_ci.commands.common import add_common, output_options, policy_for

NAME = "lint-dockerfile"
HELP = COMMANDS[NAME]
_STREAMABLE = ("text", "github")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        default=["Dockerfile"],
        metavar="PATH",
        help="Dockerfiles to lint (default: Dockerfile)",
    )
    parser.add_argument(
        "--target",
        metavar="STAGE",
        help="lint this stage instead of the last one (as `docker build --target`)",
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    from mb_ci import output
    from mb_ci.errors import UsageError
    from mb_ci.pipeline import lint

    out = output_options(args)  # a bad --format or --report: exit 2 before any work is done
    fmt = reporting.resolve(out.format)
    paths = list(dict.fromkeys(args.paths))
    if len(paths) > 1 and (out.output or out.reports or fmt not in _STREAMABLE):
        raise UsageError(
            f"{len(paths)} Dockerfiles with --output, --report or --format {fmt}",
            "lint one Dockerfile per run for a report file",
        )
    policy = policy_for(args)
    if len(paths) == 1:
        return output.emit(lint(paths[0], policy, args.target), out)
    return output.emit_many([lint(path, policy, args.target) for path in paths], out)
