"""The value formats a policy can require, each against values that must pass and must fail."""

from __future__ import annotations

import datetime as dt

import pytest

from mb_ci import values as formats

VALID = {
    "spdx-expression": [
        "MIT",
        "Apache-2.0 OR MIT",  # hadolint rejects this one
        "Apache-2.0 AND (MIT OR GPL-2.0-only)",
        "GPL-2.0-or-later WITH Classpath-exception-2.0",
        "apache-2.0",  # ids match case-insensitively (SPDX annex D)
        "LicenseRef-acme-proprietary",
        "MIT OR DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
        "(MIT)",
    ],
    "semver": ["1.2.3", "0.0.0", "1.2.3-rc.1", "1.2.3-rc.1+build.5", "10.20.30+meta"],
    "git-sha": ["a" * 7, "0123abcd", "A" * 39, "f" * 40, "e" * 64, "DeadBeef12"],
    "url": ["https://github.com/acme/widget", "http://[::1]:8080/x", "mailto:a@example.com"],
    "rfc3339": [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00.123456789+02:00",
        "2024-05-01 12:00:00z",
        "2016-12-31T23:59:60Z",  # a leap second
    ],
    "email": ["dev@example.com", "first.last+tag@sub.example.org"],
    "digest": [
        "sha256:" + "a" * 64,
        "sha512:" + "0" * 128,
        "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
    ],
    "image-ref": [
        "busybox",
        "docker.io/library/busybox:1.36",
        "localhost:5000/a/b:tag",
        "[::1]:5000/x",
        "ghcr.io/acme/widget@sha256:" + "a" * 64,
        "ghcr.io/acme/widget:v1@sha256:" + "a" * 64,
    ],
}

INVALID = {
    "spdx-expression": [
        "",
        "   ",
        "NOPE-1.0",
        "MIT OR",  # license-expression's own validate() raises AttributeError on this one
        "(MIT",
        "MIT Apache-2.0",
        "Classpath-exception-2.0",
        "MIT WITH MIT",
        "LicenseRef-",
        "x" * 1001,
    ],
    "semver": ["1.2", "v1.2.3", "01.2.3", "1.2.3-01", "1.2.3 ", "latest"],
    "git-sha": ["a" * 6, "a" * 41, "a" * 63, "a" * 65, "g" * 40, "main", "", "abc1234-dirty"],
    "url": ["github.com/acme/widget", "http://", "https://a b", "http://x:99999", "/path"],
    "rfc3339": [
        "2024-05-01",
        "2024-05-01T12:00:00",  # no time zone
        "2024-13-01T12:00:00Z",
        "2024-02-30T12:00:00Z",
        "2024-05-01T24:00:00Z",
        "2016-12-31T23:59:61Z",
        "2024-05-01T12:00:00+24:00",
        "01/05/2024 12:00",
        "1714564800",
    ],
    "email": ["a@b", "a b@c.d", "@example.com", "dev@", "dev@-x.com"],
    "digest": [
        "sha256:" + "a" * 63,
        "sha256:" + "A" * 64,
        "sha512:" + "a" * 64,
        "sha256:",
        ":abc",
        "SHA256:" + "a" * 64,
    ],
    "image-ref": [
        "Busybox",
        "a:b:c",
        "x/y:" + "t" * 129,
        "a@sha256:abc",
        "-leading/dash",
        "space here",
        "x" * 5000,
    ],
}


@pytest.mark.parametrize(("fmt", "value"), [(f, v) for f, values in VALID.items() for v in values])
def test_valid(fmt, value):
    assert formats.VALIDATORS[fmt](value) is True


@pytest.mark.parametrize(
    ("fmt", "value"), [(f, v) for f, values in INVALID.items() for v in values]
)
def test_invalid(fmt, value):
    assert formats.VALIDATORS[fmt](value) is False


def test_every_schema_format_has_a_validator():
    from mb_ci.policy import schema

    assert sorted(schema()["$defs"]["format"]["enum"]) == sorted(formats.VALIDATORS)


def test_semver_with_v_prefix_when_allowed():
    assert formats.is_semver("v1.2.3", allow_v=True)
    assert formats.is_semver("V1.2.3", allow_v=True)
    assert not formats.is_semver("vv1.2.3", allow_v=True)


def test_rfc3339_parses_to_the_instant():
    parsed = formats.parse_rfc3339("2024-05-01T14:00:00.123456789+02:00")
    assert parsed == dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert formats.parse_rfc3339("2016-12-31T23:59:60Z") == dt.datetime(
        2016, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc
    )
    assert formats.parse_rfc3339("  2024-05-01T12:00:00Z ") is not None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(0, 0), (90, 90), ("90", 90), ("5m", 300), (" 2h ", 7200), ("7d", 604800), ("1w", 604800)],
)
def test_durations(value, seconds):
    assert formats.parse_duration(value) == seconds


@pytest.mark.parametrize("value", [-1, "5x", "", "m", "1.5h", "-3s"])
def test_bad_durations(value):
    assert formats.parse_duration(value) is None


REMOTE = "git@github.com:acme/widget.git"


@pytest.mark.parametrize(
    "source",
    [
        "https://github.com/acme/widget",
        "https://GitHub.com/Acme/Widget.git/",
        "ssh://git@github.com:22/acme/widget.git",
        "git://github.com/acme/widget",
        "git+ssh://git@github.com/acme/widget",
        "github.com:acme/widget",
        "http://github.com:443/acme/widget",
        "HTTPS://github.com/acme/widget#readme",
        "https://github.com//acme//widget",
        # a code page names its repository (bitnami/containers labels images this way)
        "https://github.com/acme/widget/tree/main",
    ],
)
def test_source_spellings_of_one_repository(source):
    from mb_ci.facts import urls

    assert urls.same_repo(source, REMOTE)
    assert urls.normalize(source).lower() == "https://github.com/acme/widget"


@pytest.mark.parametrize(
    "source",
    [
        "https://github.com/acme/widget/wiki",
        "https://github.com/acme",
        "https://github.com/acme/widget.git.git",
        "https://gitlab.com/acme/widget",
        "/src/widget",
        "not a url",
        "",
    ],
)
def test_other_repositories(source):
    from mb_ci.facts import urls

    assert not urls.same_repo(source, REMOTE)


def test_normalize_never_shows_credentials_and_brackets_ipv6():
    from mb_ci.facts import urls

    assert urls.normalize("https://u:pw@host.example/o/r.git") == "https://host.example/o/r"
    assert urls.normalize("ssh://git@[::1]:2222/acme/widget") == "https://[::1]/acme/widget"
    # outside the well-known hosts a path's case is significant
    assert not urls.same_repo("https://git.example/Acme/W", "https://git.example/acme/w")
