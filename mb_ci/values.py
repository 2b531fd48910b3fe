"""Validators for the label values a policy can require: rfc3339, url, semver, spdx, and more."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
# https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# SHA-1 (40) or SHA-256 (64) object names, abbreviated to at least 7 hex digits.
_GIT_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$|^[0-9a-fA-F]{64}$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
# https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_DIGEST_LEN = {"sha256": 64, "sha512": 128}
# https://github.com/distribution/reference/blob/main/regexp.go
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_IMAGE_REF = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{{32,}})?$"
)


def parse_rfc3339(value: str) -> dt.datetime | None:
    """The instant ``value`` names, or None when it is not RFC 3339 with a time zone."""
    m = _RFC3339.match(value.strip())
    if not m:
        return None
    text = value.strip().replace("z", "Z").replace("t", "T").replace(" ", "T")
    if m.group(6) == "60":  # a leap second (RFC 3339 section 5.7); Python has no 60th second
        text = text[:17] + "59" + text[19:]
    if m.group(7) and len(m.group(7)) > 7:  # Python takes at most microseconds
        text = text.replace(m.group(7), m.group(7)[:7])
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def is_rfc3339(value: str) -> bool:
    return parse_rfc3339(value) is not None


def is_semver(value: str, allow_v: bool = False) -> bool:
    if allow_v and value[:1] in ("v", "V"):
        value = value[1:]
    return bool(_SEMVER.match(value))


def is_git_sha(value: str) -> bool:
    return bool(_GIT_SHA.match(value))


def is_url(value: str) -> bool:
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("mailto", "urn"))


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value))


def is_digest(value: str) -> bool:
    if not _DIGEST.match(value):
        return False
    algo, _, hex_part = value.partition(":")
    want = _DIGEST_LEN.get(algo)
    return want is None or (
        len(hex_part) == want and all(c in "0123456789abcdef" for c in hex_part)
    )


def is_image_ref(value: str) -> bool:
    return len(value) <= 4096 and bool(_IMAGE_REF.match(value))


@lru_cache(maxsize=1)
def _licensing() -> object:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


# SPDX 2.3 Annex D: user-defined licenses are ``[DocumentRef-<id>:]LicenseRef-<id>``
_LICENSE_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$")


def is_spdx_expression(value: str) -> bool:
    """A valid SPDX license expression of known ids, e.g. ``Apache-2.0 OR MIT``.

    ``Licensing.validate`` itself can raise ``AttributeError`` on inputs like ``MIT OR``
    (license-expression 30.x), so parse and look at the unknown keys ourselves.
    """
    if not value.strip() or len(value) > 1000:
        return False
    from license_expression import ExpressionError

    licensing = _licensing()
    try:
        parsed = licensing.parse(value, validate=False, strict=True)  # type: ignore[attr-defined]
    except (ExpressionError, ValueError, TypeError, AttributeError):
        return False
    if parsed is None:
        return False
    unknown = licensing.unknown_license_keys(parsed)  # type: ignore[attr-defined]
    return all(_LICENSE_REF.match(str(key)) for key in unknown)


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "url": is_url,
    "rfc3339": is_rfc3339,
    "semver": is_semver,
    "git-sha": is_git_sha,
    "spdx-expression": is_spdx_expression,
    "email": is_email,
    "digest": is_digest,
    "image-ref": is_image_ref,
}

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: int | str) -> int | None:
    """Seconds in ``value``: an int, or a string like ``90``, ``5m``, ``2h``, ``7d``, ``1w``."""
    if isinstance(value, int):
        return value if value >= 0 else None
    m = _DURATION.match(value)
    return int(m.group(1)) * _UNITS[m.group(2)] if m else None


# sizes: decimal units are powers of 1000 (as `docker images` and registries print them), binary
# units powers of 1024; a unit is case-sensitive where the two families would collide
_SIZE = re.compile(r"^\s*([0-9]{1,12}(?:\.[0-9]{1,6})?)\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$")
SIZE_UNITS = {
    "B": 1,
    "kB": 1000,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
}


def parse_size(value: object) -> int | None:
    """Bytes in ``value``: a non-negative int, or a string like ``500MB``, ``1.5GiB``, ``4096``."""
    from decimal import Decimal

    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    m = _SIZE.match(value) if isinstance(value, str) else None
    if m is None:
        return None
    return int(Decimal(m.group(1)) * SIZE_UNITS[m.group(2) or "B"])


def format_size(size: int) -> str:
    """``size`` bytes for a message: bytes, and MB or MiB as a policy would write them."""
    if size < 1000:
        return f"{size} B"
    return f"{size:,} bytes ({size / 1000**2:.1f} MB, {size / 1024**2:.1f} MiB)"
