"""End-to-end: the issue's headline case against a real engine and a real repository."""

from __future__ import annotations

from helpers.clock import now
from helpers.git import SOURCE


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
