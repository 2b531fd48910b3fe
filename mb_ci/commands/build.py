"""``mb-ci build [CONTEXT] -t TAG``: build with labels derived from git, then check the result."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from mb_ci.commands import COMMANDS
from mb_ci.commands.common import add_common, output_options

if TYPE_CHECKING:
    from mb_ci.dockerfile.parse import LabelFact
    from mb_ci.models import GitFacts

NAME = "build"
HELP = COMMANDS[NAME]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "context", nargs="?", default=".", metavar="CONTEXT", help="build context (default: .)"
    )
    group = parser.add_argument_group("build")
    group.add_argument(
        "-t", "--tag", action="append", required=True, metavar="TAG", help="name:tag (repeatable)"
    )
    group.add_argument(
        "-f", "--file", metavar="PATH", help="the Dockerfile (default: CONTEXT/Dockerfile)"
    )
    group.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a build argument; wins over the BUILD_DATE/VCS_REF/VCS_URL/VERSION mb-ci passes",
    )
    group.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label; wins over the labels derived from git (with a warning if they differ)",
    )
    group.add_argument("--target", metavar="STAGE", help="build this stage")
    group.add_argument(
        "--platform", metavar="OS/ARCH[/VARIANT]", help="target platform, if the engine can"
    )
    group.add_argument("--pull", action="store_true", help="always pull newer base images")
    group.add_argument("--no-cache", action="store_true", help="do not use the build cache")
    group.add_argument(
        "--created",
        metavar="WHEN",
        help="'now', 'commit', or an RFC 3339 time (default: $SOURCE_DATE_EPOCH, else the "
        "commit time)",
    )
    add_common(parser)


def parse_pairs(items: list[str], option: str) -> dict[str, str]:
    from mb_ci.errors import UsageError

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} {item}: expected KEY=VALUE")
        out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    from mb_ci import output, pipeline
    from mb_ci.build.engine import BuildRequest, build
    from mb_ci.commands.common import policy_for
    from mb_ci.dockerfile.parse import evaluate, read
    from mb_ci.errors import ImageError
    from mb_ci.facts import derive as generate
    from mb_ci.sources import daemon

    out = output_options(args)  # usage errors before any work is done
    user_labels = parse_pairs(args.label, "--label")
    user_args = parse_pairs(args.build_arg, "--build-arg")
    policy = policy_for(args)
    git, ci = pipeline.read_checkout(args.repo, policy)
    dockerfile = args.file or os.path.join(args.context, "Dockerfile")
    parsed = read(dockerfile)
    final = evaluate(parsed, args.target)
    values = generate.values_for(git, ci, policy.git, args.created, os.environ)
    if "version" not in values and not _sets_version(final.labels):
        values["version"] = fallback_version(git)
    preset = policy.preset if policy.preset in ("label-schema", "both") else "oci"
    derived = generate.labels(values, preset)
    for key, value in user_labels.items():
        _warn_if_contradicts(key, value, derived)
    declared = parsed.declared_args()
    build_args = {
        generate.BUILD_ARGS[c]: v for c, v in values.items() if generate.BUILD_ARGS[c] in declared
    }
    request = BuildRequest(
        context=args.context,
        dockerfile=dockerfile,
        tags=tuple(args.tag),
        build_args={**build_args, **user_args},
        labels={**derived, **user_labels},
        target=args.target,
        platform=args.platform,
        pull=args.pull,
        no_cache=args.no_cache,
    )
    image_id = build(request, sys.stderr)
    image = daemon.inspect(args.tag[0])
    built = image_id.removeprefix("sha256:")
    if image.image_id and not image.image_id.removeprefix("sha256:").startswith(built):
        raise ImageError(f"{args.tag[0]} was re-tagged while mb-ci checked it", "build again")
    report = pipeline.report(NAME, args.tag[0], image, git, ci, policy, dockerfile, args.target)
    return output.emit(report, out)


def _sets_version(labels: Mapping[str, LabelFact]) -> bool:
    """Whether the Dockerfile gives the version itself (not from a build argument)."""
    from mb_ci.vocab import CONCEPTS

    return any(key in labels and not labels[key].build_time for key in CONCEPTS["version"])


def fallback_version(git: GitFacts) -> str:
    """Without a tag at HEAD: the branch name, else the short SHA (docker/metadata-action's way)."""
    return git.branch or git.head[:7]


def _warn_if_contradicts(key: str, value: str, derived: Mapping[str, str]) -> None:
    from mb_ci.checks.labels import same_value
    from mb_ci.safety import printable, redact
    from mb_ci.vocab import concept_of

    if key in derived and not same_value(concept_of(key), value, derived[key]):
        sys.stderr.write(
            f"mb-ci: warning: --label {printable(redact(key), 200)}="
            f"{printable(redact(value), 200)} contradicts git ({printable(derived[key], 200)}); "
            "the image gets the value you gave\n"
        )
