"""Audit results in memory: a fleet of pods of any size, hostile labels included, and headless
Chromium to look at the pages they render to.

``fleet(n)`` spreads ``n`` containers over workloads, namespaces, commits and verdicts in a fixed
pattern, so a test knows how many rows a filter must leave. ``chromium(...)`` runs Debian's
chromium with the flags the testbed documents and a fresh profile.
"""

from __future__ import annotations

from mb_ci.audit.model import AuditResult, AuditRow, Summary
from mb_ci.models import Finding, Severity

SOURCE = "https://github.com/acme/widget"
WORKLOADS = (
    "Deployment/web",
    "Deployment/api",
    "StatefulSet/db",
    "DaemonSet/agent",
    "CronJob/report",
)
NAMESPACES = ("shop", "payments", "ops")
COMMITS = tuple(f"{n:x}" * 40 for n in range(1, 6))
COMMITS = tuple(c[:40] for c in COMMITS)


def row(n: int) -> AuditRow:
    """Row ``n``: workload ``n % 5``, namespace ``n % 3``, commit ``n % 5``; every 4th fails."""
    workload = WORKLOADS[n % len(WORKLOADS)]
    namespace = NAMESPACES[n % len(NAMESPACES)]
    revision = COMMITS[n % len(COMMITS)]
    fails = n % 4 == 0
    findings = (
        (
            Finding(
                "revision-matches-head",
                Severity.ERROR,
                "revision is not HEAD",
                "org.opencontainers.image.revision",
            ),
        )
        if fails
        else ()
    )
    pod = f"{workload.split('/')[1]}-{n:05d}"
    return AuditRow(
        reference=f"docker://registry.example/acme/{workload.split('/')[1]}@sha256:{n:064x}",
        verdict="fail" if fails else "pass",
        container=f"{namespace}/{pod}/main",
        digest=f"sha256:{n:064x}",
        concepts={
            "revision": revision,
            "source": SOURCE,
            "version": f"1.{n % 7}.0",
            "created": "2026-11-28T08:00:00Z",
        },
        findings=findings,
        kubernetes={"namespace": namespace, "workload": workload, "pod": pod, "container": "main"},
    )


def fleet(n: int, extra: tuple[AuditRow, ...] = ()) -> AuditResult:
    rows = tuple(row(i) for i in range(n)) + extra
    return AuditResult(rows=rows, summary=Summary.of(rows), git_head=COMMITS[0])
