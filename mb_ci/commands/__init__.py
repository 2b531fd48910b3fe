"""One module per subcommand; each has ``NAME``, ``HELP``, ``add_arguments`` and ``run``."""

COMMANDS: tuple[str, ...] = (
    "check",
    "labels",
    "policy",
    "checks",
    "audit",
    "badges",
    "lint-dockerfile",
    "build",
)
