"""``mb-ci labels``: print the labels the current checkout should carry, for any builder."""

from __future__ import annotations

import argparse
import json
import os
import sys

from mb_ci.commands import COMMANDS

NAME = "labels"
HELP = COMMANDS[NAME]
FORMATS = ("json", "build-args", "env", "github")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="json")
    parser.add_argument(
        "--created",
        metavar="WHEN",
        help="'now', 'commit', or an RFC 3339 time (default: $SOURCE_DATE_EPOCH, "
        "else the commit time, which keeps builds reproducible)",
    )
    parser.add_argument(
        "--preset",
        choices=("oci", "label-schema", "both"),
        help="vocabulary to emit (default: the policy's preset)",
    )
    parser.add_argument("--repo", default=os.environ.get("MB_CI_REPO", "."), metavar="DIR")
    parser.add_argument("--policy", default=os.environ.get("MB_CI_POLICY"), metavar="FILE")
    parser.add_argument("--output", "-o", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from mb_ci import output
    from mb_ci.commands.common import policy_for
    from mb_ci.facts import derive as generate
    from mb_ci.pipeline import read_checkout

    policy = policy_for(args)
    git, ci = read_checkout(args.repo, policy)
    for problem in ci.problems:
        sys.stderr.write(f"mb-ci: warning: {problem}; labelling HEAD\n")
    values = generate.values_for(git, ci, policy.git, args.created, os.environ)
    preset = args.preset or policy.preset
    lbls = generate.labels(values, preset)
    if args.format == "json":
        text = json.dumps(lbls, indent=2) + "\n"
    elif args.format == "build-args":
        text = generate.as_build_args(lbls)
    elif args.format == "env":
        text = generate.as_env(values)
    else:
        text = generate.as_github_output(values, lbls)
    output.write(lambda _format, _color: text, output.OutputOptions(output=args.output), "text")
    return 0
