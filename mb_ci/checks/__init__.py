"""The checks: pure functions from image, git and CI facts plus the policy to findings."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mb_ci.checks.base import Findings
from mb_ci.checks.gates import check_gates
from mb_ci.checks.git import check_event, check_git
from mb_ci.checks.labels import check_labels, same_value
from mb_ci.checks.provenance import check_provenance
from mb_ci.models import (
    BaseImage,
    CiFacts,
    Finding,
    GitFacts,
    ImageFacts,
    LicenceFacts,
    PlatformFacts,
)
from mb_ci.policy import Policy
from mb_ci.vocab import CONCEPTS, OCI, concept_of

if TYPE_CHECKING:
    from mb_ci.dockerfile.parse import FinalStage

__all__ = ["CheckResult", "check_image", "effective_labels"]


@dataclass(frozen=True)
class CheckResult:
    findings: tuple[Finding, ...]
    matched_commit: str | None
    checked: tuple[str, ...]


def effective_labels(image: ImageFacts, platform: PlatformFacts, mode: str) -> dict[str, str]:
    """The key/value pairs the policy judges for one platform.

    ``labels`` reads config labels only; ``annotations`` reads manifest and index annotations
    only; ``either`` takes a config label and falls back to an annotation; ``both`` is judged on
    labels here, and the presence in annotations is checked by :func:`_both`.
    """
    annotations = {**image.index_annotations, **platform.annotations}
    if mode == "annotations":
        return annotations
    if mode == "either":
        return {**annotations, **platform.labels}
    return dict(platform.labels)


def check_image(
    image: ImageFacts,
    git: GitFacts | None,
    ci: CiFacts,
    policy: Policy,
    now: dt.datetime | None = None,
    declared: FinalStage | None = None,
    bases: Mapping[str | None, BaseImage] | None = None,
    licence: LicenceFacts | None = None,
) -> CheckResult:
    """Every check of one image; ``declared`` is the Dockerfile's final stage (``--dockerfile``)
    whose ``LABEL`` values the image's labels are compared with; ``bases`` are the base images
    found for each platform (by platform name), for ``label-inherited``; ``licence`` is what the
    checkout's licence files say, for ``licence-matches-repo``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if policy.as_of is None:  # `effective_on` is judged as of the day of the check's clock
        policy = dataclasses.replace(policy, as_of=now.date())
    findings: list[Finding] = []
    checked: list[str] = []
    matched: str | None = None
    multi = image.multi_platform
    for platform in image.platforms:
        out = Findings(policy, platform.platform if multi else None)
        labels = effective_labels(image, platform, policy.annotations)
        check_labels(labels, out)
        if policy.annotations in ("both", "either"):
            _annotations_agree(image, platform, policy.annotations, out)
        from mb_ci.checks.parity import check_parity

        check_parity(image, platform, out)
        matched = check_git(labels, git, ci, now, out) or matched
        check_gates(image, platform, out)
        check_provenance(platform, labels, out)
        if declared is not None:
            from mb_ci.checks.declared import check_declared

            check_declared(declared, platform.labels, out)
        if licence is not None:
            from mb_ci.checks.licence import check_licence

            check_licence(labels, licence, out)
        base = (bases or {}).get(platform.platform)
        if base is not None:
            from mb_ci.checks.inheritance import check_inherited

            lines = {} if declared is None else _own_lines(declared)
            check_inherited(platform, base, lines, out)
        findings.extend(out.items)
        checked.extend(c for c in out.checked if c not in checked)
    out = Findings(policy)
    first = image.platforms[0] if image.platforms else None
    check_event(first.labels if first else {}, git, ci, out)
    findings.extend(out.items)
    checked.extend(c for c in out.checked if c not in checked)
    if multi:
        out = Findings(policy)
        _platforms_agree(image, out)
        findings.extend(out.items)
        checked.extend(c for c in out.checked if c not in checked)
    return CheckResult(tuple(findings), matched, tuple(checked))


def _own_lines(final: FinalStage) -> dict[str, int]:
    """The keys the final stage's build sets (its own LABELs and its parent stages'), with lines."""
    return {k: f.line for k, f in final.labels.items() if not f.onbuild}


def _annotations_agree(
    image: ImageFacts, platform: PlatformFacts, mode: str, out: Findings
) -> None:
    annotations = {**image.index_annotations, **platform.annotations}
    out.ran("annotations-agree")
    for key, value in annotations.items():
        label = platform.labels.get(key)
        if label is not None and not same_value(concept_of(key), label, value):
            out.add(
                "annotations-agree",
                f"annotation {key} disagrees with the config label",
                label=key,
                expected=label,
                actual=value,
            )
    if mode == "both":
        for key in out.policy.required_keys():
            if key.startswith(OCI) and key in platform.labels and key not in annotations:
                out.add(
                    "label-required",
                    f"required key {key} is a label but not an annotation",
                    label=key,
                )


def _platforms_agree(image: ImageFacts, out: Findings) -> None:
    out.ran("platforms-agree")
    for concept in ("revision", "source"):
        for key in CONCEPTS[concept]:
            values: Mapping[str, str] = {
                p.name: p.labels[key] for p in image.platforms if key in p.labels
            }
            distinct = sorted(set(values.values()))
            if len(distinct) > 1 and not all(
                same_value(concept, distinct[0], v) for v in distinct[1:]
            ):
                detail = ", ".join(f"{name}={val}" for name, val in values.items())
                out.add(
                    "platforms-agree",
                    f"platforms disagree on {key}: {detail}",
                    label=key,
                    expected=distinct[0],
                    actual=detail,
                )
