"""Audit many images: inspect them with bounded concurrency, check each, filter and summarise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from mb_ci.errors import EXIT_FINDINGS, EXIT_INSPECT, EXIT_OK, MbCiError
from mb_ci.models import (
    BaseImage,
    CiFacts,
    Finding,
    GitFacts,
    ImageFacts,
    PlatformFacts,
    Severity,
)
from mb_ci.policy import Policy
from mb_ci.vocab import CONCEPTS

SCHEMA = "mb-ci/audit"
VERSION = 1
SHOWN_CONCEPTS = ("revision", "source", "version", "created")


@dataclass(frozen=True)
class Target:
    """One thing to audit: an image reference, and the container running it (``--running``)."""

    reference: str
    container: str | None = None
    dangling: bool = False
    # namespace, workload, pod, container, kind, spec_image, image_id, phase, started
    kubernetes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRow:
    """The verdict on one image (or one container's image)."""

    reference: str
    verdict: str  # pass | fail | unreadable
    container: str | None = None
    image_id: str | None = None
    digest: str | None = None
    platforms: tuple[str, ...] = ()
    concepts: Mapping[str, str | None] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    dangling: bool = False
    kubernetes: Mapping[str, str] = field(default_factory=dict)
    tier: str | None = None  # the revision label's trust tier (mb_ci/provenance); None: unjudged

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)

    @property
    def no_origin(self) -> bool:
        """Readable, but carries neither a revision nor a source in either vocabulary."""
        return self.verdict != "unreadable" and not (
            self.concepts.get("revision") or self.concepts.get("source")
        )

    def key(self) -> tuple[str, str]:
        return (self.container or "", self.reference)


@dataclass(frozen=True)
class Summary:
    audited: int = 0
    passed: int = 0
    failed: int = 0
    unreadable: int = 0
    dangling: int = 0
    no_origin: int = 0

    @classmethod
    def of(cls, rows: Iterable[AuditRow]) -> Summary:
        rows = list(rows)
        return cls(
            audited=len(rows),
            passed=sum(r.verdict == "pass" for r in rows),
            failed=sum(r.verdict == "fail" for r in rows),
            unreadable=sum(r.verdict == "unreadable" for r in rows),
            dangling=sum(r.dangling for r in rows),
            no_origin=sum(r.no_origin for r in rows),
        )

    def __add__(self, other: Summary) -> Summary:
        return Summary(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.audited,
            self.passed,
            self.failed,
            self.unreadable,
            self.dangling,
            self.no_origin,
        )


@dataclass(frozen=True)
class AuditResult:
    """The shown rows, the summary over every audited image, and how the audit was run."""

    rows: tuple[AuditRow, ...]
    summary: Summary
    shard: tuple[int, int] | None = None
    shards: tuple[tuple[int, int], ...] = ()
    git_head: str | None = None
    policy: str | None = None
    filters: tuple[str, ...] = ()

    def exit_code(self, report_only: bool = False) -> int:
        """1 when a shown image fails, else 3 when one could not be inspected, else 0.

        Judged on the shown rows: the filters say which images the question is about.
        """
        return exit_code(Summary.of(self.rows), report_only)


def exit_code(shown: Summary, report_only: bool = False) -> int:
    """The audit's exit code from the counts of the shown rows (see ``AuditResult``)."""
    if report_only:
        return EXIT_OK
    if shown.failed:
        return EXIT_FINDINGS
    return EXIT_INSPECT if shown.unreadable else EXIT_OK


# --- building rows ------------------------------------------------------------------------


def concept_values(image: ImageFacts) -> dict[str, str | None]:
    """Revision, source, version and created as the image states them (OCI key first)."""
    out: dict[str, str | None] = {}
    for concept in SHOWN_CONCEPTS:
        out[concept] = None
        for platform in image.platforms:
            merged = {**image.index_annotations, **platform.annotations, **platform.labels}
            value = next((merged[k] for k in CONCEPTS[concept] if merged.get(k)), None)
            if value:
                out[concept] = value
                break
    return out


def judge(
    target: Target,
    image: ImageFacts,
    git: GitFacts | None,
    ci: CiFacts,
    policy: Policy,
    strict: bool = False,
    now: dt.datetime | None = None,
    bases: Mapping[str | None, BaseImage] | None = None,
) -> AuditRow:
    from mb_ci.pipeline import check, with_provenance

    image = with_provenance(image, policy)
    result = check(image, git, ci, policy, now, bases=bases)
    errors = any(f.severity is Severity.ERROR for f in result.findings)
    warnings = any(f.severity is Severity.WARNING for f in result.findings)
    first = image.platforms[0] if image.platforms else None
    return AuditRow(
        reference=target.reference,
        verdict="fail" if errors or (strict and warnings) else "pass",
        container=target.container,
        image_id=image.image_id,
        digest=image.digest,
        platforms=tuple(p.name for p in image.platforms),
        concepts=concept_values(image),
        labels=dict(first.labels) if first else {},
        findings=result.findings,
        dangling=target.dangling,
        kubernetes=target.kubernetes,
        tier=revision_tier(first),
    )


def revision_tier(platform: PlatformFacts | None) -> str | None:
    """The tier of the platform's revision label (either vocabulary); ``None`` unjudged."""
    if platform is None or platform.provenance is None:
        return None
    key = next((k for k in CONCEPTS["revision"] if k in platform.labels), None)
    return platform.provenance.tier_of(key) if key else "label-only"


def unreadable(target: Target, error: MbCiError) -> AuditRow:
    return AuditRow(
        target.reference,
        "unreadable",
        target.container,
        error=str(error),
        kubernetes=target.kubernetes,
    )


def each(
    targets: Sequence[Target],
    inspect: Callable[[Target], ImageFacts],
    decide: Callable[[Target, ImageFacts], AuditRow],
    jobs: int,
    progress: Callable[[int, int, AuditRow], None] | None = None,
) -> Iterator[AuditRow]:
    """Inspect and judge every target on at most ``jobs`` threads; rows as they are judged.

    At most ``2 * jobs`` targets are submitted at once, so the rows and futures in flight do
    not grow with the number of targets: a caller that writes each row away (``--format
    jsonl``) audits any number of images in bounded memory.
    """

    def one(target: Target) -> AuditRow:
        try:
            return decide(target, inspect(target))
        except MbCiError as e:
            return unreadable(target, e)

    queue = iter(targets)
    limit = 2 * max(1, jobs)
    pending: set[Future[AuditRow]] = set()
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="mb-ci-audit") as pool:
        try:
            while True:
                pending.update(pool.submit(one, t) for t in islice(queue, limit - len(pending)))
                if not pending:
                    break
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    row = future.result()
                    done += 1
                    if progress is not None:
                        progress(done, len(targets), row)
                    yield row
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def run(
    targets: Sequence[Target],
    inspect: Callable[[Target], ImageFacts],
    decide: Callable[[Target, ImageFacts], AuditRow],
    jobs: int,
    progress: Callable[[int, int, AuditRow], None] | None = None,
) -> list[AuditRow]:
    """Every row of :func:`each`, sorted."""
    return sorted(each(targets, inspect, decide, jobs, progress), key=AuditRow.key)


# --- JSON round trip (for --merge) -----------------------------------------------------------


def row_dict(row: AuditRow) -> dict[str, Any]:
    from mb_ci.safety import redact

    return {
        "reference": redact(row.reference),
        "container": row.container,
        "verdict": row.verdict,
        "image_id": row.image_id,
        "digest": row.digest,
        "platforms": list(row.platforms),
        **{c: (redact(v) if v else v) for c, v in row.concepts.items()},
        "errors": row.errors,
        "warnings": row.warnings,
        "dangling": row.dangling,
        "no_origin": row.no_origin,
        "tier": row.tier,
        "error": redact(row.error) if row.error else None,
        "labels": {k: redact(v) for k, v in sorted(row.labels.items())},
        "findings": [f.redacted_dict() for f in row.findings],
        # only for a pod's container (audit --kubernetes)
        **(
            {"kubernetes": {k: redact(v) for k, v in row.kubernetes.items()}}
            if row.kubernetes
            else {}
        ),
    }


def row_from_dict(data: Mapping[str, Any]) -> AuditRow:
    findings = tuple(
        Finding(
            f["check"],
            Severity(f["severity"]),
            f["message"],
            f.get("label"),
            f.get("expected"),
            f.get("actual"),
            f.get("platform"),
            f.get("line"),
            f.get("detail") or {},
        )
        for f in data.get("findings") or ()
    )
    return AuditRow(
        reference=data["reference"],
        verdict=data["verdict"],
        container=data.get("container"),
        image_id=data.get("image_id"),
        digest=data.get("digest"),
        platforms=tuple(data.get("platforms") or ()),
        # an unreadable row has no concepts, and its JSON none of their keys
        concepts={c: data.get(c) for c in SHOWN_CONCEPTS if c in data},
        labels=dict(data.get("labels") or {}),
        findings=findings,
        error=data.get("error"),
        dangling=bool(data.get("dangling")),
        kubernetes={
            str(k): str(v) for k, v in (data.get("kubernetes") or {}).items() if v is not None
        },
        tier=data.get("tier"),
    )
