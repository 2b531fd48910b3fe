"""The audit's JSON report: a stable envelope (``schema: mb-ci/audit``, ``version: 1``)."""

from __future__ import annotations

from typing import Any

from mb_ci import __version__
from mb_ci.audit.model import SCHEMA, VERSION, AuditResult, row_dict
from mb_ci.report import RenderOptions
from mb_ci.safety import json_dumps


def _shard(shard: tuple[int, int] | None) -> str | None:
    return None if shard is None else f"{shard[0]}/{shard[1]}"


def envelope(result: AuditResult) -> dict[str, Any]:
    s = result.summary
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "tool": {"name": "mb-ci", "version": __version__},
        "command": "audit",
        "result": "pass" if result.exit_code() == 0 else "fail",
        "summary": {
            "audited": s.audited,
            "passed": s.passed,
            "failed": s.failed,
            "unreadable": s.unreadable,
            "dangling": s.dangling,
            "no_origin": s.no_origin,
            "shown": len(result.rows),
        },
        "shard": _shard(result.shard),
        "shards": [_shard(x) for x in result.shards],
        "git_head": result.git_head,
        "policy": result.policy,
        "filters": list(result.filters),
        "images": [row_dict(r) for r in result.rows],
    }


def render(result: AuditResult, options: RenderOptions) -> str:
    return json_dumps(envelope(result))
