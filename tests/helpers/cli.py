"""The real mb-ci CLI in a subprocess, outside any CI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from helpers.env import clean_env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_mbci(
    *args: str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> Result:
    """Run ``python -m mb_ci`` with a CI-free environment plus ``env``."""
    proc = subprocess.run(
        [sys.executable, "-m", "mb_ci", *args],
        cwd=cwd,
        env=clean_env(env),
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
