"""``mb-ci policy validate|schema``: check a policy file, or print the schema for editors."""

from __future__ import annotations

import argparse
import os
import sys

from mb_ci.commands import COMMANDS

NAME = "policy"
HELP = COMMANDS[NAME]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="policy_command", metavar="{validate,schema}", required=True)
    validate = sub.add_parser(
        "validate",
        help="validate a policy file (default: the one `check` uses: $MB_CI_POLICY, "
        "else .mb-ci.yml at the checkout root)",
    )
    validate.add_argument("file", nargs="?", metavar="FILE")
    validate.add_argument("--repo", default=os.environ.get("MB_CI_REPO", "."), metavar="DIR")
    sub.add_parser("schema", help="print the policy's JSON Schema")


def run(args: argparse.Namespace) -> int:
    from mb_ci import policy
    from mb_ci.errors import PolicyError

    if args.policy_command == "schema":
        sys.stdout.write(policy.schema_text())
        return 0
    from mb_ci.pipeline import checkout_root

    path = policy.find_policy(checkout_root(args.repo), args.file or os.environ.get("MB_CI_POLICY"))
    if path is None:
        raise PolicyError(f"{args.repo}: no .mb-ci.yml here", "name the policy file to validate")
    loaded = policy.load(path)
    rules = len(loaded.labels)
    sys.stdout.write(
        f"{path}: valid (preset {loaded.preset}, {rules} label rule{'s' * (rules != 1)})\n"
    )
    return 0
