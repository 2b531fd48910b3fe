"""The JSON report: a stable, versioned envelope (``schema: mb-ci/report``, ``version: 1``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mb_ci import __version__
from mb_ci.models import Finding, GitFacts, ImageFacts, PlatformFacts, Report
from mb_ci.report import RenderOptions
from mb_ci.report.locations import place
from mb_ci.report.tiers import finding_tier, label_tiers
from mb_ci.safety import json_dumps, redact

ENVELOPE_VERSION = 1


def _clean(mapping: Mapping[str, str]) -> dict[str, str]:
    return {k: redact(v) for k, v in sorted(mapping.items())}


def image_dict(image: ImageFacts) -> dict[str, Any]:
    return {
        "reference": redact(image.reference),
        "transport": image.transport,
        "id": image.image_id,
        "digest": image.digest,
        "index_annotations": _clean(image.index_annotations),
        "skipped": list(image.skipped),
        "platforms": [
            {
                "platform": p.platform,
                "digest": p.digest,
                "config_digest": p.config_digest,
                "labels": _clean(p.labels),
                "annotations": _clean(p.annotations),
                "layers": p.layer_count,
                "compressed_size": p.compressed_size,
                **_provenance(p),
            }
            for p in image.platforms
        ],
    }


def _provenance(p: PlatformFacts) -> dict[str, Any]:
    """``provenance`` and ``tiers`` (per label), present once provenance was judged."""
    tiers = label_tiers(p)
    if p.provenance is None or tiers is None:
        return {}
    return {"provenance": p.provenance.summary(), "tiers": dict(sorted(tiers.items()))}


def git_dict(git: GitFacts) -> dict[str, Any]:
    return {
        "root": git.root,
        "head": git.head,
        "commit_time": git.commit_time.isoformat(),
        "remote": git.remote_name,
        "remote_url": redact(git.remote_url) if git.remote_url else None,
        "remote_normalized": git.remote_normalized,
        "tags": list(git.tags),
        "dirty": git.dirty,
        "shallow": git.shallow,
        "detached": git.detached,
        "branch": git.branch,
    }


def finding_dict(finding: Finding, report: Report | None = None) -> dict[str, Any]:
    """The finding; ``file`` names the file ``line`` is in (the Dockerfile, or the policy)."""
    data = finding.redacted_dict()
    if report is not None:
        data["file"], data["line"] = place(finding, report)
        tier = finding_tier(finding, report)
        if tier is not None:
            data["tier"] = tier
    return data


def envelope(report: Report, options: RenderOptions) -> dict[str, Any]:
    ci = report.ci
    return {
        "schema": "mb-ci/report",
        "version": ENVELOPE_VERSION,
        "tool": {"name": "mb-ci", "version": __version__},
        "command": report.command,
        "subject": redact(report.subject),
        "result": "pass" if report.passed(options.strict) else "fail",
        "summary": {
            "errors": report.errors,
            "warnings": report.warnings,
            "info": len(report.findings) - report.errors - report.warnings,
        },
        "matched_commit": report.matched_commit,
        "image": image_dict(report.image) if report.image else None,
        "git": git_dict(report.git) if report.git else None,
        "ci": None
        if ci is None or not ci.provider
        else {
            "provider": ci.provider,
            "sha": ci.sha,
            "pr_head_sha": ci.pr_head_sha,
            "pr_merge_sha": ci.pr_merge_sha,
            "event": ci.event,
            "ref_name": ci.ref_name,
            "repository_url": ci.repository_url,
        },
        "checked": list(report.checked),
        "findings": [finding_dict(f, report) for f in report.findings],
        **({"extra": dict(report.extra)} if report.extra else {}),
    }


def render(report: Report, options: RenderOptions) -> str:
    return json_dumps(envelope(report, options))
