"""``mb-ci audit``: judge running containers or many image references at once, and filter them."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

from mb_ci.audit import FORMATS
from mb_ci.commands import COMMANDS
from mb_ci.commands.common import add_date

if TYPE_CHECKING:
    from mb_ci.audit.filters import Filters
    from mb_ci.audit.model import AuditResult, AuditRow
    from mb_ci.models import ImageFacts
    from mb_ci.output import OutputOptions
    from mb_ci.sources.kubernetes import PodContainer

NAME = "audit"
HELP = COMMANDS[NAME]


def default_jobs() -> int:
    """Threads mostly wait on the network, so more than the cores; bounded to stay polite."""
    return min(16, 8 * (os.cpu_count() or 1))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ
    what = parser.add_argument_group("what to audit")
    what.add_argument("images", nargs="*", metavar="REF", help="image references, any transport")
    what.add_argument("--running", action="store_true", help="every running container's image")
    what.add_argument(
        "--from-file",
        action="append",
        default=[],
        metavar="FILE",
        help="read references from FILE, one a line, '#' starts a comment ('-': stdin)",
    )
    what.add_argument(
        "--all-tags", action="store_true", help="expand each docker://REGISTRY/REPO to its tags"
    )
    kube = parser.add_argument_group("a Kubernetes cluster's pods (--kubernetes)")
    kube.add_argument(
        "--kubernetes",
        action="store_true",
        help="audit what the pods run: each container's imageID, grouped by workload",
    )
    kube.add_argument(
        "--pods",
        metavar="FILE",
        help="the JSON of kubectl get pods -A -o json ('-': stdin); without it, kubectl is run",
    )
    kube.add_argument("--context", metavar="NAME", help="kubectl's --context (when run)")
    kube.add_argument(
        "--namespace", metavar="NAME", help="kubectl's --namespace (when run; default: all)"
    )
    what.add_argument("--shard", metavar="N/M", help="audit only shard N of M (CI matrix jobs)")
    what.add_argument(
        "--merge",
        nargs="+",
        metavar="FILE",
        help="merge the json or jsonl reports of a sharded audit instead of auditing",
    )
    what.add_argument(
        "--no-base-lookup",
        action="store_true",
        help="never read a base image for label-inherited (no access beyond the images)",
    )
    which = parser.add_argument_group("which images to show")
    which.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="revision=SHA (any >=7-digit abbreviation), source=URL (any spelling), version=, "
        "container=, reference=, namespace=, workload= (Kubernetes), tier= (the revision "
        "label's trust tier: signed, builder-verified, builder-hint, label-only), or a full "
        "label key (repeatable; all must hold)",
    )
    which.add_argument("--since", metavar="WHEN", help="created at or after WHEN (time, date, 7d)")
    which.add_argument("--until", metavar="WHEN", help="created at or before WHEN")
    which.add_argument("--failing", action="store_true", help="show only images that fail")
    out = parser.add_argument_group("output and policy")
    out.add_argument("--format", choices=tuple(FORMATS), default="text")
    out.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    out.add_argument(
        "--report",
        action="append",
        default=[],
        metavar="FORMAT=PATH",
        help=f"also write FORMAT ({', '.join(FORMATS)}) to PATH (repeatable)",
    )
    out.add_argument("--policy", default=env.get("MB_CI_POLICY"), metavar="FILE")
    out.add_argument("--repo", default=env.get("MB_CI_REPO", "."), metavar="DIR")
    out.add_argument(
        "--no-git", action="store_true", help="judge the policy only, even inside a checkout"
    )
    out.add_argument("--strict", action="store_true", help="warnings fail too")
    add_date(out)
    out.add_argument(
        "--report-only", action="store_true", help="exit 0 whatever the findings (still 2 on usage)"
    )
    out.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=default_jobs(),
        metavar="N",
        help=f"images inspected at once (default {default_jobs()})",
    )
    out.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    out.add_argument(
        "--manifest-requests",
        choices=("auto", "head", "get"),
        default="auto",
        help="resolve tags with HEAD before fetching (Docker Hub counts GETs, not HEADs, "
        "against pull limits) or GET each manifest by tag, one round trip fewer; "
        "auto: HEAD on Docker Hub, GET elsewhere (default)",
    )
    from mb_ci.commands.common import add_source_options

    add_source_options(parser)


def _filters(args: argparse.Namespace) -> Filters:
    from mb_ci.audit import filters as audit_filters

    return audit_filters.Filters(
        where=tuple(audit_filters.parse_where(w) for w in args.where),
        since=audit_filters.parse_when(args.since, "--since") if args.since else None,
        until=audit_filters.parse_when(args.until, "--until") if args.until else None,
        failing=args.failing,
    )


def run(args: argparse.Namespace) -> int:
    from mb_ci.audit import filters as audit_filters
    from mb_ci.errors import UsageError
    from mb_ci.output import OutputOptions, emit_audit, parse_audit_reports

    out = OutputOptions(
        format=args.format, output=args.output, reports=parse_audit_reports(args.report)
    )
    filters = _filters(args)
    shard = audit_filters.parse_shard(args.shard) if args.shard else None
    if args.jobs < 1 or args.jobs > 256:
        raise UsageError(f"--jobs {args.jobs}: expected 1 to 256")
    if args.merge:
        if args.images or args.running or args.from_file or shard or args.kubernetes:
            raise UsageError("--merge combines reports; give no references, --running or --shard")
        from mb_ci.audit import merge as audit_merge

        merged = audit_merge.merge([(p, audit_merge.load(p)) for p in args.merge])
        result = replace(
            merged,
            rows=tuple(r for r in merged.rows if audit_filters.matches(r, filters)),
            filters=merged.filters
            + tuple(f for f in filters.describe() if f not in merged.filters),
        )
    else:
        result, code = _audit(args, filters, shard, out)
        if code is not None:
            return code
    emit_audit(result, out)
    return result.exit_code(args.report_only)


def _audit(
    args: argparse.Namespace,
    filters: Filters,
    shard: tuple[int, int] | None,
    out: OutputOptions,
) -> tuple[AuditResult, int | None]:
    """The audited result, or with ``--format jsonl`` the streamed result and its exit code."""
    from mb_ci.audit import filters as audit_filters
    from mb_ci.audit import fleet, kubernetes
    from mb_ci.audit import model as audit
    from mb_ci.commands.common import policy_for, source_options
    from mb_ci.errors import UsageError
    from mb_ci.output import stream_audit
    from mb_ci.pipeline import read_context
    from mb_ci.sources import split_reference

    if "-" in args.from_file and args.password_stdin:
        raise UsageError("--from-file - and --password-stdin both want standard input")
    for ref in args.images:
        split_reference(ref)
    refs = list(args.images)
    for path in args.from_file:
        refs.extend(fleet.read_reference_file(path))
    pods = _pods(args)
    if not refs and not args.running and pods is None:
        raise UsageError(
            "nothing to audit", "give references, --from-file FILE, --running or --kubernetes"
        )
    options = source_options(args)
    policy = policy_for(args)
    # not a checkout: the audit judges the policy only
    git, ci = read_context(args.repo, policy, args.no_git, optional=True)
    head = audit.AuditResult(
        rows=(),
        summary=audit.Summary(),
        shard=shard,
        git_head=git.head if git else None,
        policy=policy.path,
        filters=filters.describe(),
    )
    if pods is not None:
        inspector: fleet.Inspector = kubernetes.PodInspector(pods, options, args.manifest_requests)
    else:
        inspector = fleet.Inspector(options, args.manifest_requests)
    try:
        if args.all_tags:
            refs = inspector.expand_all_tags(refs)
        targets = [audit.Target(r) for r in fleet.unique(refs)]
        del refs
        if args.running:
            targets = inspector.running_targets() + targets
        if pods is not None:
            targets = kubernetes.targets(pods) + targets
        if shard is not None:
            targets = [
                t for t in targets if audit_filters.in_shard(t.container or t.reference, shard)
            ]
        progress = None if args.quiet else Progress(sys.stderr)

        def judge(t: audit.Target, image: ImageFacts) -> AuditRow:
            bases = None
            if not args.no_base_lookup:  # label-inherited: each base read once in the run
                from mb_ci.pipeline import bases_of, with_provenance

                image = with_provenance(image, policy)
                bases = bases_of(image, policy, options)
            return audit.judge(t, image, git, ci, policy, args.strict, bases=bases)

        decide: Callable[[audit.Target, ImageFacts], AuditRow] = judge

        if isinstance(inspector, kubernetes.PodInspector):
            decide = inspector.decide(decide, policy, args.strict)
        rows = _closing(
            audit.each(
                targets,
                inspector,
                decide,
                args.jobs,
                progress,
            ),
            progress,
        )
        if out.format == "jsonl":
            streamed, shown = stream_audit(
                rows, lambda r: audit_filters.matches(r, filters), head, out
            )
            return streamed, audit.exit_code(shown, args.report_only)
        every = sorted(rows, key=audit.AuditRow.key)
    finally:
        inspector.close()
    return replace(
        head,
        rows=tuple(r for r in every if audit_filters.matches(r, filters)),
        summary=audit.Summary.of(every),
    ), None


def _pods(args: argparse.Namespace) -> list[PodContainer] | None:
    """The containers of ``--kubernetes``: ``--pods FILE|-``, or what kubectl prints."""
    from mb_ci.errors import UsageError

    if not args.kubernetes:
        if args.pods or args.context or args.namespace:
            raise UsageError("--pods, --context and --namespace go with --kubernetes")
        return None
    from mb_ci.sources import kubernetes

    if args.pods:
        if args.pods == "-" and ("-" in args.from_file or args.password_stdin):
            raise UsageError("--pods - and another option both want standard input")
        if args.context or args.namespace:
            raise UsageError("--context and --namespace choose what kubectl lists; not with --pods")
        return kubernetes.parse_pods(kubernetes.read_pods(args.pods), f"--pods {args.pods}")
    return kubernetes.parse_pods(
        kubernetes.run_kubectl(args.context, args.namespace), "kubectl get pods"
    )


def _closing(rows: Iterator[AuditRow], progress: Progress | None) -> Iterator[AuditRow]:
    """The rows, then the progress bar cleared, before any summary is written."""
    yield from rows
    if progress is not None:
        progress.close()


class Progress:
    """A bar that redraws itself on a terminal; one plain line per image anywhere else."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.failed = 0
        self.drawn = False

    def __call__(self, done: int, total: int, row: AuditRow) -> None:
        from mb_ci.safety import safe

        self.failed += row.verdict != "pass"
        if self.tty:
            filled = self.WIDTH * done // max(total, 1)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r\x1b[2Kaudit [{bar}] {done}/{total}, {self.failed} not passing")
            self.drawn = True
        else:
            who = row.container or row.reference
            self.stream.write(f"mb-ci audit: {done}/{total} {safe(who, 120)}: {row.verdict}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
