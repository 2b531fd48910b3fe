"""Operational failures: one small hierarchy, each with an exit code and a hint for the user."""

from __future__ import annotations

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
