"""One module per subcommand; each has ``NAME``, ``HELP``, ``add_arguments`` and ``run``.

The one-line help of every command lives here too, so that ``mb-ci --help`` can list them all
without importing any command module, and ``mb-ci check ...`` imports only ``check``.
"""

COMMANDS: dict[str, str] = {
    "check": "check an image's labels against the git checkout and the policy",
    "labels": "print the labels this checkout should carry (json, build-args, env, github)",
    "policy": "validate a policy file, or print its JSON Schema",
    "checks": "list the check ids a policy can set severities for",
    "audit": "audit running containers or many images: labels, verdicts, filters, JSON/CSV",
    "badges": "write image, version, commit, license and created badges (shields.io URLs or SVG)",
    "lint-dockerfile": "check the LABELs of a Dockerfile's final stage against the policy "
    "(no build needed)",
    "build": "build an image with truthful labels derived from git, then check it like `check`",
}
