"""``mb-ci audit --kubernetes``: pod lists whose imageIDs name images in a real loopback registry.

The pod lists are grown from a real ``kubectl get pods -o json`` (``helpers.pods``); the images
are built FROM scratch on the real engine and pushed to the real registry.
"""

from __future__ import annotations

import json
import os
import stat
import uuid

import pytest
from helpers.clock import now
from helpers.git import SOURCE
from helpers.pods import pod, write
from helpers.registry import count

pytestmark = pytest.mark.docker


def origin(revision: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.created": now(),
    }


@pytest.fixture(scope="module")
def cluster(audit_registry, build_image, engine, tmp_path_factory):
    """Two commits' images in the registry and a pod list of every imageID spelling."""
    from helpers.git import new_repo

    repo = new_repo(tmp_path_factory.mktemp("k8s") / "widget")
    old_sha = repo.head
    new_sha = repo.commit("fix the bug")
    stamp = uuid.uuid4().hex[:8]
    host = audit_registry.host
    name = f"k8s-{stamp}/web"
    digests, configs = {}, {}
    for label, sha in (("old", old_sha), ("new", new_sha)):
        build_image(origin(sha), tag=f"{host}/{name}:{label}")
        engine.images.push(f"{host}/{name}", tag=label)
        digests[label] = audit_registry.tag(name, label)
        configs[label] = audit_registry.config_digest(name, label)
    audit_registry.tag(name, "new", "live")  # the tag moved on after the old pods started
    web = f"{host}/{name}"
    pods = [
        # a Deployment through its ReplicaSet, dockershim's spelling, started on the old digest
        *(
            pod(
                f"web-5d4f8b7c9-{n}",
                "shop",
                [
                    {
                        "name": "web",
                        "image": f"{web}:live",
                        "image_id": f"docker-pullable://{web}@{digests['old']}",
                    }
                ],
                owner=("ReplicaSet", "web-5d4f8b7c9"),
                labels={"pod-template-hash": "5d4f8b7c9"},
            )
            for n in ("a1", "b2")
        ),
        # a StatefulSet on containerd (REPO@digest), with an init container, already rolled out
        pod(
            "db-0",
            "shop",
            [
                {
                    "name": "migrate",
                    "kind": "init",
                    "image": f"{web}:new",
                    "image_id": f"{web}@{digests['new']}",
                },
                {"name": "db", "image": f"{web}:live", "image_id": f"{web}@{digests['new']}"},
            ],
            owner=("StatefulSet", "db"),
        ),
        # a CronJob's Job whose runtime reports only the image ID (docker://sha256:config)
        pod(
            "report-28930560-x7k2p",
            "batch",
            [{"name": "report", "image": f"{web}:new", "image_id": f"docker://{configs['new']}"}],
            owner=("Job", "report-28930560"),
        ),
        # only the image ID again, but the tag has moved on since: no registry serves it by ID
        pod(
            "report-28930620-q8z1m",
            "batch",
            [{"name": "report", "image": f"{web}:live", "image_id": f"docker://{configs['old']}"}],
            owner=("Job", "report-28930620"),
        ),
        # pending: no imageID yet; and a pod with no status for its container at all
        pod(
            "queue-7c9d-pending",
            "batch",
            [{"name": "queue", "image": f"{web}:new", "image_id": "", "waiting": "ErrImagePull"}],
            owner=("DaemonSet", "queue"),
            phase="Pending",
        ),
        # a bare pod whose image is not in the registry
        pod(
            "debug",
            "default",
            [
                {
                    "name": cname,
                    "image": f"{host}/k8s-{stamp}/gone:1",
                    "image_id": f"{host}/k8s-{stamp}/gone@sha256:{'0' * 64}",
                }
                for cname in ("gone", "sidecar")
            ],
        ),
    ]
    return repo, old_sha, new_sha, digests, pods, name, configs


def test_a_pod_list_is_audited_by_digest_grouped_by_workload(
    cluster, audit_registry, mbci, tmp_path
):
    repo, old_sha, new_sha, digests, pods, name, configs = cluster
    pods_file = write(tmp_path / "pods.json", pods)
    mark = audit_registry.mark()
    result = mbci(
        "audit",
        "--kubernetes",
        "--pods",
        str(pods_file),
        "--format",
        "json",
        "-q",
        cwd=repo.path,
    )
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    rows = {r["container"]: r for r in data["images"]}
    assert sorted(rows) == [
        "batch/queue-7c9d-pending/queue",
        "batch/report-28930560-x7k2p/report",
        "batch/report-28930620-q8z1m/report",
        "default/debug/gone",
        "default/debug/sidecar",
        "shop/db-0/db",
        "shop/db-0/init:migrate",
        "shop/web-5d4f8b7c9-a1/web",
        "shop/web-5d4f8b7c9-b2/web",
    ]
    web = rows["shop/web-5d4f8b7c9-a1/web"]
    assert web["kubernetes"]["workload"] == "Deployment/web"
    assert web["kubernetes"]["namespace"] == "shop"
    assert web["revision"] == old_sha and web["digest"] == digests["old"]
    moved = [f for f in web["findings"] if f["check"] == "kubernetes-tag-moved"]
    assert len(moved) == 1 and moved[0]["severity"] == "warning"
    assert moved[0]["message"] == (
        f"running {digests['old']}, tag {audit_registry.host}/{name}:live now {digests['new']}"
    )
    # the old image is not at HEAD: it fails on revision-matches-head, not on the moved tag
    assert web["verdict"] == "fail"
    assert "revision-matches-head" in {f["check"] for f in web["findings"]}
    db = rows["shop/db-0/db"]
    assert db["kubernetes"]["workload"] == "StatefulSet/db" and db["verdict"] == "pass"
    assert db["revision"] == new_sha
    assert rows["shop/db-0/init:migrate"]["kubernetes"]["kind"] == "init"
    report = rows["batch/report-28930560-x7k2p/report"]
    assert report["kubernetes"]["workload"] == "CronJob/report"
    assert report["verdict"] == "pass" and report["revision"] == new_sha
    gone_by_id = rows["batch/report-28930620-q8z1m/report"]
    assert gone_by_id["verdict"] == "unreadable"
    assert gone_by_id["error"].startswith(f"runs image {configs['old'][:19]}… (the runtime reports")
    pending = rows["batch/queue-7c9d-pending/queue"]
    assert pending["verdict"] == "unreadable"
    assert pending["error"] == "no imageID yet (ErrImagePull)"
    gone = rows["default/debug/gone"]
    assert gone["verdict"] == "unreadable" and gone["kubernetes"]["workload"] == "Pod/debug"

    # each distinct digest read once, the moved tag resolved once
    log = audit_registry.requests(mark)
    by_digest = count(log, "GET", f"/v2/{name}/manifests/sha256:")
    assert by_digest and max(by_digest.values()) == 1, by_digest
    assert sum(count(log, "HEAD", f"/v2/{name}/manifests/live").values()) == 1
    # a missing image is asked for once too, however many containers name it
    gone_path = f"/gone/manifests/sha256:{'0' * 64}"
    assert sum(count(log, "GET", gone_path).values()) == 1, log
    assert rows["default/debug/sidecar"]["error"] == gone["error"]


def test_the_three_questions_from_one_pod_list(cluster, mbci, tmp_path):
    _, old_sha, new_sha, _, pods, _, _ = cluster
    pods_file = str(write(tmp_path / "pods.json", pods))
    base = ("audit", "--kubernetes", "--pods", pods_file, "-q", "--no-git", "--format", "json")

    def shown(*extra: str) -> list[str]:
        result = mbci(*base, *extra, cwd=tmp_path)
        assert result.returncode in (0, 1, 3), result.stderr
        return sorted(r["container"] for r in json.loads(result.stdout)["images"])

    # which commit created this image? / is commit X running anywhere?
    assert shown("--where", f"revision={old_sha[:7]}") == [
        "shop/web-5d4f8b7c9-a1/web",
        "shop/web-5d4f8b7c9-b2/web",
    ]
    assert len(shown("--where", f"revision={new_sha}")) == 3
    assert shown("--where", "workload=db") == ["shop/db-0/db", "shop/db-0/init:migrate"]
    assert shown("--where", "namespace=batch", "--failing") == [
        "batch/queue-7c9d-pending/queue",
        "batch/report-28930620-q8z1m/report",
    ]
    # how many containers run an image with a known finding?
    strict = mbci(*base, "--strict", "--failing", cwd=tmp_path)
    failing = {r["container"] for r in json.loads(strict.stdout)["images"]}
    assert {"shop/web-5d4f8b7c9-a1/web", "shop/web-5d4f8b7c9-b2/web"} <= failing


def test_stdin_shards_merge_and_jsonl(cluster, mbci, tmp_path):
    _, _, _, _, pods, _, _ = cluster
    text = json.dumps({"kind": "List", "items": pods})
    parts = []
    for n in (1, 2):
        out = tmp_path / f"shard{n}.json"
        result = mbci(
            "audit",
            "--kubernetes",
            "--pods",
            "-",
            "--no-git",
            "-q",
            "--shard",
            f"{n}/2",
            "--format",
            "json",
            "-o",
            str(out),
            input=text,
            cwd=tmp_path,
        )
        assert result.returncode in (0, 1, 3), result.stderr
        parts.append(str(out))
    merged = mbci("audit", "--merge", *parts, "--format", "json", "-q", cwd=tmp_path)
    data = json.loads(merged.stdout)
    assert data["summary"]["audited"] == 9
    assert all("kubernetes" in r for r in data["images"])
    lines = mbci(
        "audit",
        "--kubernetes",
        "--pods",
        "-",
        "--no-git",
        "-q",
        "--format",
        "jsonl",
        input=text,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert len(lines) == 10 and json.loads(lines[-1])["summary"]["audited"] == 9


def test_kubectl_on_path_is_run_with_context_and_namespace(cluster, mbci, tmp_path):
    """No API server runs here: a stand-in kubectl on PATH prints the list and its argv."""
    _, _, _, _, pods, _, _ = cluster
    listing = write(tmp_path / "pods.json", pods[:1])
    argv_file = tmp_path / "argv"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    kubectl = bindir / "kubectl"
    kubectl.write_text(f'#!/bin/sh\necho "$@" > {argv_file}\ncat {listing}\n')
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    result = mbci(
        "audit",
        "--kubernetes",
        "--context",
        "prod",
        "--namespace",
        "shop",
        "--no-git",
        "-q",
        "--format",
        "csv",
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr  # the moved tag is a warning
    assert argv_file.read_text().split() == [
        "get",
        "pods",
        "-o",
        "json",
        "--namespace",
        "shop",
        "--context",
        "prod",
    ]
    assert len(result.stdout.splitlines()) == 2 and "kubernetes-tag-moved" in result.stdout
    kubectl.write_text("#!/bin/sh\necho 'error: context \"prod\" does not exist' >&2\nexit 1\n")
    failed = mbci("audit", "--kubernetes", "--no-git", "-q", env=env, cwd=tmp_path)
    assert failed.returncode == 3
    assert failed.stderr.strip().splitlines() == [
        'mb-ci: error: kubectl get pods: exit 1: error: context "prod" does not exist'
    ]
