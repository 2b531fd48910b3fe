"""No example installs mb-ci by a bare package name while no release is published.

Nothing is published under the name ``mb-ci``: ``pip install mb-ci`` fails today, and runs
whoever registers the name tomorrow. Until the release workflow (.github/workflows/release.yml)
has published one, the examples install from the repository at a pinned tag or commit, and
take mb-ci's dependencies from its hashed lock. The workflows and action.yml must also be what
GitHub accepts, checked with check-jsonschema's vendored schemas.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.paths import ROOT

EXAMPLES = sorted(
    [
        *(ROOT / "examples").rglob("*.yml"),
        ROOT / "examples" / "Jenkinsfile",
        *(ROOT / "templates").glob("*.yml"),
        ROOT / "README.md",
        ROOT / "action.yml",
    ]
)
# pip install, pip3 install, python -m pip install, pipx install, uv pip install, uv tool install
INSTALL = re.compile(r"\b(?:pip3?|pipx|uv pip|uv tool)\s+install\s+(.*)$")
RUNS = re.compile(r"\b(?:uvx|pipx run|uv tool run)\s+(?:--\S+\s+)*(mb[-_]ci)\b", re.I)
NAME = re.compile(r"^mb[-_.]ci(?=$|[\[=<>!~@ ;])", re.I)
# a release tag or a full commit, never a branch
PINNED = r"(?:v\d+(?:\.\d+)*(?:[-.\w]*)|[0-9a-f]{40})"
FROM_REPO = re.compile(rf"^(?:mb-ci\s*@\s*)?git\+https://github\.com/[\w.-]+/mb-ci@{PINNED}$")
LOCK_URL = re.compile(rf"^https://raw\.githubusercontent\.com/[\w.-]+/mb-ci/{PINNED}/requirements/")


def install_commands(text: str) -> list[tuple[int, list[str]]]:
    """Each install command's arguments, by line; comments and continuation lines handled."""
    found = []
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        code = line.split(" #", 1)[0].strip().lstrip("-").strip()
        if code.startswith(("#", "//")):
            continue
        match = INSTALL.search(code)
        if not match:
            continue
        rest = match.group(1)
        following = number
        while rest.endswith("\\") and following < len(lines):
            rest = rest[:-1] + " " + lines[following].strip()
            following += 1
        rest = rest.split("&&", 1)[0].split(";", 1)[0]
        found.append((number, shlex.split(rest)))
    return found


def offences(text: str) -> list[str]:
    bad = [
        f"{n}: {m.group(0)}"
        for n, line in enumerate(text.splitlines(), 1)
        for m in [RUNS.search(line)]
        if m
    ]
    for number, args in install_commands(text):
        for arg in args:
            if arg.startswith("-") or arg in (".", "-e"):
                continue
            if NAME.match(arg) and not FROM_REPO.match(arg):
                bad.append(f"{number}: {arg} (a package name nothing is published under)")
            elif "/mb-ci" in arg and not (FROM_REPO.match(arg) or LOCK_URL.match(arg)):
                bad.append(f"{number}: {arg} (not pinned to a tag or commit)")
    return bad


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_install_mb_ci_from_the_repository_at_a_pinned_ref(path: Path) -> None:
    assert offences(path.read_text()) == []


def test_the_examples_do_install_mb_ci_so_the_rule_above_is_not_vacuous() -> None:
    pinned = [
        arg
        for path in EXAMPLES
        for _, args in install_commands(path.read_text())
        for arg in args
        if FROM_REPO.match(arg)
    ]
    assert len(pinned) >= 5


@pytest.mark.parametrize(
    "text",
    [
        "run: pip install mb-ci",
        "  - pip install --upgrade mb_ci==0.1.0",
        "python -m pip install 'mb-ci[dev]'",
        "pipx install mb-ci",
        "uvx mb-ci check app:ci",
        'pip install "mb-ci @ git+https://github.com/acme/mb-ci@main"',
        "pip install -r https://raw.githubusercontent.com/acme/mb-ci/main/requirements/container.txt",
        "pip install --no-deps \\\n  mb-ci",
    ],
)
def test_unpinned_or_bare_installs_are_caught(text: str) -> None:
    assert offences(text)


@pytest.mark.parametrize(
    "text",
    [
        "pip install .",
        'pip install --no-deps "mb-ci @ git+https://github.com/acme/mb-ci@v1.2.0"',
        "pip install git+https://github.com/acme/mb-ci@" + "0123456789abcdef" * 2 + "01234567",
        "pip install -r https://raw.githubusercontent.com/acme/mb-ci/v1.2.0/requirements/container.txt",
        "# pip install mb-ci, once released",
    ],
)
def test_pinned_installs_pass(text: str) -> None:
    assert offences(text) == []


@pytest.mark.parametrize(
    ("schema", "paths"),
    [
        ("vendor.github-workflows", [".github/workflows/release.yml", "examples/workflows/*.yml"]),
        ("vendor.github-actions", ["action.yml"]),
        ("vendor.gitlab-ci", ["templates/gitlab-ci.yml"]),
    ],
)
def test_workflows_and_the_action_validate_against_githubs_schemas(
    schema: str, paths: list[str]
) -> None:
    files = [str(p) for pattern in paths for p in sorted(ROOT.glob(pattern))]
    assert files
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *files],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
