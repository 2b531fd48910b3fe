"""Run as root in a checkout owned by someone else, badges leave nothing root-owned behind."""

from __future__ import annotations

import os

import pytest


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own files as another uid")
def test_svg_badges_and_their_folders_belong_to_the_checkout_owner(repo, build_image, mbci):
    tag = build_image({"org.opencontainers.image.revision": repo.head})
    os.chown(repo.path, 1001, 1001)
    result = mbci("badges", tag, "--style", "svg", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    created = [repo.path / ".github", repo.path / ".github" / "badges"]
    created += sorted((repo.path / ".github" / "badges").glob("*.svg"))
    assert len(created) > 2
    for path in created:
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (1001, 1001), path
