"""The command line: parse argv, run one subcommand, map every failure to a documented exit code."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from mb_ci import __version__
from mb_ci.commands import COMMANDS
from mb_ci.errors import EXIT_INTERNAL, EXIT_USAGE, MbCiError

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
    from mb_ci.safety import printable, redact

    try:
        code: int = args._run(args)
        return code
    except MbCiError as e:
        sys.stderr.write(f"mb-ci: error: {printable(redact(str(e)), 1000)}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("mb-ci: interrupted\n")
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as e:  # the one place that turns a bug into exit 4 and a log to paste
        return _crash(e)


def _crash(error: Exception) -> int:
    import tempfile
    import traceback

    from mb_ci.safety import redact, safe

    text = redact("".join(traceback.format_exception(error)))
    try:
        fd, path = tempfile.mkstemp(prefix="mb-ci-crash-", suffix=".log")
        with os.fdopen(fd, "w") as fh:
            fh.write(f"mb-ci {__version__} on Python {sys.version.split()[0]}\n")
            fh.write(f"argv: {redact(' '.join(sys.argv))}\n\n{text}")
        where = f"; details in {path} (please attach it to an issue)"
    except OSError:
        where = ""
    sys.stderr.write(f"mb-ci: internal error: {type(error).__name__}: {safe(str(error))}{where}\n")
    return EXIT_INTERNAL
