"""Policy rules on label keys and values: required, forbidden, formats, strict, and agreement."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from mb_ci import values, vocab
from mb_ci.checks.base import Findings
from mb_ci.facts import urls
from mb_ci.policy import LabelRule
from mb_ci.safety import has_credentials

PATTERN_TIMEOUT = 1.0
MAX_VALUE = 64 * 1024


def check_labels(labels: Mapping[str, str], out: Findings) -> None:
    policy = out.policy
    out.ran("label-required")
    for key in policy.required_keys():
        value = labels.get(key)
        if value is None or not value.strip():
            near = _near_miss(key, labels)
            hint = f"; found '{near}', a misspelling?" if near else ""
            state = "is empty" if value is not None else "is missing"
            out.add(
                "label-required",
                f"required label {key} {state}{hint}{_about(policy.rules.get(key))}",
                label=key,
                actual=value,
                line=_line(policy.rules.get(key)),
            )
    _optional(labels, out)
    for key, rule in policy.rules.items():
        if key in labels:
            _rule(key, labels[key], rule, out)
    out.ran("label-credentials")
    for key, value in labels.items():
        if vocab.concept_of(key) != "source" and has_credentials(value):
            out.add("label-credentials", f"label {key} holds a credential", label=key, actual=value)
    if policy.strict:
        _strict(labels, out)
    _agree(labels, out)


def _line(rule: LabelRule | None) -> int | None:
    return rule.line if rule else None


def _about(rule: LabelRule | None) -> str:
    """The rule's ``description``, quoted in its findings as the Enterprise Contract does."""
    return f" ({rule.description.strip()})" if rule and rule.description else ""


def _optional(labels: Mapping[str, str], out: Findings) -> None:
    policy = out.policy
    required = set(policy.required_keys())
    keys = [k for k in policy.optional_keys if k not in required]
    if keys:
        out.ran("label-optional")
    for key in keys:
        value = labels.get(key)
        if value is None or not value.strip():
            state = "is empty" if value is not None else "is missing"
            out.add(
                "label-optional",
                f"optional label {key} {state}{_about(policy.rules.get(key))}",
                label=key,
                actual=value,
                line=_line(policy.rules.get(key)),
            )


def _rule(key: str, value: str, rule: LabelRule, out: Findings) -> None:
    line = rule.line
    if rule.forbidden:
        out.add(
            "label-forbidden",
            f"label {key} is forbidden by the policy",
            label=key,
            actual=value,
            line=line,
        )
        return
    if rule.deprecated is not None:
        extra = f": {rule.deprecated}" if rule.deprecated else ""
        out.add("label-deprecated", f"label {key} is deprecated{extra}", label=key, line=line)
    if rule.value is not None:
        out.ran("label-value")
        if value != rule.value:
            out.add(
                "label-value",
                f"label {key} must be '{rule.value}'",
                label=key,
                expected=rule.value,
                actual=value,
                line=line,
            )
    if rule.enum is not None:
        out.ran("label-enum")
        if value not in rule.enum:
            out.add(
                "label-enum",
                f"label {key} is not one of the allowed values",
                label=key,
                expected=" | ".join(rule.enum),
                actual=value,
                line=line,
            )
    if rule.pattern is not None:
        out.ran("label-pattern")
        verdict = _fullmatch(rule.pattern, value)
        if verdict is None:
            out.add(
                "label-pattern",
                f"label {key}: the pattern took longer than "
                f"{PATTERN_TIMEOUT:g}s on this value; simplify the pattern",
                label=key,
                expected=rule.pattern,
                actual=value,
                line=line,
            )
        elif not verdict:
            out.add(
                "label-pattern",
                f"label {key} does not match the policy's pattern{_about(rule)}",
                label=key,
                expected=rule.pattern,
                actual=value,
                line=line,
            )
    if rule.format is not None:
        out.ran("label-format")
        if not values.VALIDATORS[rule.format](value):
            out.add(
                "label-format",
                f"label {key} is not a valid {rule.format}",
                label=key,
                expected=rule.format,
                actual=value,
                line=line,
            )


def _fullmatch(pattern: str, value: str) -> bool | None:
    """Match with a time limit: a policy's regex must not hang the pipeline (ReDoS)."""
    import regex

    if len(value) > MAX_VALUE:  # never judge a prefix: what follows it could break the pattern
        return False
    try:
        return regex.fullmatch(pattern, value, timeout=PATTERN_TIMEOUT) is not None
    except TimeoutError:
        return None


def _strict(labels: Mapping[str, str], out: Findings) -> None:
    out.ran("label-unknown")
    policy = out.policy
    for key in labels:
        if key in vocab.KNOWN_KEYS or key in policy.rules or key in policy.optional_keys:
            continue
        if any(fnmatch.fnmatchcase(key, pat) for pat in policy.allow):
            continue
        near = vocab.suggest(key)
        hint = f" (did you mean {near}?)" if near else ""
        out.add(
            "label-unknown",
            f"label {key} is not in any known vocabulary{hint}",
            label=key,
            expected=near,
        )


def _near_miss(key: str, labels: Mapping[str, str]) -> str | None:
    import difflib

    # a real key of either vocabulary is never somebody's misspelling of another one
    others = [k for k in labels if k != key and k not in vocab.KNOWN_KEYS]
    match = difflib.get_close_matches(key, others, n=1, cutoff=0.9)
    return match[0] if match else None


def _agree(labels: Mapping[str, str], out: Findings) -> None:
    out.ran("vocab-agree")
    for oci_key, ls_key in vocab.OCI_TO_LS.items():
        if oci_key in labels and ls_key in labels:
            a, b = labels[oci_key], labels[ls_key]
            if not same_value(vocab.concept_of(oci_key), a, b):
                out.add(
                    "vocab-agree",
                    f"{oci_key} and {ls_key} disagree",
                    label=ls_key,
                    expected=a,
                    actual=b,
                )


def same_value(concept: str | None, a: str, b: str) -> bool:
    """Whether two spellings of one fact agree, e.g. a full SHA and its abbreviation."""
    a, b = a.strip(), b.strip()
    if concept == "revision":
        x, y = a.lower().removesuffix("-dirty"), b.lower().removesuffix("-dirty")
        short, long_ = sorted((x, y), key=len)
        return len(short) >= 7 and long_.startswith(short) if short != long_ else True
    if concept == "source":
        return a == b or urls.same_repo(a, b)
    if concept == "created":
        ta, tb = values.parse_rfc3339(a), values.parse_rfc3339(b)
        return a == b or (ta is not None and ta == tb)
    return a == b
