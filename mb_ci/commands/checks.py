"""``mb-ci checks``: list every check id with its default severity and what it means."""

from __future__ import annotations

import argparse
import json
import sys

from mb_ci.commands import COMMANDS

NAME = "checks"
HELP = COMMANDS[NAME]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from mb_ci.catalog import CHECKS

    if args.format == "json":
        data = [
            {"id": c.id, "severity": c.severity.value, "summary": c.summary, "help": c.help}
            for c in CHECKS.values()
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    width = max(len(c) for c in CHECKS)
    for info in CHECKS.values():
        sys.stdout.write(f"{info.id.ljust(width)}  {info.severity.value:<7}  {info.summary}\n")
    return 0
