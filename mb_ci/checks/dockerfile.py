"""Policy checks on a Dockerfile's final stage: the image's label checks, plus Dockerfile pitfalls.

The label rules are the very ones ``mb-ci check`` applies to a built image
(:func:`mb_ci.checks.labels.check_labels`). On top of them come what only the Dockerfile shows:
values set at build time, ARGs out of scope, misspelt keys, and labels that only the base image
could provide.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from mb_ci import vocab
from mb_ci.checks.base import Findings
from mb_ci.checks.gates import before_build
from mb_ci.checks.labels import check_labels
from mb_ci.dockerfile.parse import PLATFORM_ARGS, FinalStage, LabelFact
from mb_ci.dockerfile.words import is_parameter
from mb_ci.models import Finding
from mb_ci.policy import Policy
from mb_ci.safety import printable

# checks of a label's value: they cannot judge a value that is only known at build time
_VALUE_CHECKS = frozenset(
    {
        "label-value",
        "label-enum",
        "label-pattern",
        "label-format",
        "label-credentials",
        "vocab-agree",
    }
)


# difflib's ratio is at most 2*min(len)/(len a + len b): outside these lengths no key reaches the
# 0.85 that vocab.suggest asks for
_KEY_LENGTHS = [len(k) for k in vocab.KNOWN_KEYS]
_NEAR_LENGTH = (int(min(_KEY_LENGTHS) * 0.85 / 1.15), int(max(_KEY_LENGTHS) * 1.15 / 0.85) + 1)


def check_dockerfile(
    final: FinalStage, policy: Policy
) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """Findings for the final stage's labels, each with the Dockerfile line it is about."""
    facts = final.labels
    out = Findings(policy)
    check_labels({k: f.value for k, f in facts.items()}, out)
    kept: list[Finding] = []
    for finding in out.items:
        if finding.check in _VALUE_CHECKS and _build_time_value(finding.label, facts):
            continue
        kept.append(_placed(finding, final))
    extra = Findings(policy)
    _encoding(final, extra)
    _build_time(facts, extra)
    _fixed(facts, extra)
    _scope(final, extra)
    _keys(facts, policy, {f.label for f in kept if f.check == "label-unknown"}, extra)
    before_build(extra)
    kept.extend(_placed(f, final) for f in extra.items)
    checked = [*out.checked, *(c for c in extra.checked if c not in out.checked)]
    return tuple(sorted(kept, key=lambda f: (f.line or 0, -f.severity.rank))), tuple(checked)


def _build_time_value(key: str | None, facts: Mapping[str, LabelFact]) -> bool:
    keys = (key, vocab.LS_TO_OCI.get(key or ""))
    return any(k in facts and (facts[k].build_time or facts[k].from_base) for k in keys if k)


def _placed(finding: Finding, final: FinalStage) -> Finding:
    """The finding at its LABEL line; a missing label at the last LABEL (or FROM) of the stage."""
    if finding.label is None and finding.line is not None:
        return finding  # about the file, with its own line
    fact = final.labels.get(finding.label or "")
    if fact is not None:
        detail = dict(finding.detail)
        if fact.inherited:
            detail["stage"] = fact.stage
        if fact.onbuild:
            detail["onbuild"] = "true"
        return dataclasses.replace(finding, line=fact.line, detail=detail)
    if finding.check == "label-required" and finding.label in final.onbuild:
        message = (
            f"{finding.message}; ONBUILD LABEL sets it for images built FROM this one, not for "
            "this image: set it with LABEL"
        )
        line = final.onbuild[finding.label or ""]
        return dataclasses.replace(finding, message=message, line=line)
    if finding.check == "label-required" and final.base is not None:
        message = (
            f"{finding.message}; the base image {final.base} may set it, but its labels cannot "
            "be seen from the Dockerfile: set it in this stage"
        )
        detail = {**finding.detail, "base": final.base}
        return dataclasses.replace(finding, message=message, line=final.anchor_line, detail=detail)
    return dataclasses.replace(finding, line=final.anchor_line)


def _encoding(final: FinalStage, out: Findings) -> None:
    out.ran("dockerfile-not-utf8")
    if final.not_utf8_line is not None:
        out.add(
            "dockerfile-not-utf8",
            "the Dockerfile is not UTF-8 (Latin-1?): the engine builds it, but writes U+FFFD "
            "into the labels for each byte that is not UTF-8, and so does this reading; fix: "
            "save the file as UTF-8",
            line=final.not_utf8_line,
        )


def _build_time(facts: Mapping[str, LabelFact], out: Findings) -> None:
    out.ran("dockerfile-build-time-value")
    for key, fact in facts.items():
        if fact.build_time:
            names = ", ".join(fact.build_time)
            out.add(
                "dockerfile-build-time-value",
                f"label {key} is set at build time from {names}; check the built image with "
                "`mb-ci check` (or `mb-ci build`)",
                label=key,
                actual=fact.value,
            )
        elif fact.from_base:
            names = ", ".join(f"${n}" for n in fact.from_base)
            out.add(
                "dockerfile-build-time-value",
                f"label {key} uses {names}, which this Dockerfile does not declare: the base "
                "image may set it with ENV, so the value is unknown before the build; check the "
                "built image with `mb-ci check` (or `mb-ci build`)",
                label=key,
                actual=fact.value,
            )


# labels that must change with every commit or build: a value fixed in the Dockerfile is stale
_REVISION_KEYS = frozenset({vocab.OCI + "revision", vocab.LS + "vcs-ref"})
_FIXED_KEYS = _REVISION_KEYS | {vocab.OCI + "created", vocab.LS + "build-date"}
_COMMIT = re.compile(r"[0-9a-f]{7,64}")


def _fixed(facts: Mapping[str, LabelFact], out: Findings) -> None:
    out.ran("dockerfile-fixed-value")
    for key, fact in facts.items():
        if key not in _FIXED_KEYS or fact.build_time or fact.from_base or not fact.value.strip():
            continue
        what = "commit" if key in _REVISION_KEYS else "build time"
        if fact.defaults:
            names = ", ".join(fact.defaults)
            origin = f"takes the default of ARG {names}, which a build without --build-arg keeps"
            fix = f"declare `ARG {fact.defaults[0]}` without a default and pass it at build time"
        else:
            origin = "is written in the Dockerfile"
            fix = "set it from an ARG passed at build time"
        odd = (
            f" ({printable(fact.value, 40)!r} is not even a commit)"
            if key in _REVISION_KEYS and not _COMMIT.fullmatch(fact.value.strip())
            else ""
        )
        out.add(
            "dockerfile-fixed-value",
            f"label {key} {origin}: every such image claims the same {what}{odd}; {fix}",
            label=key,
            actual=fact.value,
        )


def _scope(final: FinalStage, out: Findings) -> None:
    out.ran("dockerfile-arg-scope")
    out.ran("dockerfile-undefined-var")
    for key, fact in final.labels.items():
        for name in fact.global_only:
            where = (
                "a platform ARG the builder sets before the first FROM only"
                if name in PLATFORM_ARGS
                else "which is declared only before the first FROM"
            )
            out.add(
                "dockerfile-arg-scope",
                f"label {key} uses ARG {name}, {where}: "
                f"inside stage {fact.stage} it expands to an empty string; fix: repeat "
                f"`ARG {name}` (no value needed) after that stage's FROM",
                label=key,
                expected=f"ARG {name}",
                actual=fact.value,
            )
        for name in fact.undefined:
            if is_parameter(name):
                out.add(
                    "dockerfile-undefined-var",
                    f"label {key} uses ${name}, a shell parameter the builder never sets: it "
                    f"expands to an empty string; fix: write \\${name} for a literal dollar sign",
                    label=key,
                    expected=f"\\${name}",
                    actual=fact.value,
                )
                continue
            out.add(
                "dockerfile-undefined-var",
                f"label {key} uses ${name}, which no ARG or ENV declares: it expands to an "
                f"empty string; fix: declare `ARG {name}` in the stage, or give a default "
                f"(${{{name}:-default}})",
                label=key,
                expected=f"ARG {name}",
                actual=fact.value,
            )


def _keys(
    facts: Mapping[str, LabelFact], policy: Policy, reported: set[str | None], out: Findings
) -> None:
    out.ran("dockerfile-unknown-key")
    for key in facts:
        if key in vocab.KNOWN_KEYS or key in policy.rules or key in reported:
            continue
        if not vocab.in_vocabulary(key) and not _NEAR_LENGTH[0] <= len(key) <= _NEAR_LENGTH[1]:
            continue  # too short or too long to be a near miss: spare difflib the work
        near = vocab.suggest(key)
        if near is None and not vocab.in_vocabulary(key):
            continue
        hint = f"did you mean {near}?" if near else "it is in neither vocabulary's list of keys"
        out.add(
            "dockerfile-unknown-key",
            f"label {key} is not an OCI or label-schema key: {hint}",
            label=key,
            expected=near,
        )
