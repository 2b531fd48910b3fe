"""``mb-ci policy validate|schema|show-preset``: check a policy file, print the schema for
editors, or print a shipped preset."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from typing import TYPE_CHECKING

from mb_ci.commands import COMMANDS
from mb_ci.commands.common import add_date, day_of

if TYPE_CHECKING:
    from mb_ci.policy import Policy

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
    add_date(validate)
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
    for line in _pending(loaded, day_of(args)):
        sys.stdout.write(f"{path}: {line}\n")
    return 0


def _pending(loaded: Policy, day: dt.date | None) -> list[str]:
    """The rules that only warn as of ``day`` (default today, UTC): one line per start date."""
    today = day or dt.datetime.now(dt.timezone.utc).date()
    dated: dict[dt.date, list[str]] = {}
    for key, rule in loaded.rules.items():
        since = rule.effective_on or loaded.effective_on
        if since is not None and since > today:
            dated.setdefault(since, []).append(f"labels.{key}")
    for gate, limit in loaded.limits.items():
        since = limit.effective_on or loaded.effective_on
        if since is not None and since > today:
            dated.setdefault(since, []).append(gate)
    return [
        f"warns until {since.isoformat()}, fails from it: {', '.join(names)}"
        for since, names in sorted(dated.items())
    ]


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
