"""``mb-ci lint-dockerfile [PATH...]``: apply the label policy to a Dockerfile before any build."""

from __future__ import annotations

import argparse

from mb_ci.commands import COMMANDS
from mb_ci.commands.common import add_common, emit, emit_many, policy_for
from mb_ci.models import Report
from mb_ci.policy import Policy

NAME = "lint-dockerfile"
HELP = COMMANDS[NAME]
_STREAMABLE = ("text", "github")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        default=["Dockerfile"],
        metavar="PATH",
        help="Dockerfiles to lint (default: Dockerfile)",
    )
    parser.add_argument(
        "--target",
        metavar="STAGE",
        help="lint this stage instead of the last one (as `docker build --target`)",
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    from mb_ci import report as reporting
    from mb_ci.commands.common import parse_reports
    from mb_ci.errors import UsageError

    fmt = reporting.resolve(args.format)
    parse_reports(args.report)  # a bad --report is a usage error before any work is done
    paths = list(dict.fromkeys(args.paths))
    if len(paths) > 1 and (args.output or args.report or fmt not in _STREAMABLE):
        raise UsageError(
            f"{len(paths)} Dockerfiles with --output, --report or --format {fmt}",
            "lint one Dockerfile per run for a report file",
        )
    policy = policy_for(args)
    if len(paths) == 1:
        return emit(lint(paths[0], policy, args.target), args)
    return emit_many([lint(path, policy, args.target) for path in paths], args)


def lint(path: str, policy: Policy, target: str | None = None) -> Report:
    """Read, evaluate and check one Dockerfile: everything but the output."""
    from mb_ci.checks.dockerfile import check_dockerfile
    from mb_ci.dockerfile.parse import evaluate, read
    from mb_ci.models import ImageFacts, PlatformFacts
    from mb_ci.report.locations import relative_to_checkout

    final = evaluate(read(path), target)
    findings, checked = check_dockerfile(final, policy)
    labels = {k: f.value for k, f in final.labels.items()}
    # the final stage's labels, shown by every reporter the way an image's are
    facts = ImageFacts(
        reference=path, transport="dockerfile", platforms=(PlatformFacts(None, labels),)
    )
    return Report(
        command=NAME,
        subject=path,
        findings=findings,
        image=facts,
        checked=checked,
        # reports name the file from the checkout's root, as `check` does: run from a
        # subfolder, `Dockerfile` is `svc/api/Dockerfile` to GitHub and GitLab
        dockerfile=relative_to_checkout(path),
        extra={"stage": final.stage, "base": final.base or "scratch"},
    )
