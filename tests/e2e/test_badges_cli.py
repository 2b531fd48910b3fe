"""``mb-ci badges`` end to end against the real engine: README sync, --check, SVG files, policy."""

from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers.html import assert_inert

from mb_ci.badges.readme import END, START

SHA1 = "1111111111111111111111111111111111111111"
SHA2 = "2222222222222222222222222222222222222222"


def labels(revision: str = SHA1, **extra: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": "https://github.com/acme/widget",
        "org.opencontainers.image.version": "1.2.3",
        "org.opencontainers.image.licenses": "MIT",
        "org.opencontainers.image.created": "2026-11-28T08:00:00Z",
        **extra,
    }


@pytest.fixture(scope="module")
def image(build_image) -> str:
    return build_image(labels())


@pytest.fixture(scope="module")
def image2(build_image) -> str:
    return build_image(labels(SHA2))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "README.md").write_bytes(f"# Widget\n\n{START}\n{END}\n\nText.\n".encode())
    return tmp_path


def test_twice_changes_once_and_check_gates(work, image, image2, mbci):
    readme = work / "README.md"
    first = mbci("badges", image, "--readme", "README.md", cwd=work)
    assert first.returncode == 0, first.stderr
    assert "wrote README.md" in first.stderr
    data = readme.read_bytes()
    assert f"commit-{SHA1[:7]}-".encode() in data and b"1_layer" in data
    assert first.stdout.strip() in data.decode()
    os.utime(readme, ns=(1_000_000_000, 1_000_000_000))  # an old mtime a rewrite would change

    second = mbci("badges", image, "--readme", "README.md", cwd=work)
    assert second.returncode == 0, second.stderr
    assert "wrote" not in second.stderr
    assert readme.read_bytes() == data
    assert readme.stat().st_mtime_ns == 1_000_000_000
    assert sorted(p.name for p in work.iterdir()) == ["README.md"]  # no temp files left

    ok = mbci("badges", image, "--readme", "README.md", "--check", cwd=work)
    assert (ok.returncode, ok.stdout) == (0, ""), ok.stderr

    stale = mbci("badges", image2, "--readme", "README.md", "--check", cwd=work)
    assert stale.returncode == 1, stale.stderr
    assert stale.stdout.startswith("--- a/README.md\n+++ b/README.md\n")
    assert f"-[![commit: {SHA1[:7]}]" in stale.stdout
    assert f"+[![commit: {SHA2[:7]}]" in stale.stdout
    assert "stale" in stale.stderr
    assert readme.read_bytes() == data and readme.stat().st_mtime_ns == 1_000_000_000


def test_crlf_mode_and_trailing_bytes_kept(work, image, mbci):
    readme = work / "README.md"
    readme.write_bytes(f"# W\r\n\r\n{START}\r\n{END}\r\nno newline at end".encode())
    readme.chmod(0o640)
    result = mbci("badges", image, "--readme", "README.md", cwd=work)
    assert result.returncode == 0, result.stderr
    data = readme.read_bytes()
    assert data.startswith(f"# W\r\n\r\n{START}\r\n![image: 1 layer](".encode())
    assert data.endswith(f"\r\n{END}\r\nno newline at end".encode())
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert stat.S_IMODE(readme.stat().st_mode) == 0o640


def test_missing_markers_exit_2_then_create(work, image, mbci):
    readme = work / "README.md"
    readme.write_bytes(b"# Widget\n\nText.\n")
    missing = mbci("badges", image, "--readme", "README.md", cwd=work)
    assert missing.returncode == 2
    assert missing.stderr.startswith("mb-ci: error: README.md: no <!-- mb-ci:badges:start -->")
    assert "--create" in missing.stderr and "Traceback" not in missing.stderr
    assert readme.read_bytes() == b"# Widget\n\nText.\n"

    created = mbci("badges", image, "--readme", "README.md", "--create", cwd=work)
    assert created.returncode == 0, created.stderr
    assert readme.read_text().startswith(f"# Widget\n\n{START}\n![image: 1 layer]")

    dup = work / "DUP.md"
    dup.write_text(f"{START}\n{END}\n{START}\n{END}\n")
    result = mbci("badges", image, "--readme", "DUP.md", cwd=work)
    assert result.returncode == 2 and "DUP.md:3: a second" in result.stderr


def test_hostile_labels_never_reach_the_readme_raw(work, build_image, mbci):
    hostile = build_image(
        labels(
            "](javascript:alert(1))",
            **{
                "org.opencontainers.image.version": "<img src=x onerror=alert(1)>",
                "org.opencontainers.image.licenses": '" onload="alert(1)',
                "org.opencontainers.image.source": "https://github.com/a/b) [x](javascript:y",
            },
        )
    )
    for markup in ("markdown", "html"):
        result = mbci("badges", hostile, "--readme", "README.md", "--markup", markup, cwd=work)
        assert result.returncode == 0, result.stderr
        text = (work / "README.md").read_text()
        block = text[text.index(START) + len(START) : text.index(END)]
        assert "<img src=x" not in text and '" onload="' not in text
        assert "](javascript" not in text
        if markup == "markdown":
            import markdown

            assert_inert(markdown.markdown(block))
        else:
            assert_inert(block)


def test_svg_style_files_and_check(work, image, image2, mbci):
    args = ("badges", image, "--readme", "README.md", "--style", "svg")
    result = mbci(*args, cwd=work)
    assert result.returncode == 0, result.stderr
    svgs = sorted((work / ".github" / "badges").glob("*.svg"))
    names = [p.name for p in svgs]
    assert names == ["commit.svg", "created.svg", "image.svg", "license.svg", "version.svg"]
    for path in svgs:
        ET.parse(path)
    commit = ET.parse(work / ".github/badges/commit.svg").getroot()
    assert commit.get("aria-label") == f"commit: {SHA1[:7]}"
    text = (work / "README.md").read_text()
    assert "(.github/badges/commit.svg)" in text
    mtimes = {p: p.stat().st_mtime_ns for p in svgs}
    again = mbci(*args, cwd=work)
    assert again.returncode == 0 and "wrote" not in again.stderr
    assert {p: p.stat().st_mtime_ns for p in svgs} == mtimes

    stale = mbci("badges", image2, "--readme", "README.md", "--style", "svg", "--check", cwd=work)
    assert stale.returncode == 1
    assert "--- a/.github/badges/commit.svg" in stale.stdout
    assert f"+[![commit: {SHA2[:7]}](.github/badges/commit.svg)]" in stale.stdout  # alt text


def test_policy_section_and_json_output(work, image, mbci):
    (work / ".mb-ci.yml").write_text(
        "version: 1\nbadges:\n  order: [commit, image]\n  style: svg\n  svg-dir: docs/badges\n"
    )
    result = mbci("badges", image, "--format", "json", "--repo", str(work), cwd=work)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "mb-ci/badges" and doc["markup"] == "markdown"
    assert [b["kind"] for b in doc["badges"]] == ["commit", "image"]
    assert doc["files"] == ["docs/badges/commit.svg", "docs/badges/image.svg"]
    assert doc["badges"][0]["link"] == f"https://github.com/acme/widget/commit/{SHA1}"
    assert "(docs/badges/commit.svg)" in doc["snippet"]

    (work / ".mb-ci.yml").write_text("version: 1\nbadges:\n  style: png\n")
    bad = mbci("badges", image, "--repo", str(work), cwd=work)
    assert bad.returncode == 2 and "badges.style" in bad.stderr, bad.stderr


def test_strict_fails_when_a_badge_is_left_out(work, build_image, mbci):
    bare = build_image({"org.opencontainers.image.revision": SHA1})
    loose = mbci("badges", bare, "--markup", "rst", "-v", cwd=work)
    assert loose.returncode == 0
    assert "no size shown, docker-daemon gives no compressed layer sizes" in loose.stderr
    assert "no org.opencontainers.image.version label" in loose.stderr
    assert loose.stdout.startswith("|mb-ci-image| |mb-ci-commit|\n")
    strict = mbci("badges", bare, "--strict", cwd=work)
    assert strict.returncode == 1


def test_unknown_badge_and_format_are_usage_errors(work, image, mbci):
    assert mbci("badges", image, "--only", "image,size", cwd=work).returncode == 2
    assert mbci("badges", "no-such-image-mbci:0", cwd=work).returncode == 3


def test_render_for_returns_snippet_and_files(work, image, monkeypatch):
    from mb_ci.badges.plan import BadgeOptions, render_for

    monkeypatch.chdir(work)
    snippet, files = render_for(image, BadgeOptions(style="svg", repo=str(work)))
    assert snippet.splitlines()[0] == "![image: 1 layer](.github/badges/image.svg)"
    assert len(files) == 5 and all(ET.fromstring(data) is not None for data in files.values())
    assert not (work / ".github").exists()
