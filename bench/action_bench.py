"""(f) The Action's start-up: from a cold runner to the verdict, and with the cache of a run before.

    .venv/bin/python bench/action_bench.py [--runs 3] [--previous REV] [--write docs/performance.md]

Runs as root (the harness hands files to the runner's uid, 1001) with the Docker engine and the
``python:3.12-slim`` stand-in (``scripts/testbed --full``). Each round runs, interleaved:

- the composite action (action.yml), cold: an empty tool cache, so the venv of the hashed lock
  is created and installed from the package index;
- the composite action, warm: the venv restored from the cache (actions/cache's job, stood in
  for by a tool cache kept between runs);
- the previous form, a container action built from the Dockerfile at ``--previous``: the
  runner's ``docker build`` with no layer cache (hosted runners keep none), then ``docker run``;
- the container image built from today's Dockerfile the same way, for GitLab CI and Jenkins.

Every run checks the same ``FROM scratch`` image against a real git checkout, as the runner
would run each step (tests/helpers/runner.py). Prints a Markdown section for docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from common import ROOT, build_scratch, docker, emit, machine, table

sys.path.insert(0, str(ROOT / "tests"))
from helpers.runner import (
    BASE_IMAGE,
    RUNNER_IMAGE,
    build_runner_image,
    chown_tree,
    run_action,
    run_composite,
)

TITLE = "## (f) The Action's start-up and the image's size"
PREFIX = "mb-ci-bench-action"
OLD_FORM = "dfe7de4^"  # the last commit whose action.yml ran the Dockerfile
HARNESS = "harness overhead: three `docker run` of the runner stand-in, doing nothing"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def checkout(work: Path) -> tuple[Path, str]:
    repo = work / "widget"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://github.com/acme/widget.git")
    (repo / "Dockerfile").write_text("FROM scratch\nCOPY payload.bin /\n")
    git(repo, "add", "Dockerfile")
    git(repo, "-c", "user.name=b", "-c", "user.email=b@example.org", "commit", "-q", "-m", "x")
    return repo, git(repo, "rev-parse", "HEAD")


def size_mb(image: str) -> float:
    return int(docker("image", "inspect", "-f", "{{.Size}}", image)) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--previous", default=OLD_FORM, help="commit of the container Action")
    parser.add_argument("--write", metavar="FILE", help="replace this section in FILE")
    args = parser.parse_args()
    build_runner_image(None)
    old_dockerfile = subprocess.run(
        ["git", "show", f"{args.previous}:Dockerfile"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory(prefix=PREFIX) as tmp:
        work = Path(tmp)
        (work / "Dockerfile.previous").write_bytes(old_dockerfile)
        repo, head = checkout(work)
        image = f"{PREFIX}-subject:{uuid.uuid4().hex[:8]}"
        build_scratch(
            image,
            {
                "org.opencontainers.image.revision": head,
                "org.opencontainers.image.source": "https://github.com/acme/widget",
                "org.opencontainers.image.created": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            b"payload",
            work / "subject",
        )
        chown_tree(repo)
        env = {"GITHUB_SHA": head, "GITHUB_REF": "refs/heads/main"}
        inputs = {"image": image}
        warm_cache = work / "warm-cache"
        n = 0
        results: dict[str, str] = {}

        def temp() -> Path:
            nonlocal n
            n += 1
            return work / f"run{n}"

        def composite(cache: Path | None) -> Callable[[], None]:
            def go() -> None:
                run = run_composite(
                    RUNNER_IMAGE, repo, temp(), inputs, env, tool_cache=cache or temp()
                )
                assert run.returncode == 0, run.stdout + run.stderr
                results["composite"] = run.output["result"]

            return go

        def container(dockerfile: Path, tag: str) -> Callable[[], None]:
            def go() -> None:
                subprocess.run(
                    [
                        "docker",
                        "build",
                        "-q",
                        "--no-cache",
                        "-f",
                        str(dockerfile),
                        "-t",
                        tag,
                        str(ROOT),
                    ],
                    check=True,
                    capture_output=True,
                )
                run = run_action(tag, repo, temp(), inputs, env)
                assert run.returncode == 0, run.stdout + run.stderr
                results[tag] = run.output["result"]

            return go

        old_tag, new_tag = f"{PREFIX}-previous:latest", f"{PREFIX}-image:latest"
        forms: dict[str, Callable[[], None]] = {
            "composite action, cold (no venv, no cache)": composite(None),
            "composite action, warm (venv restored from the cache)": composite(warm_cache),
            f"previous container action (`{args.previous}`): build --no-cache + run": container(
                work / "Dockerfile.previous", old_tag
            ),
            "container image today: build --no-cache + run": container(
                ROOT / "Dockerfile", new_tag
            ),
        }

        def harness() -> None:
            # what the harness adds and a runner does not: a container start per `run:` step
            for _ in range(3):
                subprocess.run(["docker", "run", "--rm", RUNNER_IMAGE, "true"], check=True)

        forms[HARNESS] = harness
        composite(warm_cache)()  # fills the cache that the warm runs restore
        times: dict[str, list[float]] = {name: [] for name in forms}
        for _ in range(args.runs):
            for name, go in forms.items():
                start = time.perf_counter()
                go()
                times[name].append(time.perf_counter() - start)
        base, old, new = size_mb(BASE_IMAGE), size_mb(old_tag), size_mb(new_tag)
        for tag in (old_tag, new_tag, image):
            subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
    rows = [
        (name, f"{statistics.median(t):.1f}", f"{min(t):.1f}", f"{max(t):.1f}")
        for name, t in times.items()
    ]
    overhead = statistics.median(times[HARNESS])
    raw_cold = statistics.median(times["composite action, cold (no venv, no cache)"])
    raw_warm = statistics.median(times["composite action, warm (venv restored from the cache)"])
    cold, warm = raw_cold - overhead, raw_warm - overhead
    sizes = [
        (f"`{BASE_IMAGE}` (the base)", f"{base:.0f}", ""),
        (f"previous image (`{args.previous}`)", f"{old:.0f}", f"+{old - base:.0f}"),
        ("image today", f"{new:.0f}", f"+{new - base:.0f}"),
    ]
    text = f"""{TITLE}

Machine: {machine()}; {args.runs} rounds, each running every form once in turn (interleaved),
wall time in seconds from the first step to the verdict. The engine was shared with other
work while this ran, so single rounds are noisy; the median is the figure. Cold runs download
the lock's wheels from the package index every time (no pip cache), as a new runner does.

{table(rows, ("form", "median s", "min s", "max s"))}

The harness starts a container of the runner stand-in for each `run:` step, which a runner
does not: {overhead:.1f} s for three (the overhead row). Net of it, as a runner would see it:
cold {cold:.1f} s, warm {warm:.1f} s (with it: {raw_cold:.1f} s and {raw_warm:.1f} s).

Targets: cold at most 10 s, **{"met" if cold <= 10 else "missed"}** ({cold:.1f} s net,
{raw_cold:.1f} s with the harness); warm at most 3 s, **{"met" if warm <= 3 else "missed"}**
({warm:.1f} s net, {raw_warm:.1f} s with the harness).

Image size (`docker image inspect`, uncompressed), target at most +80 MB over the base:

{table(sizes, ("image", "MB", "over the base"))}

Target: at most +80 MB, **{"met" if new - base <= 80 else "missed"}** (+{new - base:.0f} MB).

What the image holds over the base (sizes from `dpkg-query` and `du`, when this was written):
git's program and commands, copied out of Debian's `git` package in a build stage (about 8 MB:
the 3.7 MB program, which every builtin command links to, its HTTP(S) transport and
`envsubst` helper, and the shell commands such as `submodule` and `bisect`), the curl
libraries the HTTPS transport needs (about 5 MB), and mb-ci's locked dependencies (28 MB, of
which 17 MB is their bytecode, kept so that every job does not compile them again: the image
sets `PYTHONDONTWRITEBYTECODE`). What it leaves out: the `git` package's dependency on `perl`
(`libperl5.36` 29 MB, `perl-modules-5.36` 18 MB), which serves only git's Perl commands
(`svn`, `send-email`, `add--interactive`) and made the image +115 MB before (at `2e1ef3d`);
git's servers, `http-push`, `imap-send` and `scalar`; apt's downloaded packages (94 MB, which
this base does not clean as the official image's `docker-clean` does); documentation, manuals
and translations (`path-exclude` in `/etc/dpkg/dpkg.cfg.d/`). A job in the image can still
clone, fetch deeper, init submodules and reach HTTPS remotes
(`tests/e2e/test_container.py::test_image_git_does_what_a_ci_job_asks_of_it_without_perl`);
`apt-get install git` in an image built on this one installs the whole package over it.

Reproduce: `.venv/bin/python bench/action_bench.py --runs {args.runs} --write docs/performance.md`
"""
    emit(TITLE, text, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
