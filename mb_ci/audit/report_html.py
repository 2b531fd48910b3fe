"""The audit as one self-contained HTML page (``--format html``): the fleet at a glance.

The page itself is :mod:`mb_ci.report.html`'s; this module chooses the columns (workload and
namespace for a pod list), the summary and the badges, and the links: a repository's page and a
commit's page, only when the ``source`` label names a repository on the web and the revision is
a SHA.
"""

from __future__ import annotations

import re

from mb_ci import values
from mb_ci.audit.model import AuditResult, AuditRow
from mb_ci.badges.core import FORGES
from mb_ci.facts import urls
from mb_ci.report import RenderOptions
from mb_ci.report.html import Cell, Column, page
from mb_ci.safety import redact

_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::[0-9]+)?|localhost(?::[0-9]+)?")
_REPO_PATH = re.compile(r"[A-Za-z0-9_.~-]+(?:/[A-Za-z0-9_.~-]+)+")


def links(source: str | None, revision: str | None) -> tuple[str | None, str | None]:
    """``(repository page, commit page)`` for a row, each ``None`` unless plainly on the web."""
    parsed = urls.parse(redact(source)) if source else None
    if (
        parsed is None
        or parsed.transport == "local"
        or not _HOST.fullmatch(parsed.host or "")
        or not _REPO_PATH.fullmatch(parsed.path)
    ):
        return None, None
    repo = parsed.https
    if not repo.startswith(("https://", "http://")):
        return None, None
    commit = None
    if revision and values.is_git_sha(revision) and parsed.host in FORGES:
        # the commit pages the badges link to
        commit = FORGES[parsed.host][0].format(repo=repo, revision=revision.lower())
    return repo, commit


def _findings(row: AuditRow) -> str:
    if row.error:
        return f"could not inspect: {row.error}"
    return " ".join(sorted({f.check for f in row.findings}))


def _cells(row: AuditRow, kube: bool) -> list[Cell]:
    source, revision = row.concepts.get("source"), row.concepts.get("revision")
    repo, commit = links(source, revision)
    cells: list[Cell] = []
    if kube:
        cells += [row.kubernetes.get("namespace"), row.kubernetes.get("workload")]
    cells += [
        row.container,
        row.reference,
        (source or "", repo),
        (revision or "", commit),
        row.concepts.get("version"),
        row.concepts.get("created"),
        row.verdict,
        _findings(row),
    ]
    return cells


def columns(kube: bool, containers: bool) -> list[Column]:
    out = []
    if kube:
        out += [
            Column("namespace", "Namespace", filter=True),
            Column("workload", "Workload", filter=True),
        ]
    if containers or kube:
        out.append(Column("container", "Container", filter=True))
    out += [
        Column("image", "Image", filter=True),
        Column("repository", "Repository", filter=True),
        Column("commit", "Commit", filter=True),
        Column("version", "Version", filter=True),
        Column("created", "Created"),
        Column("verdict", "Verdict", choices=("pass", "fail", "unreadable")),
        Column("findings", "Findings", filter=True),
    ]
    return out


def render(result: AuditResult, options: RenderOptions) -> str:
    rows = result.rows
    kube = any(r.kubernetes for r in rows)
    containers = any(r.container for r in rows)
    cols = columns(kube, containers)
    table = []
    for row in rows:
        cells = _cells(row, kube)
        if not (containers or kube):
            cells.pop(0)  # no container column
        table.append(cells)
    s = result.summary
    commits = {r.concepts.get("revision") for r in rows if r.concepts.get("revision")}
    summary = [
        ("audited", str(s.audited)),
        ("shown", str(len(rows))),
        ("passed", str(s.passed)),
        ("failed", str(s.failed)),
        ("unreadable", str(s.unreadable)),
        ("commits", str(len(commits))),
        ("without origin labels", str(s.no_origin)),
    ]
    if kube:
        summary.insert(2, ("workloads", str(len({r.kubernetes.get("workload") for r in rows}))))
        summary.insert(3, ("distinct images", str(len({r.digest for r in rows if r.digest}))))
    if result.git_head:
        summary.append(("HEAD", result.git_head))
    notes = []
    if result.filters:
        notes.append("filters: " + ", ".join(result.filters))
    if result.shards:
        notes.append("merged from shards " + ", ".join(f"{a}/{b}" for a, b in result.shards))
    ok = result.exit_code() == 0
    badges = [
        ("audit", "passed" if ok else "failed", "44cc11" if ok else "e05d44"),
        ("images", str(s.audited), "007ec6"),
        ("failing", str(s.failed + s.unreadable), "e05d44" if s.failed else "9f9f9f"),
        ("commits", str(len(commits)), "fe7d37"),
    ]
    title = "mb-ci audit: Kubernetes pods" if kube else "mb-ci audit"
    return page(title, summary, badges, cols, table, notes)
