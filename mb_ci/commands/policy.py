"""``mb-ci policy validate|schema|show-preset``: check a policy file, print the schema for
editors, or print a shipped preset."""

from __future__ import annotations

import argparse
import os
import sys

from mb_ci.commands import COMMANDS

NAME = "policy"
HELP = COMMANDS[NAME]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(
        dest="policy_command", metavar="{validate,schema,show-preset}", required=True
    )
    validate = sub.add_parser(
        "validate",
        help="validate a policy file (default: the one `check` uses: $MB_CI_POLICY, "
        "else .mb-ci.yml at the checkout root)",
    )
    validate.add_argument("file", nargs="?", metavar="FILE")
    validate.add_argument("--repo", default=os.environ.get("MB_CI_REPO", "."), metavar="DIR")
    sub.add_parser("schema", help="print the policy's JSON Schema")
    show = sub.add_parser(
        "show-preset", help="print a shipped preset: a policy file to read, save and extend"
    )
    show.add_argument("name", metavar="NAME", help="a preset name (see `preset` in the schema)")


def run(args: argparse.Namespace) -> int:
    from mb_ci import policy
    from mb_ci.errors import PolicyError

    if args.policy_command == "schema":
        sys.stdout.write(policy.schema_text())
        return 0
    if args.policy_command == "show-preset":
        return _show(args.name)
    from mb_ci.pipeline import checkout_root

    path = policy.find_policy(checkout_root(args.repo), args.file or os.environ.get("MB_CI_POLICY"))
    if path is None:
        raise PolicyError(f"{args.repo}: no .mb-ci.yml here", "name the policy file to validate")
    loaded = policy.load(path)
    rules = len(loaded.labels)
    named = ", ".join(loaded.presets or (loaded.preset,))
    sys.stdout.write(f"{path}: valid (preset {named}, {rules} label rule{'s' * (rules != 1)})\n")
    return 0


def _show(name: str) -> int:
    import difflib

    from mb_ci import presets
    from mb_ci.errors import UsageError

    if name not in presets.names():
        near = difflib.get_close_matches(name, presets.names(), n=1)
        hint = f"did you mean '{near[0]}'? " if near else ""
        raise UsageError(
            f"show-preset: unknown preset {name[:40]!r}",
            f"{hint}known: {', '.join(presets.names())}",
        )
    sys.stdout.write(presets.text(name))
    return 0
