"""A malformed engine reference is a usage error; annotations show beside labels in text."""

from __future__ import annotations

from mb_ci.models import ImageFacts, PlatformFacts, Report
from mb_ci.report import RenderOptions, render


def test_malformed_engine_reference_exits_2_without_contacting_the_engine(repo, mbci):
    # DOCKER_HOST points at nothing: a 2 proves the reference was refused before any connection
    result = mbci("check", "Upper/Case:1", cwd=repo.path, env={"DOCKER_HOST": "tcp://127.0.0.1:1"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert "not an image reference" in result.stderr


def test_text_report_lists_annotations_and_skipped_manifests_safely():
    image = ImageFacts(
        reference="docker://127.0.0.1:5000/app:1",
        transport="docker",
        platforms=(
            PlatformFacts(
                "linux/amd64",
                labels={"org.opencontainers.image.revision": "abc1234"},
                annotations={"org.opencontainers.image.source": "https://x\x1b[31m/y"},
            ),
        ),
        index_annotations={"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
        skipped=("sha256:dead (attestation manifest)",),
    )
    text = render(Report("check", image.reference, (), image=image), "text", RenderOptions())
    assert "annotations (index and manifest)" in text
    assert "org.opencontainers.image.created  2024-01-01T00:00:00Z" in text
    assert "\x1b" not in text and "\\x1b[31m" in text
    assert "skipped  sha256:dead (attestation manifest)" in text
