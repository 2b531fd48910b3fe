"""Operational failures: one small hierarchy, each with an exit code and a hint for the user."""

from __future__ import annotations

from collections.abc import Callable

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INSPECT = 3
EXIT_INTERNAL = 4


class MbCiError(Exception):
    """Base of every failure mb-ci reports as one line instead of a traceback."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(MbCiError):
    """The command line or an input value is wrong."""

    exit_code = EXIT_USAGE


class PolicyError(UsageError):
    """The policy file cannot be read or does not validate."""


class InspectError(MbCiError):
    """Something that had to be inspected could not be."""

    exit_code = EXIT_INSPECT


class ImageError(InspectError):
    """The image cannot be found or read."""


class RegistryError(ImageError):
    """A registry refused, failed or answered nonsense."""


class CheckoutError(InspectError):
    """The git checkout cannot be read."""


class ReadmeError(UsageError):
    """The README cannot be updated as asked."""


def handle(call: Callable[[], int], on_failure: Callable[[int, str], None] | None = None) -> int:
    """Run ``call`` and turn every way it can end into an exit code: the one error handler.

    An ``MbCiError`` is one redacted line and its exit code; an interrupt 130; a reader that
    went away (``| head``) 0; anything else a bug: exit 4 and a crash log to paste into an
    issue. ``on_failure(code, message)`` lets a caller report the failure its own way too (the
    Action's error annotation and ``result`` output).
    """
    import os
    import sys

    from mb_ci.safety import printable, redact

    try:
        return call()
    except MbCiError as e:
        sys.stderr.write(f"mb-ci: error: {printable(redact(str(e)), 1000)}\n")
        code, message = e.exit_code, str(e)
    except KeyboardInterrupt:
        sys.stderr.write("mb-ci: interrupted\n")
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:  # the one place that turns a bug into exit 4 and a log to paste
        code, message = _crash(e), f"internal error: {type(e).__name__}: {e}"
    if on_failure is not None:
        on_failure(code, message)
    return code


def _crash(error: Exception) -> int:
    import os
    import sys
    import tempfile
    import traceback

    from mb_ci import __version__
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
