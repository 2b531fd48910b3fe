"""The command line: parse argv, run one subcommand, map every failure to a documented exit code."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from mb_ci import __version__
from mb_ci.commands import COMMANDS
from mb_ci.errors import EXIT_USAGE

EPILOG = """\
exit codes: 0 passed, 1 error-level findings, 2 usage or policy error,
            3 could not inspect (image, engine, registry or checkout), 4 internal error
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"mb-ci: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"mb_ci.commands.{name.replace('-', '_')}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that subcommand's options are built (and imported)."""
    parser = _Parser(
        prog="mb-ci",
        description="Check that a container image's labels tell the truth about the git "
        "checkout it was built from.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mb-ci {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in COMMANDS.items():
        cmd = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if only is None or only == name:
            module = _module(name)
            module.add_arguments(cmd)
            cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list == ["--version"]:
        # answered before the parser imports every command: start-up stays near bare Python
        sys.stdout.write(f"mb-ci {__version__}\n")
        return 0
    # build only the chosen command's options: the others' imports are not paid for
    chosen = args_list[0] if args_list and args_list[0] in COMMANDS else None
    parser = build_parser(only=chosen) if chosen else build_parser(only="")
    try:
        args = parser.parse_args(args_list)
    except SystemExit as e:
        return int(e.code or 0) if isinstance(e.code, int) else EXIT_USAGE
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from mb_ci.errors import handle

    return handle(lambda: int(args._run(args)))
