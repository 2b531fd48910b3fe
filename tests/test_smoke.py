"""End-to-end: the issue's headline case against a real engine and a real repository."""

from __future__ import annotations

import datetime as dt

from conftest import SOURCE


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_truthful_image_passes(repo, build_image, mbci):
    tag = build_image(
        {
            "org.opencontainers.image.revision": repo.head,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": now(),
        }
    )
    result = mbci("check", tag, cwd=repo.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout
