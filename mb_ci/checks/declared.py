"""``declared-vs-built``: the final stage's ``LABEL`` values against the labels the image carries.

A value the Dockerfile states and the image does not carry was overwritten at build time: a
``--label`` flag, ``docker/metadata-action``'s labels (docker/metadata-action#295), or a
``--build-arg`` for an ARG with a default. A value from an ARG without a default, or from an ENV
only the base image sets, cannot be known from the Dockerfile: it is never compared.
"""

from __future__ import annotations

from collections.abc import Mapping

from mb_ci.checks.base import Findings
from mb_ci.dockerfile.parse import FinalStage
from mb_ci.models import Severity
from mb_ci.safety import printable, redact

ID = "declared-vs-built"


def check_declared(final: FinalStage, labels: Mapping[str, str], out: Findings) -> None:
    out.ran(ID)
    for key, fact in final.labels.items():
        if fact.onbuild or fact.build_time or fact.from_base:
            continue  # set at build time or by the base: nothing to compare with
        built = labels.get(key)
        if built is None or built == fact.value:
            continue  # a label the build removed is label-required's business, not this one's
        # a value expanded from variables may differ because a --build-arg changed an ARG's
        # default: said, but at most as information
        variable = "$" in fact.raw
        severity = None
        if variable:
            severity = min(out.policy.severity(ID, key), Severity.INFO, key=lambda s: s.rank)
        how = " (expanded from variables: a --build-arg may have changed it)" if variable else ""
        was, now = printable(redact(fact.value), 80), printable(redact(built), 80)
        out.add(
            ID,
            f"{key} is {was!r} in the Dockerfile (line {fact.line}, stage {final.stage}) but "
            f"{now!r} in the image: overwritten at build time{how}",
            label=key,
            expected=fact.value,
            actual=built,
            severity=severity,
            line=fact.line,
            stage=final.stage,
        )
