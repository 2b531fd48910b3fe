"""(a) One local image check: mb-ci check vs container-structure-test vs docker inspect + git.

    .venv/bin/python bench/local_check_bench.py [--runs 20]

Builds one ``FROM scratch`` image labelled from a fresh git checkout, then times, interleaved:
``mb-ci check`` (with and without the git comparison), ``container-structure-test test`` with a
labels-only config (metadataTest) that asserts the same revision and source values, and the
shell pair ``docker image inspect`` + ``git rev-parse HEAD``. Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import (
    CST,
    MBCI,
    build_scratch,
    compare,
    docker,
    emit,
    env,
    machine,
    median_ms,
    table,
)

SOURCE = "https://github.com/acme/widget"
TITLE = "## (a) One local image check"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=env(), check=True, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write", metavar="FILE", help="replace this section in FILE")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mb-ci-bench-a-"))
    repo = tmp / "widget"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "git@github.com:acme/widget.git")
    (repo / "app.txt").write_text("hello\n")
    git(repo, "add", "app.txt")
    git(repo, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q", "-m", "one")
    head = git(repo, "rev-parse", "HEAD")
    tag = "mb-ci-bench/local:1"
    labels = {
        "org.opencontainers.image.revision": head,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.created": dt.datetime.now(dt.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
    build_scratch(tag, labels, b"payload\n", tmp / "ctx")
    config = tmp / "labels.yaml"
    config.write_text(
        "schemaVersion: 2.0.0\nmetadataTest:\n  labels:\n"
        + "".join(
            f"    - key: {k}\n      value: '{v}'\n"
            for k, v in labels.items()
            if not k.endswith("created")
        )
    )
    inspect = (
        f"docker image inspect --format '{{{{json .Config.Labels}}}}' {tag} >/dev/null"
        " && git rev-parse HEAD >/dev/null"
    )
    commands = {
        "mb-ci check": [MBCI, "check", tag],
        "mb-ci check --no-git": [MBCI, "check", "--no-git", tag],
        "container-structure-test (labels only)": [CST, "test", "--image", tag, "-c", str(config)],
        "docker image inspect + git rev-parse": ["sh", "-c", inspect],
    }
    try:
        for name, cmd in commands.items():  # every tool must pass before it is timed
            proc = subprocess.run(cmd, cwd=repo, env=env(), capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"{name} failed: {proc.stdout[-800:]}{proc.stderr[-800:]}")
        times = compare(commands, args.runs, cwd=repo)
    finally:
        docker("rmi", "-f", tag)
        shutil.rmtree(tmp, ignore_errors=True)
    cst = median_ms(times["container-structure-test (labels only)"])
    rows = []
    for name, cmd in commands.items():
        if cmd[0] == "sh":
            shown = "docker image inspect IMAGE && git rev-parse HEAD"
        else:
            shown = " ".join([Path(cmd[0]).name, *cmd[1:]]).replace(str(config), "labels.yaml")
        ms = median_ms(times[name])
        rows.append((name, f"`{shown}`", f"{ms:.0f}", f"{ms / cst:.1f}×"))
    check = median_ms(times["mb-ci check"]) / cst
    verdict = "met" if check <= 10 else "missed"
    text = f"""{TITLE}

Machine: {machine()}; one `FROM scratch` image labelled from a fresh checkout, checked by each
tool in turn, {args.runs} interleaved runs, median wall time. container-structure-test uses a
labels-only config (`metadataTest.labels` asserting the same revision and source values that
mb-ci compares with git); the shell pair only reads the labels and HEAD and compares nothing.

{table(rows, ("tool", "command", "median ms", "vs container-structure-test"))}

Target: a local check within 10× of container-structure-test: **{verdict}** ({check:.1f}×).
What bounds it: container-structure-test is one Go process that asks the engine for the image.
mb-ci is a Python process, and most of its time is imports. In one profile on this machine
(`pyinstrument -m mb_ci check IMAGE`, in a checkout): importing the Docker SDK (with requests
and urllib3) took about 45% of the run, GitPython about 20%, building the argument parser
(then still every subcommand's module; now only the chosen one's) about 15%; talking to the
engine, running git and the checks themselves about 15%. `--no-git` saves the GitPython import
and the git reads. These costs are paid once per process, which is why `mb-ci audit` checks many
images in one.

Reproduce:
`.venv/bin/python bench/local_check_bench.py --runs {args.runs} --write docs/performance.md`
"""
    emit(TITLE, text, args.write)


if __name__ == "__main__":
    main()
