"""``label-inherited``: labels the image carries only because its base image carries them.

``FROM ubuntu`` leaks ``org.opencontainers.image.version`` and ``ref.name``, a CentOS base leaks
``org.label-schema.*``, a base another project built leaks its ``source``: the image then claims
the base's version and repository. A label is inherited when its key and value equal the
base's and the image's own build did not set it: no ``LABEL`` step in the image's history after
the base's history, and no ``LABEL`` in the Dockerfile's final stage. A key the build sets again
to the same value is said as information ("declared again, same value").
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

from mb_ci.checks.base import Findings
from mb_ci.models import BaseImage, PlatformFacts, Severity
from mb_ci.policy import InheritedPolicy
from mb_ci.vocab import OCI, OCI_TO_LS

ID = "label-inherited"

_OCI_FORBIDDEN = tuple(
    OCI + k
    for k in (
        "title",
        "description",
        "version",
        "revision",
        "source",
        "url",
        "documentation",
        "created",
        "ref.name",
        "licenses",
        "authors",
        "vendor",
    )
)
DEFAULT_FORBIDDEN: tuple[str, ...] = _OCI_FORBIDDEN + tuple(
    OCI_TO_LS[k] for k in _OCI_FORBIDDEN if k in OCI_TO_LS
)

# `LABEL k=v k2=v2` as the classic builder (`/bin/sh -c #(nop)  LABEL …`) and BuildKit
# (`LABEL …`) write a history entry; values are unquoted there, so only keys are read
_LABEL_STEP = re.compile(r"^(?:/bin/sh -c #\(nop\)\s+)?LABEL\s")
_KEY = re.compile(r'(?:^|\s)"?([^\s="]+)"?=')


def forbidden(key: str, rules: InheritedPolicy) -> bool:
    if any(fnmatch.fnmatchcase(key, p) for p in rules.forbid):
        return True
    return key in DEFAULT_FORBIDDEN and not any(fnmatch.fnmatchcase(key, p) for p in rules.allow)


def history_keys(history: tuple[str, ...], after: int) -> set[str]:
    """Keys a ``LABEL`` step of the history sets, from entry ``after`` on."""
    keys: set[str] = set()
    for entry in history[after:]:
        if _LABEL_STEP.match(entry):
            keys.update(_KEY.findall(_LABEL_STEP.sub("", entry, count=1)))
    return keys


def check_inherited(
    platform: PlatformFacts,
    base: BaseImage,
    declared: Mapping[str, int],
    out: Findings,
) -> None:
    """``declared``: the keys the Dockerfile's final stage sets, with their lines."""
    out.ran(ID)
    info = min(out.policy.severity(ID), Severity.INFO, key=lambda s: s.rank)
    if base.note is not None:
        out.add(ID, f"the base image could not be read: {base.note}", severity=info)
        return
    own: set[str] = set(declared)
    history_known = platform.history is not None and base.history_length is not None
    if platform.history is not None and base.history_length is not None:
        own |= history_keys(platform.history, base.history_length)
    where = f"{base.reference} (found by {base.how})"
    for key, value in sorted(platform.labels.items()):
        if base.labels.get(key) != value or not forbidden(key, out.policy.inherited_rules):
            continue
        if key in own:
            out.add(
                ID,
                f"{key} is declared again, same value as the base image {where}",
                label=key,
                expected=None,
                actual=value,
                severity=min(out.policy.severity(ID, key), Severity.INFO, key=lambda s: s.rank),
                line=declared.get(key),
                base=base.reference,
            )
            continue
        unsure = (
            "" if history_known else " (the image's history does not say whether the build set it)"
        )
        out.add(
            ID,
            f"{key} is inherited from the base image {where}: it describes the base, not this "
            f"image; set it in the build, or allow it with inherited.allow{unsure}",
            label=key,
            actual=value,
            base=base.reference,
        )
