"""Self-hosted SVG badges, written into a README by the CLI, render in headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.html import CHROMIUM, chromium

from mb_ci.badges.core import COLORS, DEFAULT_ORDER, LABEL_COLOR
from mb_ci.badges.readme import END, START

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("MB_CI_REQUIRE_ENGINE"),
    reason="no chromium (scripts/testbed --full installs it)",
)
TOLERANCE = 28  # the flat style's gradient shades each colour by up to a tenth


def screenshot(page: Path, out: Path, profile: Path) -> None:
    chromium(
        f"--screenshot={out}", "--window-size=800,400", page.as_uri(), profile=profile, timeout=120
    )


def colour_counts(png_path: Path, colours: dict[str, str]) -> dict[str, int]:
    import png

    width, height, rows, _ = png.Reader(bytes=png_path.read_bytes()).asRGBA8()
    targets = {
        name: tuple(int(hex_[i : i + 2], 16) for i in (0, 2, 4)) for name, hex_ in colours.items()
    }
    counts = dict.fromkeys(colours, 0)
    for row in rows:
        for x in range(width):
            px = row[4 * x : 4 * x + 3]
            for name, (r, g, b) in targets.items():
                if (
                    abs(px[0] - r) <= TOLERANCE
                    and abs(px[1] - g) <= TOLERANCE
                    and abs(px[2] - b) <= TOLERANCE
                ):
                    counts[name] += 1
    assert (width, height) == (800, 400)
    return counts


def test_svg_badges_render_in_chromium(tmp_path, build_image, mbci):
    import markdown

    tag = build_image(
        {
            "org.opencontainers.image.revision": "4" * 40,
            "org.opencontainers.image.source": "https://github.com/acme/widget",
            "org.opencontainers.image.version": "2.0.0",
            "org.opencontainers.image.licenses": "<img src=x onerror=alert(1)>",
            "org.opencontainers.image.created": "2026-11-28T08:00:00Z",
        }
    )
    readme = tmp_path / "README.md"
    readme.write_text(f"# Widget\n\n{START}\n{END}\n\nA widget.\n")
    result = mbci("badges", tag, "--style", "svg", "--readme", "README.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    body = markdown.markdown(readme.read_text())
    assert body.count('<img alt="') == 5 and 'src=".github/badges/commit.svg"' in body
    page = tmp_path / "index.html"
    page.write_text(f'<!doctype html><meta charset="utf-8"><body style="background:#fff">{body}')
    shot = tmp_path / "shot.png"
    screenshot(page, shot, tmp_path / "profile")

    wanted = {**COLORS, "label": LABEL_COLOR, "absent": "ff00ff"}
    counts = colour_counts(shot, wanted)
    assert counts["absent"] == 0, counts
    for name in (*DEFAULT_ORDER, "label"):  # the badges written by default
        assert counts[name] > 150, (name, counts)
