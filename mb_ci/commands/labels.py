"""``mb-ci labels``: print the labels the current checkout should carry, for any builder."""

from __future__ import annotations

import argparse
import json
import os
import sys

from mb_ci.commands import COMMANDS

NAME = "labels"
HELP = COMMANDS[NAME]
FORMATS = ("json", "build-args", "env", "github")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="json")
    parser.add_argument(
        "--created",
        metavar="WHEN",
        help="'now', 'commit', or an RFC 3339 time (default: $SOURCE_DATE_EPOCH, "
        "else the commit time, which keeps builds reproducible)",
    )
    parser.add_argument(
        "--preset",
        choices=("oci", "label-schema", "both"),
        help="vocabulary to emit (default: the policy's preset)",
    )
    parser.add_argument("--repo", default=os.environ.get("MB_CI_REPO", "."), metavar="DIR")
    parser.add_argument("--policy", default=os.environ.get("MB_CI_POLICY"), metavar="FILE")
    parser.add_argument("--output", "-o", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from mb_ci.commands.common import policy_for
    from mb_ci.facts import ci as ci_env
    from mb_ci.facts import derive as generate
    from mb_ci.facts import git as gitfacts
    from mb_ci.fsutil import write_text

    policy = policy_for(args)
    ci = ci_env.read(os.environ)
    git = gitfacts.read(args.repo, policy.git.remote, ci)
    ci = ci_env.resolve(ci, git)
    for problem in ci.problems:
        sys.stderr.write(f"mb-ci: warning: {problem}; labelling HEAD\n")
    # the commit `check` accepts in this CI context, and created from that commit's time
    revision, commit_time = generate.revision(git, ci, policy.git.accept)
    created = generate.created_time(args.created, git, os.environ, commit_time=commit_time)
    values = generate.concepts(
        git,
        created,
        ci.repository_url,
        revision,
        allow_v_prefix=policy.git.allow_v_prefix,
        ref_name=ci.ref_name,
    )
    generate.warn_no_source(values, policy.git.remote)
    preset = args.preset or policy.preset
    lbls = generate.labels(values, preset)
    if args.format == "json":
        text = json.dumps(lbls, indent=2) + "\n"
    elif args.format == "build-args":
        text = generate.as_build_args(lbls)
    elif args.format == "env":
        text = generate.as_env(values)
    else:
        text = generate.as_github_output(values, lbls)
    if args.output:
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
