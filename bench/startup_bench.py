"""(d) Start-up: ``mb-ci --version`` against a bare interpreter, and each path's import cost.

    .venv/bin/python bench/startup_bench.py [--runs 30]

Prints a Markdown section for docs/performance.md.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys

from common import MBCI, PYTHON, compare, emit, env, machine, median_ms, table

# What each path imports when it is used, as the CLI triggers it.
PATHS = {
    "CLI parser (every command)": "import mb_ci.cli as c; c.build_parser()",
    "CLI parser (`check` only, as `mb-ci check` builds it)": (
        "import mb_ci.cli as c; c.build_parser(only='check')"
    ),
    "daemon (`docker-daemon:`, `--running`)": "import mb_ci.sources.daemon, docker",
    "registry (`docker://`)": "import mb_ci.sources.registry, requests",
    "archive (`docker-archive:`, `oci:`)": "import mb_ci.sources.archive",
    "git checkout": "import mb_ci.facts.git, git",
    "policy file": "import mb_ci.policy, yaml, jsonschema",
}
_LINE = re.compile(r"^import time:\s+(\d+) \|")


def import_us(code: str) -> int:
    """Microseconds spent importing, summed over every module ``code`` imports."""
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", code], capture_output=True, text=True, env=env()
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr[-500:])
    return sum(int(m.group(1)) for m in map(_LINE.match, proc.stderr.splitlines()) if m)


TITLE = "## (d) Start-up and import cost"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--write", metavar="FILE", help="replace this section in FILE")
    args = parser.parse_args()
    times = compare(
        {
            "python -c pass": [PYTHON, "-c", "pass"],
            "mb-ci --version": [MBCI, "--version"],
            "python -m mb_ci --version": [PYTHON, "-m", "mb_ci", "--version"],
            "mb-ci audit --help": [MBCI, "audit", "--help"],
        },
        args.runs,
    )
    base = median_ms(times["python -c pass"])
    version = median_ms(times["mb-ci --version"]) / base
    rows = [
        (f"`{name}`", f"{median_ms(t):.0f}", f"{median_ms(t) / base:.1f}×")
        for name, t in times.items()
    ]
    runs = max(3, args.runs // 6)
    baseline = statistics.median(import_us("pass") for _ in range(runs))
    paths = []
    for name, code in PATHS.items():
        cost = statistics.median(import_us(code) for _ in range(runs)) - baseline
        paths.append((name, f"`{code}`", f"{cost / 1000:.0f}"))
    verdict = "met" if version <= 2 else "missed"
    text = f"""{TITLE}

Machine: {machine()}; {args.runs} interleaved runs of each command, median wall time, the same
interpreter (the project's venv) for all.

{table(rows, ("command", "median ms", "vs bare python"))}

Target: `mb-ci --version` within 2× of `python -c pass`: **{verdict}** ({version:.1f}×). The
version is answered before the argument parser is built, so none of the subcommands' modules
are imported. Every other command builds the parser with only its own options (the `mb-ci audit
--help` row): that imports its command module and mb-ci's core modules, not the heavy libraries.

Import cost of each path, measured with `python -X importtime` (all modules' self times summed,
median of {runs} runs, minus the bare interpreter's). A path pays only for its own row:

{table(paths, ("path", "imports", "ms"))}

`tests/e2e/test_audit_imports.py` asserts the same property on the real CLI: `--version` and
`audit --help` import none of docker, requests, urllib3, GitPython, jsonschema or PyYAML; a
`docker://` audit imports requests but not the Docker SDK; an archive audit imports neither; an
engine audit with `--no-git` does not import GitPython.

Reproduce:
`.venv/bin/python bench/startup_bench.py --runs {args.runs} --write docs/performance.md`
"""
    emit(TITLE, text, args.write)


if __name__ == "__main__":
    sys.exit(main())
