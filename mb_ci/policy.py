"""Load the YAML label policy, validate it against the JSON Schema, make plain settings."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from mb_ci import presets, values
from mb_ci.catalog import CHECKS, get
from mb_ci.errors import PolicyError, UsageError
from mb_ci.models import Severity
from mb_ci.vocab import PRESETS

POLICY_NAMES = (".mb-ci.yml", ".mb-ci.yaml")
MAX_POLICY_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_MESSAGE = 300
MAX_INT_CHARS = 64
# the `regex` module unrolls counted repeats when it compiles: `(a{1000}){1000}` takes 280 MB,
# `a{100000000}` 20 GB. A pattern whose repeats multiply past this is refused before compiling.
MAX_PATTERN_SIZE = 100_000
MAX_PATTERN_DEPTH = 50  # nested groups; the compiler recurses once per level
_COUNTED = re.compile(r"\{(\d*)(?:,(\d*))?\}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# `now - max-age` must stay a date: a century is more than any image's age
MAX_DURATION = 100 * 366 * 86400
# the vocabulary presets: which keys `labels` and `build` write
VOCABULARIES = ("oci", "label-schema", "both", "none")
# the size and layer gates, each judged by the check of the same name (`_` → `-`)
GATES = ("max_layers", "max_size", "max_config_size")


@dataclass(frozen=True)
class LabelRule:
    key: str
    required: bool | None = None
    forbidden: bool = False
    deprecated: str | None = None
    value: str | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    format: str | None = None
    severity: Severity | None = None
    line: int | None = None
    effective_on: dt.date | None = None
    description: str | None = None


@dataclass(frozen=True)
class Gate:
    """A size or layer limit: ``limit`` layers or bytes, in force from ``effective_on``."""

    limit: int
    effective_on: dt.date | None = None
    line: int | None = None


@dataclass(frozen=True)
class GitPolicy:
    remote: str = "origin"
    accept: str = "either"
    allow_dirty: bool = False
    clock_skew: int = 300
    max_age: int | None = None
    allow_v_prefix: bool = True


@dataclass(frozen=True)
class ProvenancePolicy:
    """The ``provenance*`` keys: required/optional/off, min tier, keys, predicate types."""

    mode: str = "optional"  # required / optional / off
    min_tier: str | None = None
    keys: tuple[str, ...] = ()  # public key files, as written (relative to the policy's folder)
    predicate_types: tuple[str, ...] = (
        "https://slsa.dev/provenance/v0.2",
        "https://slsa.dev/provenance/v1",
    )


@dataclass(frozen=True)
class InheritedPolicy:
    """``inherited:``: which labels must not be inherited from the base image, and whether to
    look the base up at all. ``forbid`` extends the default keys, ``allow`` removes keys from
    them (fnmatch patterns; ``'*'`` with ``forbid`` replaces the list)."""

    forbid: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    lookup: bool = True


@dataclass(frozen=True)
class AnnotationKeys:
    """``annotation-keys:``: OCI keys that must be present as annotations of a registry or
    layout image, on the ``index``, the ``manifest`` or ``either``."""

    required: tuple[str, ...] = ()
    level: str | None = None  # None: not set here (a preset's, else `either`)


@dataclass(frozen=True)
class Policy:
    path: str | None = None
    preset: str = "oci"
    strict: bool = False
    allow: tuple[str, ...] = ()
    annotations: str = "labels"
    labels: Mapping[str, LabelRule] = field(default_factory=dict)
    severities: Mapping[str, Severity] = field(default_factory=dict)
    git: GitPolicy = field(default_factory=GitPolicy)
    badges: Mapping[str, Any] = field(default_factory=dict)
    # the presets in the order named (None: just `preset`); their rules come before the policy's
    # own, which extend or override them field by field
    presets: tuple[str, ...] | None = None
    effective_on: dt.date | None = None  # the policy-wide default for every rule
    optional: tuple[str, ...] = ()
    gates: Mapping[str, Gate] = field(default_factory=dict)
    # the day the policy is judged as of (`--date`); None: the day of the check's clock
    as_of: dt.date | None = None
    # the presets' rules merged with `labels`: what the checks judge
    rules: Mapping[str, LabelRule] = field(init=False, repr=False, compare=False)
    optional_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)
    limits: Mapping[str, Gate] = field(init=False, repr=False, compare=False)
    # `annotation-keys` and `inherited` with the presets' merged in: what the checks judge
    annotation_rules: AnnotationKeys = field(init=False, repr=False, compare=False)
    inherited_rules: InheritedPolicy = field(init=False, repr=False, compare=False)
    provenance: ProvenancePolicy = field(default_factory=ProvenancePolicy)
    inherited: InheritedPolicy = field(default_factory=InheritedPolicy)
    annotation_keys: AnnotationKeys = field(default_factory=AnnotationKeys)

    def __post_init__(self) -> None:
        for check in self.severities:  # load() names a misspelled id in the file (exit 2)
            get(check)
        rules: dict[str, LabelRule] = {}
        optional: list[str] = []
        limits: dict[str, Gate] = {}
        annotated: list[str] = []
        level: str | None = None
        forbid: list[str] = []
        for name in self.presets or (self.preset,):
            if name in VOCABULARIES:
                # the four vocabulary presets only require keys: read from vocab.PRESETS, which
                # their shipped files are tested to equal, so that a run without a policy (or
                # with one of these) never imports YAML (tests/e2e/test_audit_imports.py)
                for key in PRESETS[name]:
                    rule = LabelRule(key, required=True)
                    rules[key] = _merge(rules[key], rule) if key in rules else rule
                continue
            data = presets.data(name)
            for key, rule in _label_rules(data, {}).items():
                rules[key] = _merge(rules[key], rule) if key in rules else rule
            optional.extend(str(k) for k in data.get("optional") or ())
            limits.update(_gates(data, {}, name))
            wanted = data.get("annotation-keys") or {}
            annotated.extend(str(k) for k in wanted.get("required") or ())
            level = wanted.get("level", level)
            forbid.extend(str(k) for k in (data.get("inherited") or {}).get("forbid") or ())
        for key, rule in self.labels.items():
            rules[key] = _merge(rules[key], rule) if key in rules else rule
        optional.extend(self.optional)
        limits.update(self.gates)
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "optional_keys", tuple(dict.fromkeys(optional)))
        object.__setattr__(self, "limits", limits)
        own = self.annotation_keys
        merged = AnnotationKeys(
            tuple(dict.fromkeys([*annotated, *own.required])), own.level or level or "either"
        )
        object.__setattr__(self, "annotation_rules", merged)
        inherited = replace(
            self.inherited, forbid=tuple(dict.fromkeys([*forbid, *self.inherited.forbid]))
        )
        object.__setattr__(self, "inherited_rules", inherited)

    def severity(self, check: str, label: str | None = None) -> Severity:
        rule = self.rules.get(label) if label else None
        if rule is not None and rule.severity is not None:
            return rule.severity
        if check in self.severities:
            return self.severities[check]
        return get(check).severity

    def required_keys(self) -> tuple[str, ...]:
        return tuple(k for k, r in self.rules.items() if r.required and not r.forbidden)

    def effective_from(self, label: str | None = None, gate: str | None = None) -> dt.date | None:
        """The day from which a finding on ``label`` (or ``gate``) counts at its full severity:
        the rule's own ``effective_on``, else the policy's."""
        own = None
        if gate is not None and gate in self.limits:
            own = self.limits[gate].effective_on
        elif label is not None and label in self.rules:
            own = self.rules[label].effective_on
        return own or self.effective_on


def _merge(base: LabelRule, over: LabelRule) -> LabelRule:
    """``base`` with every field ``over`` sets (differs from the default) taken from ``over``."""
    import dataclasses

    changes = {
        f.name: getattr(over, f.name)
        for f in fields(LabelRule)
        if f.name != "key" and getattr(over, f.name) != f.default
    }
    return dataclasses.replace(base, **changes)


def parse_day(text: str, what: str) -> dt.date:
    """``--date`` / ``MB_CI_DATE`` / the Action's ``date``: a day, ``YYYY-MM-DD``."""
    value = text.strip()
    try:
        if not _DAY.fullmatch(value):  # fromisoformat also takes 20270115 and 2027-W03-5
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{what}: {value[:40]!r} is not a date", "write YYYY-MM-DD, e.g. 2027-01-15"
        ) from None


def schema_text() -> str:
    return resources.files("mb_ci").joinpath("schemas/policy.schema.json").read_text("utf-8")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


def find_policy(repo: str | os.PathLike[str] | None, explicit: str | None) -> Path | None:
    """The policy to use: ``--policy``, else ``.mb-ci.yml`` at the checkout root, else none."""
    if explicit:
        return Path(explicit)
    root = Path(repo or ".")
    for name in POLICY_NAMES:
        if (root / name).is_file():
            return root / name
    return None


def load(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    data, lines = read_yaml(path)
    validate(data, lines, str(path))
    return build(data, lines, str(path))


def read_yaml(path: Path) -> tuple[Any, dict[tuple[str, ...], int]]:
    """Parse ``path`` safely: bounded size, bounded alias expansion, no duplicate keys."""
    import yaml

    from mb_ci.fsutil import read_bounded_text

    name = str(path)
    text = read_bounded_text(
        path,
        MAX_POLICY_BYTES,
        PolicyError,
        missing_hint="give an existing file to --policy",
        too_big_hint="a policy is small",
    )
    loader_cls = _loader()
    try:
        node = yaml.compose(text, Loader=loader_cls)
    except yaml.YAMLError as e:
        raise _yaml_error(name, e) from e
    except RecursionError:
        raise PolicyError(f"{name}: nested too deeply") from None
    if node is None:
        raise PolicyError(f"{name}: empty policy", "start it with `version: 1`")
    lines: dict[tuple[str, ...], int] = {}
    _walk(node, (), lines, [0], name)
    try:
        data = yaml.load(text, Loader=loader_cls)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as e:
        raise _yaml_error(name, e) from e
    except RecursionError:
        raise PolicyError(f"{name}: nested too deeply") from None
    return data, lines


def _yaml_error(name: str, error: Exception) -> PolicyError:
    """One line: ``FILE:LINE: invalid YAML: problem``."""
    mark = getattr(error, "problem_mark", None)
    where = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(error, "problem", None) or (str(error).splitlines() or ["?"])[0]
    return PolicyError(f"{name}{where}: invalid YAML: {problem}")


@lru_cache(maxsize=1)
def _loader() -> Any:
    """A safe loader with YAML 1.2 booleans and no implicit timestamps.

    YAML 1.1 reads ``off``, ``no`` and ``yes`` as booleans, so ``revision-dirty: off`` would
    become ``False``, and ``value: 2024-05-01`` a date; a policy means the strings.
    """
    import re

    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    dropped = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")

    class PolicyLoader(base):  # type: ignore[misc,valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[str, Any]:
            # keys as written: `1.10:` is the string "1.10", not the float 1.1
            self.flatten_mapping(node)
            return {
                str(key.value): self.construct_object(value, deep=deep) for key, value in node.value
            }

    PolicyLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in dropped]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    PolicyLoader.add_constructor("tag:yaml.org,2002:int", _bounded_int)
    PolicyLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    return PolicyLoader


def _bounded_int(loader: Any, node: Any) -> int:
    """An integer, or a YAML error at its line when it is longer than any policy needs.

    Python refuses to convert more than 4300 decimal digits (and to print a hexadecimal one that
    long), so a hostile literal would otherwise escape as a ``ValueError``.
    """
    import yaml

    text = str(node.value)
    if len(text) > MAX_INT_CHARS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {len(text)} characters is too long", node.start_mark
        )
    value: int = yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    return value


def _walk(
    node: Any, path: tuple[str, ...], lines: dict[tuple[str, ...], int], count: list[int], name: str
) -> None:
    import yaml

    count[0] += 1
    if count[0] > MAX_NODES:
        raise PolicyError(f"{name}: too many nodes after alias expansion", "is this a YAML bomb?")
    if len(path) > 50:
        raise PolicyError(f"{name}:{node.start_mark.line + 1}: nested too deeply")
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                dotted = ".".join(path) or "(top level)"
                raise PolicyError(
                    f"{name}:{key_node.start_mark.line + 1}: {dotted}: a key must be a string"
                )
            key = str(key_node.value)
            if key in seen:
                dotted = ".".join(path + (key,))
                raise PolicyError(
                    f"{name}:{key_node.start_mark.line + 1}: {dotted}: duplicate key",
                    "keep one of them",
                )
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, count, name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (str(i),), lines, count, name)


def validate(data: Any, lines: Mapping[tuple[str, ...], int], name: str) -> None:
    import jsonschema
    from jsonschema.exceptions import best_match

    validator = jsonschema.Draft202012Validator(schema())
    error = best_match(validator.iter_errors(data))
    if error is not None:
        path = tuple(str(p) for p in error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            extra = [k for k in error.instance if k not in allowed]
            if extra:
                path = path + (str(extra[0]),)
                message = f"unknown key (allowed: {', '.join(sorted(allowed))})"
        elif error.validator == "pattern" and error.schema == _duration_schema():
            message = (
                f"{error.instance!r} is not a duration: give seconds, or a number with "
                "s, m, h, d or w (e.g. 90, 5m, 30d)"
            )
        else:
            message = _explained(path, error.instance) or message
        if len(message) > MAX_MESSAGE:  # the schema's message quotes the (hostile) value
            message = message[: MAX_MESSAGE - 1] + "…"
        raise PolicyError(_where(name, lines, path) + message)
    _semantic(data, lines, name)


def _explained(path: tuple[str, ...], instance: Any) -> str | None:
    """A one-line fix for the keys whose schema message would not say one: a date, a size, a
    layer count, a preset name."""
    import difflib

    if isinstance(instance, (dict, list)):
        return None
    text = str(instance)
    shown = repr(text if len(text) <= 60 else text[:57] + "…")
    if path and path[-1] == "effective_on":
        return f"{shown} is not a date: write YYYY-MM-DD, e.g. 2027-01-15"
    if path and path[0] == "max_layers":
        return f"{shown} is not a layer count: give a whole number from 0 to 100000"
    if path and path[0] in GATES:
        return (
            f"{shown} is not a size: give bytes, or a number with B, kB, MB, GB, TB, KiB, "
            "MiB, GiB or TiB (e.g. 500MB, 1.5GiB)"
        )
    if path and path[0] == "preset":
        known = presets.names()
        near = difflib.get_close_matches(str(instance), known, n=1)
        hint = f"did you mean '{near[0]}'? " if near else ""
        return f"{shown} is not a preset ({hint}known: {', '.join(known)})"
    return None


def _duration_schema() -> Any:
    return schema()["$defs"]["duration"]["oneOf"][1]


def _where(name: str, lines: Mapping[tuple[str, ...], int], path: tuple[str, ...]) -> str:
    line = None
    probe = path
    while line is None and probe is not None:
        line = lines.get(probe)
        probe = probe[:-1] if probe else None  # type: ignore[assignment]
    dotted = ".".join(path) or "(top level)"
    return f"{name}:{line}: {dotted}: " if line else f"{name}: {dotted}: "


def _semantic(data: Mapping[str, Any], lines: Mapping[tuple[str, ...], int], name: str) -> None:
    """What JSON Schema cannot say: known check ids and regular expressions that compile."""
    import difflib

    import regex

    dates: list[tuple[tuple[str, ...], Any]] = [(("effective_on",), data.get("effective_on"))]
    dates += [
        (("labels", key, "effective_on"), rule.get("effective_on"))
        for key, rule in (data.get("labels") or {}).items()
    ]
    dates += [
        ((g, "effective_on"), data[g].get("effective_on"))
        for g in GATES
        if isinstance(data.get(g), dict)
    ]
    for place, value in dates:
        if isinstance(value, str):
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise PolicyError(
                    _where(name, lines, place) + f"{value!r} is not a day of the calendar",
                    "write YYYY-MM-DD, e.g. 2027-01-15",
                ) from None
    for check in data.get("checks") or {}:
        if check not in CHECKS:
            near = difflib.get_close_matches(check, list(CHECKS), n=1)
            hint = f"did you mean '{near[0]}'?" if near else "see `mb-ci checks` for the list"
            raise PolicyError(_where(name, lines, ("checks", check)) + f"unknown check id ({hint})")
    for key, rule in (data.get("labels") or {}).items():
        pattern = rule.get("pattern")
        if pattern is not None:
            where = _where(name, lines, ("labels", key, "pattern"))
            size, depth = pattern_size(pattern)
            if depth > MAX_PATTERN_DEPTH:
                raise PolicyError(
                    where + f"groups nested more than {MAX_PATTERN_DEPTH} deep",
                    "flatten the regular expression",
                )
            if size > MAX_PATTERN_SIZE:
                raise PolicyError(
                    where + "repeat counts make the regular expression too big to compile "
                    f"(over {MAX_PATTERN_SIZE:,} parts once unrolled)",
                    "use smaller {n} counts, or + and *",
                )
            try:
                regex.compile(pattern)
            except (regex.error, RecursionError) as e:
                raise PolicyError(where + f"invalid regular expression: {e}") from e
        if rule.get("required") and rule.get("forbidden"):
            raise PolicyError(
                _where(name, lines, ("labels", key))
                + "a label cannot be both required and forbidden"
            )


def pattern_size(pattern: str) -> tuple[int, int]:
    """An upper bound on the parts of ``pattern`` once its counted repeats are unrolled, and
    the depth of its groups. Every character is a part; ``X{m,n}`` counts ``X`` max(m, n)
    times, so nested counts multiply. Stops counting past ``MAX_PATTERN_SIZE``."""
    stack: list[tuple[int, int]] = []  # the enclosing sequences: (their size, their last atom)
    total = last = depth = 0
    i = 0
    while i < len(pattern) and total <= MAX_PATTERN_SIZE:
        ch = pattern[i]
        atom, i = 1, i + 1
        if ch == "\\":
            i += 1
        elif ch == "[":
            i = _class_end(pattern, i)
        elif ch == "(":
            stack.append((total, last))
            depth = max(depth, len(stack))
            total = last = 0
            continue
        elif ch == ")" and stack:
            atom = max(total, 1)
            total, last = stack.pop()
        elif ch == "{" and (m := _COUNTED.match(pattern, i - 1)) and (m[1] or m[2]):
            times = max(int(m[1] or 0), int(m[2] or 0))
            total += last * max(times - 1, 0)
            last *= times
            i = m.end()
            continue
        total += atom
        last = atom
    return total + sum(size for size, _ in stack), depth


def _class_end(pattern: str, i: int) -> int:
    """The index after the ``]`` that closes the character class opened before ``i``."""
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1  # a leading ] is a member
    nested = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "\\":
            i += 1
        elif ch == "[":
            nested += 1  # `[[:alpha:]]`, and the set operations of regex's V1 mode
        elif ch == "]":
            if not nested:
                return i
            nested -= 1
    return i


def _duration(value: Any, lines: Mapping[tuple[str, ...], int], name: str, key: str) -> int | None:
    """Seconds, bounded; JSON Schema counts ``1.0e+300`` as an integer, Python does not."""
    if isinstance(value, float) and value.is_integer():
        value = int(value) if value <= MAX_DURATION else MAX_DURATION + 1
    seconds = values.parse_duration(value) if isinstance(value, (int, str)) else None
    if seconds is not None and seconds > MAX_DURATION:
        raise PolicyError(
            _where(name, lines, ("git", "created", key)) + "longer than 100 years",
            "give a shorter duration, or leave it out",
        )
    return seconds


def _label_rules(
    data: Mapping[str, Any], lines: Mapping[tuple[str, ...], int]
) -> dict[str, LabelRule]:
    labels = {}
    for key, r in (data.get("labels") or {}).items():
        deprecated = r.get("deprecated")
        labels[key] = LabelRule(
            key=key,
            required=r.get("required"),
            forbidden=bool(r.get("forbidden", False)),
            deprecated=(
                deprecated if isinstance(deprecated, str) else ("" if deprecated else None)
            ),
            value=r.get("value"),
            pattern=r.get("pattern"),
            enum=tuple(r["enum"]) if "enum" in r else None,
            format=r.get("format"),
            severity=Severity(r["severity"]) if "severity" in r else None,
            line=lines.get(("labels", key)),
            effective_on=_date(r.get("effective_on")),
            description=r.get("description"),
        )
    return labels


def _date(value: Any) -> dt.date | None:
    """A validated ``YYYY-MM-DD`` (``validate`` has named a wrong one with its line)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else None


def _gates(
    data: Mapping[str, Any], lines: Mapping[tuple[str, ...], int], name: str
) -> dict[str, Gate]:
    gates = {}
    for key in GATES:
        raw = data.get(key)
        if raw is None:
            continue
        limit, since = (
            (raw.get("limit"), raw.get("effective_on")) if isinstance(raw, dict) else (raw, None)
        )
        size = values.parse_size(limit)
        if size is None:  # validate() has said so with the line; a preset file is tested
            raise PolicyError(_where(name, lines, (key,)) + f"{limit!r} is not a size")
        gates[key] = Gate(size, _date(since), lines.get((key,)))
    return gates


def preset_names(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The presets a policy names, in order: one string or a list (default ``oci``)."""
    raw = data.get("preset", "oci")
    return (raw,) if isinstance(raw, str) else tuple(dict.fromkeys(raw))


def build(data: Mapping[str, Any], lines: Mapping[tuple[str, ...], int], name: str) -> Policy:
    labels = _label_rules(data, lines)
    named = preset_names(data)
    git = data.get("git") or {}
    revision = git.get("revision") or {}
    created = git.get("created") or {}
    version = git.get("version") or {}
    skew = _duration(created.get("clock-skew", 300), lines, name, "clock-skew")
    max_age = created.get("max-age")
    return Policy(
        path=name,
        preset=next((p for p in named if p in VOCABULARIES), "oci"),
        presets=named,
        effective_on=_date(data.get("effective_on")),
        optional=tuple(str(k) for k in data.get("optional") or ()),
        gates=_gates(data, lines, name),
        strict=bool(data.get("strict", False)),
        allow=tuple(data.get("allow") or ()),
        annotations=data.get("annotations", "labels"),
        labels=labels,
        severities={k: Severity(v) for k, v in (data.get("checks") or {}).items()},
        git=GitPolicy(
            remote=git.get("remote", "origin"),
            accept=revision.get("accept", "either"),
            allow_dirty=bool(revision.get("allow-dirty", False)),
            clock_skew=skew if skew is not None else 300,
            max_age=_duration(max_age, lines, name, "max-age") if max_age is not None else None,
            allow_v_prefix=bool(version.get("allow-v-prefix", True)),
        ),
        badges=data.get("badges") or {},
        provenance=ProvenancePolicy(
            mode=data.get("provenance", "optional"),
            min_tier=data.get("provenance_min_tier"),
            keys=tuple(data.get("provenance_keys") or ()),
            predicate_types=tuple(
                data.get("provenance_predicate_types") or ProvenancePolicy.predicate_types
            ),
        ),
        inherited=_inherited(data.get("inherited") or {}),
        annotation_keys=AnnotationKeys(
            required=tuple((data.get("annotation-keys") or {}).get("required") or ()),
            level=(data.get("annotation-keys") or {}).get("level"),
        ),
    )


def _inherited(data: Mapping[str, Any]) -> InheritedPolicy:
    return InheritedPolicy(
        forbid=tuple(data.get("forbid") or ()),
        allow=tuple(data.get("allow") or ()),
        lookup=bool(data.get("lookup", True)),
    )
