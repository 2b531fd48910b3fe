"""(e) Scale: an audit of 20,000 tags across 200 repositories, its time and peak memory.

    .venv/bin/python bench/scale_bench.py [--repos 200] [--tags 100] [--images 5] [--runs 1]

A real docker-registry on loopback gets ``--repos`` repositories ``scale/rNNN``, each with
``--images`` small one-layer images pushed once and ``--tags`` tags spread over them (every tag
a manifest PUT through the distribution API, which is fast). Then, in one run and interleaved,
``mb-ci audit docker://…/scale/rNNN … --all-tags --no-git -q`` with ``--format json`` (every
row kept until the end) and with ``--format jsonl`` (each row written as it is judged), on the
tenth of the repositories and on all of them. Peak memory is the maximum resident set size of
the mb-ci process (``getrusage(RUSAGE_CHILDREN)`` in a fresh wrapper process per run).

Prints a Markdown section for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import MBCI, PYTHON, LocalRegistry, emit, env, machine, push_image, table

TITLE = "## (e) Scale: 20,000 tags across 200 repositories"

# runs COMMAND, prints its exit code and its peak RSS in KiB (Linux reports ru_maxrss in KiB)
WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def populate(host: str, repos: int, tags: int, images: int) -> None:
    def one(r: int) -> None:
        repo = f"scale/r{r:03}"
        for i in range(images):
            labels = {
                "org.opencontainers.image.revision": f"{r:03}{i:02}".ljust(40, "0"),
                "org.opencontainers.image.source": "https://github.com/acme/widget",
                "org.opencontainers.image.created": "2026-01-01T00:00:00Z",
            }
            names = [f"t{t:03}" for t in range(i, tags, images)]
            push_image(host, repo, names, labels, f"{repo} image {i}".encode())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(repos)))


def measure(cmd: list[str], out: Path) -> tuple[float, int, int]:
    """Wall seconds, exit code and peak RSS (KiB) of one run; the report goes to ``out``."""
    start = time.perf_counter()
    proc = subprocess.run(
        [PYTHON, "-c", WRAPPER, *cmd, "-o", str(out)],
        capture_output=True,
        text=True,
        env=env(),
        check=True,
    )
    elapsed = time.perf_counter() - start
    code, rss = proc.stdout.split()
    return elapsed, int(code), int(rss)


def lines_of(path: Path, fmt: str) -> int:
    if fmt == "jsonl":
        with path.open() as fh:
            return sum(1 for _ in fh) - 1
    return len(json.loads(path.read_text())["images"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--tags", type=int, default=100, help="tags per repository")
    parser.add_argument("--images", type=int, default=5, help="distinct images per repository")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--write", metavar="FILE", help="splice the section into FILE")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mbci-scale-") as tmp:
        root = Path(tmp)
        registry = LocalRegistry(root)
        try:
            start = time.perf_counter()
            populate(registry.host, args.repos, args.tags, args.images)
            filled = time.perf_counter() - start
            print(f"bench: {args.repos * args.tags} tags pushed in {filled:.0f} s", file=sys.stderr)
            sizes = sorted({max(1, args.repos // 10), args.repos})
            results: dict[tuple[int, str], list[tuple[float, int, int]]] = {}
            for _ in range(args.runs):
                for size in sizes:
                    refs = [f"docker://{registry.host}/scale/r{r:03}" for r in range(size)]
                    for fmt in ("json", "jsonl"):
                        cmd = [MBCI, "audit", *refs, "--all-tags", "--no-git", "-q"]
                        out = root / f"out.{fmt}"
                        got = measure([*cmd, "--format", fmt], out)
                        assert got[1] == 0, got
                        assert lines_of(out, fmt) == size * args.tags
                        results.setdefault((size, fmt), []).append(got)
                        print(f"bench: {size} repos {fmt}: {got}", file=sys.stderr)
        finally:
            registry.close()

    rows = []
    for (size, fmt), got in sorted(results.items()):
        wall = statistics.median(g[0] for g in got)
        rss = max(g[2] for g in got) / 1024
        tags = size * args.tags
        rows.append(
            [
                f"{tags:,}",
                size,
                f"`--format {fmt}`",
                f"{wall:.1f}",
                f"{tags / wall:.0f}",
                f"{rss:.0f}",
            ]
        )
    text = f"""{TITLE}

Machine: {machine()}. A real docker-registry on loopback, no added latency; the registry and
mb-ci share the machine's cores, and the machine was shared with other work while measuring.
Each of {args.repos} repositories holds {args.tags} tags over {args.images} one-layer images
({args.repos * args.images:,} distinct images, {args.repos * args.tags:,} tags). One command
audits the tenth of the repositories, then all of them: `mb-ci audit docker://REGISTRY/scale/r000
… --all-tags --no-git -q -o FILE`, with `--format json` (the rows are kept to sort them into
one document) and `--format jsonl` (each row written as it is judged), interleaved in one run,
{args.runs} run(s) each. "peak RSS" is the mb-ci process's maximum resident set size.

{table(rows, ["tags", "repositories", "format", "wall s", "tags/s", "peak RSS MiB"])}

Reproduce:

```sh
.venv/bin/python bench/scale_bench.py --repos {args.repos} --tags {args.tags} \\
    --images {args.images} --runs {args.runs} --write docs/performance.md
```
"""
    emit(TITLE, text, args.write)


if __name__ == "__main__":
    main()
