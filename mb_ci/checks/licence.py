"""``licence-matches-repo``: the licenses label against the licence the repository's files state.

``org.opencontainers.image.licenses`` is an SPDX expression; the licence detected in the
checkout's LICENSE/COPYING files must be one of its operands (``MIT OR Apache-2.0`` covers a
dual-licensed repository, and a repository holding both texts). SPDX ids are compared, not file
names; ``GPL-3.0``, ``GPL-3.0-only``, ``GPL-3.0-or-later`` and ``GPL-3.0+`` count as one family,
since a licence text does not say which the authors chose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mb_ci.checks.base import Findings
from mb_ci.models import LicenceFacts, Severity
from mb_ci.safety import printable, redact
from mb_ci.vocab import OCI

ID = "licence-matches-repo"
KEY = OCI + "licenses"
_SUFFIX = re.compile(r"(?:-only|-or-later|\+)$", re.I)


def family(spdx_id: str) -> str:
    return _SUFFIX.sub("", spdx_id.strip()).lower()


def operands(expression: str) -> tuple[str, ...] | None:
    """The licence ids of an SPDX expression; None when it is not one."""
    if not expression.strip() or len(expression) > 1000:
        return None
    from license_expression import ExpressionError, get_spdx_licensing

    try:
        parsed = get_spdx_licensing().parse(expression)
    except (ExpressionError, AttributeError, TypeError):
        return None
    if parsed is None:
        return None
    return tuple(str(key) for key in get_spdx_licensing().license_keys(parsed))


def check_licence(labels: Mapping[str, str], licence: LicenceFacts, out: Findings) -> None:
    value = labels.get(KEY)
    if value is None or not value.strip():
        return
    info = min(out.policy.severity(ID, KEY), Severity.INFO, key=lambda s: s.rank)
    if licence.notes and not licence.ids:
        out.ran(ID)
        out.add(
            ID,
            f"{KEY}: the licence files cannot be read: {'; '.join(licence.notes)}",
            label=KEY,
            actual=value,
            severity=info,
        )
        return
    if not licence.files:
        return  # no licence file: nothing to compare with
    out.ran(ID)
    detected = licence.ids
    names = ", ".join(licence.files)
    if not detected:
        out.add(
            ID,
            f"{KEY}: no licence could be identified in {names}",
            label=KEY,
            actual=value,
            severity=info,
        )
        return
    ops = operands(value)
    if ops is None:
        out.add(
            ID,
            f"{KEY} {printable(redact(value), 80)!r} is not an SPDX expression; the repository's "
            f"licence is {' AND '.join(detected)} ({names})",
            label=KEY,
            expected=" OR ".join(detected),
            actual=value,
        )
        return
    wanted = {family(o) for o in ops}
    if any(family(d) in wanted for d in detected):
        return
    out.add(
        ID,
        f"{KEY} says {printable(redact(value), 80)!r} but the repository's licence files "
        f"({names}) are {' and '.join(detected)}",
        label=KEY,
        expected=" OR ".join(detected),
        actual=value,
        files=names,
    )
