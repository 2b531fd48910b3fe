"""Exact-output files: compare with the golden, or rewrite it when MB_CI_UPDATE_GOLDEN is set."""

from __future__ import annotations

import os
from pathlib import Path

from helpers.paths import GOLDEN


def path(*parts: str) -> Path:
    return GOLDEN.joinpath(*parts)


def updating() -> bool:
    return bool(os.environ.get("MB_CI_UPDATE_GOLDEN"))


def assert_golden(text: str, *parts: str) -> None:
    """``text`` equals ``tests/golden/<parts>`` byte for byte (no newline translation)."""
    target = path(*parts)
    if updating():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="")
    assert text == target.read_text(encoding="utf-8"), f"differs from {target}"


def assert_golden_bytes(data: bytes, *parts: str) -> None:
    """``data`` equals ``tests/golden/<parts>`` byte for byte (CRLF and BOM goldens)."""
    target = path(*parts)
    if updating():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    assert data == target.read_bytes(), f"differs from {target}"
