"""What a rendered Markdown or HTML snippet may hold: only our images and links; and headless
Chromium, started as the tests that render pages start it."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium(*args: str, profile: Path, timeout: float = 180) -> str:
    assert CHROMIUM, "chromium is required (scripts/testbed --full installs it)"
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "HOME": str(profile)},
        check=True,
    )
    return done.stdout


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    """Rendered, the snippet has only our images and links: no script, handler or other URL."""
    parser = _Tags()
    parser.feed(html)
    assert parser.tags
    for tag, attrs in parser.tags:
        assert tag in ("p", "a", "img"), tag
        assert set(attrs) <= {"href", "src", "alt"}, attrs
        for key in ("href", "src"):
            value = attrs.get(key)
            if key in attrs:
                assert value is not None and value.startswith(("https://", ".github/")), value
