"""Merge the reports of a sharded audit (``--shard N/M`` in CI matrix jobs) into one.

Each report may be ``--format json`` (one envelope) or ``--format jsonl`` (one image a line,
then the envelope without ``images``): both carry the same rows and summary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mb_ci.audit.model import SCHEMA, VERSION, AuditResult, AuditRow, Summary, row_from_dict
from mb_ci.errors import UsageError

MAX_REPORT_BYTES = 256 * 1024 * 1024
_COUNTS = ("audited", "passed", "failed", "unreadable", "dangling", "no_origin")


def load(path: str) -> dict[str, Any]:
    """A parsed ``mb-ci/audit`` envelope, or a one-line error naming the file and the fix."""
    from mb_ci.fsutil import read_bounded

    raw = read_bounded(path, MAX_REPORT_BYTES, UsageError, label=f"--merge {path}")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        if e.msg != "Extra data":
            raise _not_json(path, e) from e
        data = _from_lines(path, raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise _not_json(path, e) from e
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise UsageError(
            f"--merge {path}: not an mb-ci audit report (schema is not '{SCHEMA}')",
            "write it with `mb-ci audit --format json`",
        )
    if data.get("version") != VERSION:
        raise UsageError(
            f"--merge {path}: audit report version {data.get('version')!r} is not {VERSION}",
            "merge reports written by the same mb-ci release",
        )
    return data


def _not_json(path: str, error: Exception) -> UsageError:
    return UsageError(
        f"--merge {path}: not JSON: {error}",
        "pass audit reports written with --format json or --format jsonl",
    )


def _from_lines(path: str, raw: bytes | str) -> Any:
    """A ``--format jsonl`` report as the envelope ``--format json`` writes: the last line is
    the head, every line before it one image."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    items = []
    for number, line in lines:
        try:
            items.append(json.loads(line))
        except ValueError as e:
            raise UsageError(
                f"--merge {path}:{number}: not a JSON line: {e}",
                "pass audit reports written with --format json or --format jsonl",
            ) from e
    head = items.pop() if items else None
    if not isinstance(head, dict) or "images" in head:
        return head  # load() names what is wrong with it
    head["images"] = items
    return head


def _shard(text: Any, path: str) -> tuple[int, int] | None:
    if text is None:
        return None
    n, _, m = str(text).partition("/")
    if not (n.isdigit() and m.isdigit()):
        raise UsageError(f"--merge {path}: shard {text!r} is not N/M")
    return int(n), int(m)


def merge(documents: Sequence[tuple[str, dict[str, Any]]]) -> AuditResult:
    """One result from several reports: rows joined and sorted, summaries added up.

    When the reports come from ``--shard``, every shard 1..M must be there exactly once, so a
    failed or forgotten matrix job cannot pass unnoticed.
    """
    rows: dict[tuple[str, str], tuple[str, AuditRow]] = {}
    summary = Summary()
    shards: list[tuple[int, int]] = []
    filters: list[str] = []
    git_head = policy = None
    for path, data in documents:
        try:
            counts = data.get("summary") or {}
            summary = summary + Summary(*(int(counts.get(k, 0)) for k in _COUNTS))
            for item in data.get("images") or ():
                row = row_from_dict(item)
                if row.key() in rows:
                    raise UsageError(
                        f"--merge {path}: {row.reference} is also in {rows[row.key()][0]}",
                        "merge the reports of one sharded audit, each once",
                    )
                rows[row.key()] = (path, row)
        except (KeyError, TypeError, ValueError) as e:
            raise UsageError(f"--merge {path}: malformed audit report ({e})") from e
        shard = _shard(data.get("shard"), path)
        if shard is not None:
            shards.append(shard)
        filters.extend(f for f in data.get("filters") or () if f not in filters)
        git_head = git_head or data.get("git_head")
        policy = policy or data.get("policy")
    _check_shards(shards, len(documents))
    return AuditResult(
        rows=tuple(sorted((row for _, row in rows.values()), key=AuditRow.key)),
        summary=summary,
        shards=tuple(sorted(shards)),
        git_head=git_head,
        policy=policy,
        filters=tuple(filters),
    )


def _check_shards(shards: list[tuple[int, int]], documents: int) -> None:
    if not shards:
        return
    if len(shards) != documents:
        raise UsageError("--merge: some reports are shards and some are not")
    counts = {m for _, m in shards}
    if len(counts) != 1:
        raise UsageError(f"--merge: shards of different splits ({', '.join(map(str, counts))})")
    total = counts.pop()
    seen = [n for n, _ in shards]
    missing = [f"{n}/{total}" for n in range(1, total + 1) if n not in seen]
    twice = sorted({f"{n}/{total}" for n in seen if seen.count(n) > 1})
    if twice:
        raise UsageError(f"--merge: shard {', '.join(twice)} given more than once")
    if missing:
        raise UsageError(
            f"--merge: shard {', '.join(missing)} missing", "pass every matrix job's report"
        )
