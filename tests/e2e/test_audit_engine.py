"""``mb-ci audit`` against the real engine and a real registry on loopback."""

from __future__ import annotations

import json
import uuid

import pytest
from helpers.clock import now
from helpers.git import SOURCE
from helpers.registry import count

pytestmark = pytest.mark.docker


def origin(revision: str, **extra: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.created": now(),
        **extra,
    }


@pytest.fixture
def containers(engine):
    """Start containers; remove them, and any image left dangling, when the test ends."""
    started, leftovers = [], []

    def run(tag: str, name: str):
        container = engine.containers.run(tag, name=name, detach=True)
        started.append(container)
        return container

    yield run, leftovers
    for container in started:
        container.remove(force=True)
    for image_id in leftovers:
        try:
            engine.images.remove(image_id, force=True)
        except Exception:
            pass


def test_running_lists_containers_with_labels_verdicts_and_warnings(
    repo, build_image, containers, engine, mbci
):
    run, leftovers = containers
    stamp = uuid.uuid4().hex[:8]
    good = build_image(
        origin(repo.head, **{"org.opencontainers.image.version": "1.4.2"}), busybox=True
    )
    bare = build_image({"com.example.team": "core"}, busybox=True)
    stale_tag = f"mb-ci-test/stale-{stamp}:latest"
    build_image(origin("f" * 40), tag=stale_tag, busybox=True)
    names = {kind: f"mbci-audit-{stamp}-{kind}" for kind in ("good", "bare", "stale")}
    run(good, names["good"])
    run(bare, names["bare"])
    stale = run(stale_tag, names["stale"])
    leftovers.append(stale.image.id)
    build_image(origin(repo.head), tag=stale_tag)  # the tag moves on: the container's image dangles

    result = mbci("audit", "--running", "--format", "json", "-q", cwd=repo.path)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    rows = {r["container"]: r for r in data["images"] if r["container"] in names.values()}
    assert set(rows) == set(names.values())
    g, b, s = rows[names["good"]], rows[names["bare"]], rows[names["stale"]]
    assert (g["reference"], g["revision"], g["source"]) == (good, repo.head, SOURCE)
    assert g["version"] == "1.4.2" and g["created"] and g["verdict"] == "pass"
    assert not g["dangling"] and not g["no_origin"]
    assert b["verdict"] == "fail" and b["no_origin"] and b["labels"] == {"com.example.team": "core"}
    assert {f["check"] for f in b["findings"]} == {"label-required"}
    assert s["verdict"] == "fail" and s["dangling"] and s["revision"] == "f" * 40
    assert "revision-matches-head" in {f["check"] for f in s["findings"]}

    text = mbci("audit", "--running", "-q", "--where", f"container={names['bare']}", cwd=repo.path)
    assert f"({bare}):" in text.stdout
    assert text.returncode == 1
    lines = [line for line in text.stdout.splitlines() if line.startswith(names["bare"])]
    assert "fail" in lines[0] and "no origin labels" in lines[0]  # the table row
    assert lines[1] == f"{names['bare']} ({bare}):"  # then its findings
    assert names["good"] not in text.stdout
    only_good = mbci(
        "audit", "--running", "-q", "--where", f"container={names['good']}", cwd=repo.path
    )
    assert only_good.returncode == 0  # the exit code follows the images shown

    report_only = mbci("audit", "--running", "--report-only", "-q", cwd=repo.path)
    assert report_only.returncode == 0
    line = next(ln for ln in report_only.stdout.splitlines() if ln.startswith(names["stale"]))
    assert "dangling" in line and "ffffffffffff" in line


def test_references_from_file_any_transport_and_exit_codes(repo, build_image, tmp_path, mbci):
    good = build_image(origin(repo.head))
    listing = tmp_path / "images.txt"
    listing.write_text(f"# fleet\n{good}   # the web tier\n\ndocker-daemon:{good}\n")
    result = mbci("audit", "--from-file", str(listing), "-q", cwd=repo.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 images audited: 2 passed, 0 failed" in result.stdout

    missing = f"mb-ci-test/missing-{uuid.uuid4().hex[:8]}:1"
    gone = mbci(
        "audit", good, missing, "--format", "csv", "-o", str(tmp_path / "a.csv"), cwd=repo.path
    )
    assert gone.returncode == 3  # nothing failed, but one image could not be inspected
    csv_text = (tmp_path / "a.csv").read_text()
    assert f",{missing},unreadable," in csv_text and "no such image" in csv_text
    assert gone.stdout == ""  # the report went to the file; progress and summary to stderr
    assert "1 unreadable" in gone.stderr

    piped = mbci(
        "audit",
        "--from-file",
        "-",
        "-q",
        "--report",
        f"json={tmp_path / 'a.json'}",
        input=f"{good}\n# done\n",
        cwd=repo.path,
    )
    assert piped.returncode == 0 and "1 image audited: 1 passed" in piped.stdout
    assert json.loads((tmp_path / "a.json").read_text())["images"][0]["reference"] == good

    bad = mbci("audit", "--from-file", str(tmp_path / "nope.txt"), cwd=repo.path)
    assert bad.returncode == 2 and "nope.txt" in bad.stderr and "Traceback" not in bad.stderr
    assert mbci("audit", cwd=repo.path).returncode == 2


def test_no_git_and_outside_a_checkout_judge_the_policy_only(repo, build_image, tmp_path, mbci):
    old = build_image(origin("a" * 40))
    in_checkout = mbci("audit", old, "-q", cwd=repo.path)
    assert in_checkout.returncode == 1 and "revision-matches-head" in in_checkout.stdout
    assert mbci("audit", old, "-q", "--no-git", cwd=repo.path).returncode == 0
    elsewhere = tmp_path / "not-a-checkout"
    elsewhere.mkdir()
    assert mbci("audit", old, "-q", cwd=elsewhere).returncode == 0


# --- a registry with many tags ---------------------------------------------------------------

COMMITS = 5
TAGS_PER_COMMIT = 10


@pytest.fixture(scope="module")
def fifty_tags(audit_registry, build_image, engine, tmp_path_factory):
    """50 tags in ``audit/where``: 10 for each of 5 commits of a real repository."""
    from helpers.git import new_repo

    repo = new_repo(tmp_path_factory.mktemp("fleet") / "widget")
    shas = [repo.head] + [repo.commit(f"change {n}") for n in range(1, COMMITS)]
    name = f"{audit_registry.host}/audit/where"
    tags: dict[str, list[str]] = {}
    for n, sha in enumerate(shas):
        first = f"c{n}-0"
        build_image(origin(sha), tag=f"{name}:{first}")
        engine.images.push(name, tag=first)
        rest = [f"c{n}-{k}" for k in range(1, TAGS_PER_COMMIT)]
        audit_registry.tag("audit/where", first, *rest)
        tags[sha] = [first, *rest]
    return name, shas, tags


def test_where_revision_finds_exactly_the_tags_of_one_commit(fifty_tags, mbci, tmp_path):
    name, shas, tags = fifty_tags
    wanted = shas[2]
    for abbrev in (wanted[:7], wanted[:10].upper(), wanted):
        result = mbci(
            "audit",
            f"docker://{name}",
            "--all-tags",
            "--no-git",
            "--format",
            "json",
            "-q",
            "--where",
            f"revision={abbrev}",
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["summary"]["audited"] == COMMITS * TAGS_PER_COMMIT
        found = sorted(r["reference"].rsplit(":", 1)[1] for r in data["images"])
        assert found == sorted(tags[wanted])
    source = mbci(
        "audit",
        f"docker://{name}",
        "--all-tags",
        "--no-git",
        "--format",
        "csv",
        "-q",
        "--where",
        "source=git@github.com:ACME/widget.git",
        cwd=tmp_path,
    )
    assert len(source.stdout.splitlines()) == 1 + COMMITS * TAGS_PER_COMMIT


def test_shards_merge_to_the_single_run(fifty_tags, mbci, tmp_path):
    name = fifty_tags[0]
    common = ("audit", f"docker://{name}", "--all-tags", "--no-git", "--format", "json", "-q")
    single = mbci(*common, "-o", str(tmp_path / "all.json"), cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    parts = []
    for n in (1, 2, 3):
        path = tmp_path / f"shard{n}.json"
        assert mbci(*common, "--shard", f"{n}/3", "-o", str(path), cwd=tmp_path).returncode == 0
        parts.append(str(path))
        assert 0 < json.loads(path.read_text())["summary"]["audited"] < 50
    merged = mbci("audit", "--merge", *parts, "--format", "json", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    whole = json.loads((tmp_path / "all.json").read_text())
    joined = json.loads(merged.stdout)
    assert joined.pop("shards") == ["1/3", "2/3", "3/3"] and whole.pop("shards") == []
    assert joined == whole
    missing = mbci("audit", "--merge", parts[0], parts[2], cwd=tmp_path)
    assert missing.returncode == 2 and "shard 2/3 missing" in missing.stderr


def _listing(fifty_tags, tmp_path):
    """The 50 tags and one that does not exist, as a --from-file list."""
    name, _, tags = fifty_tags
    refs = [f"docker://{name}:{t}" for found in tags.values() for t in found]
    listing = tmp_path / "refs.txt"
    listing.write_text("\n".join([*refs, f"docker://{name}:gone"]) + "\n")
    return listing


@pytest.mark.parametrize("shard_format", ["json", "jsonl"])
def test_eight_shards_merge_to_one_run_rows_summary_and_exit_code(
    fifty_tags, mbci, tmp_path, shard_format
):
    listing = _listing(fifty_tags, tmp_path)
    common = ("audit", "--from-file", str(listing), "--no-git", "-q")
    single = mbci(*common, "--format", "json", "-o", str(tmp_path / "all.json"), cwd=tmp_path)
    assert single.returncode == 3, single.stderr  # the missing tag is unreadable
    parts, audited = [], 0
    for n in range(1, 9):
        path = tmp_path / f"shard{n}.{shard_format}"
        mbci(*common, "--format", shard_format, "--shard", f"{n}/8", "-o", str(path), cwd=tmp_path)
        head = json.loads(
            path.read_text().splitlines()[-1] if shard_format == "jsonl" else path.read_text()
        )
        audited += head["summary"]["audited"]
        parts.append(str(path))
    assert audited == 51
    merged = mbci("audit", "--merge", *reversed(parts), "--format", "json", cwd=tmp_path)
    assert merged.returncode == single.returncode, merged.stderr
    whole = json.loads((tmp_path / "all.json").read_text())
    joined = json.loads(merged.stdout)
    assert joined.pop("shards") == [f"{n}/8" for n in range(1, 9)] and whole.pop("shards") == []
    assert joined["images"] == whole["images"] and joined["summary"] == whole["summary"]
    assert joined == whole


def test_jsonl_streams_the_rows_of_the_json_report(fifty_tags, mbci, tmp_path):
    listing = _listing(fifty_tags, tmp_path)
    common = ("audit", "--from-file", str(listing), "--no-git", "-q")
    whole = json.loads(mbci(*common, "--format", "json", cwd=tmp_path).stdout)
    streamed = mbci(*common, "--format", "jsonl", "--report", "json=r.json", cwd=tmp_path)
    assert streamed.returncode == 3, streamed.stderr
    lines = [json.loads(line) for line in streamed.stdout.splitlines()]
    images, head = lines[:-1], lines[-1]
    assert sorted(images, key=lambda i: i["reference"]) == whole["images"]
    assert head == {k: v for k, v in whole.items() if k != "images"}
    assert json.loads((tmp_path / "r.json").read_text()) == whole
    assert "51 images audited: 50 passed, 0 failed, 1 unreadable" in streamed.stderr
    failing = mbci(*common, "--format", "jsonl", "--failing", "-o", "f.jsonl", cwd=tmp_path)
    assert failing.returncode == 3 and failing.stdout == ""
    shown = (tmp_path / "f.jsonl").read_text().splitlines()
    assert len(shown) == 2 and json.loads(shown[0])["verdict"] == "unreadable"


def test_jsonl_on_a_pipe_with_the_progress_bar_on_a_terminal(fifty_tags, tmp_path):
    """stdout to a file, stderr a terminal: a bar redrawn in place, and clean lines of JSON."""
    import os
    import pty
    import subprocess
    import sys

    from helpers.env import clean_env

    listing = _listing(fifty_tags, tmp_path)
    main, terminal = pty.openpty()
    with (tmp_path / "out.jsonl").open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mb_ci", "audit", "--from-file", str(listing), "--no-git"]
            + ["--format", "jsonl"],
            cwd=tmp_path,
            env=clean_env(None),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=terminal,
        )
        os.close(terminal)
        seen = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal's other end closed
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(60) == 3
    os.close(main)
    shown = seen.decode()
    assert "\r\x1b[2Kaudit [" in shown and "51/51, 1 not passing" in shown
    assert "\x1b[2Kmb-ci audit: 51 images audited" in shown  # the bar is cleared first
    assert "mb-ci audit: 1/51" not in shown
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 52 and all(line.startswith("{") for line in lines)


def test_two_hundred_tags_fetch_each_manifest_and_config_once(
    audit_registry,
    build_image,
    engine,
    mbci,
    tmp_path,
):
    repo_name = "audit/many"
    name = f"{audit_registry.host}/{repo_name}"
    digests, configs, layers = set(), set(), set()
    tags = []
    for n in range(4):
        first = f"base{n}"
        build_image(origin(f"{n}" * 40), tag=f"{name}:{first}")
        engine.images.push(name, tag=first)
        more = [f"t{n}-{k}" for k in range(49)]
        digests.add(audit_registry.tag(repo_name, first, *more))
        body = json.loads(audit_registry.manifest(repo_name, first)[0])
        configs.add(body["config"]["digest"])
        layers.update(layer["digest"] for layer in body["layers"])
        tags += [first, *more]
    assert len(tags) == 200 and len(digests) == len(configs) == 4

    outputs = {}
    for mode in ("head", "get", "auto"):
        mark = audit_registry.mark()
        result = mbci(
            "audit",
            f"docker://{name}",
            "--all-tags",
            "--no-git",
            "-q",
            "--manifest-requests",
            mode,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "200 images audited: 200 passed" in result.stdout
        outputs[mode] = result.stdout
        log = audit_registry.requests(mark)
        assert all(status == 200 for _, _, status in log), log
        blobs = count(log, "GET", "/blobs/")
        assert {path.rsplit("/", 1)[1] for path in blobs} == configs  # configs only, no layer
        assert set(blobs.values()) == {1}
        assert not any(layer in path for _, path, _ in log for layer in layers)
        manifests = count(log, "GET", "/manifests/")
        heads = count(log, "HEAD", "/manifests/")
        if mode == "head":
            # each tag is resolved by one HEAD; each distinct manifest then fetched once, by digest
            assert set(manifests) == {f"/v2/{repo_name}/manifests/{d}" for d in digests}
            assert {p.rsplit("/", 1)[1] for p in heads} == set(tags)
            assert set(heads.values()) == {1}
            assert len(log) == 1 + 200 + 4 + 4  # the tag list, the HEADs, 4 manifests, 4 configs
        else:
            # one GET per tag (auto is GET off Docker Hub); configs shared through their digest
            assert not heads
            assert {p.rsplit("/", 1)[1] for p in manifests} == set(tags)
            assert len(log) == 1 + 200 + 4  # the tag list, the manifests by tag, 4 configs
        assert set(manifests.values()) == {1}
    assert outputs["head"] == outputs["get"] == outputs["auto"]
