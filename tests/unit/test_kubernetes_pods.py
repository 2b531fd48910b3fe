"""Reading pod lists: a real PodList, every imageID spelling, workloads, and bad input."""

from __future__ import annotations

import io
import json

import pytest
from helpers.pods import REAL, pod, pod_list

from mb_ci.errors import UsageError
from mb_ci.sources import kubernetes as k

D = "sha256:" + "a" * 64


def test_the_real_pod_list_is_nine_daemonset_containers():
    pods = k.parse_pods(REAL.read_bytes(), "pods.json")
    assert len(pods) == 9
    assert {p.workload for p in pods} == {"DaemonSet/skipper-ingress"}
    assert {p.namespace for p in pods} == {"kube-system"}
    first = pods[0]
    assert first.container == "kube-system/skipper-ingress-03zmn/skipper-ingress"
    assert first.reference == (
        "docker://registry.opensource.zalan.do/pathfinder/skipper@sha256:"
        "65e409ae5b2d553181bd086cc59aaaaa19c9b5b6e9aadd3c7b8122606f03744a"
    )
    assert first.started == "2017-12-13T20:57:36Z" and first.reason is None


@pytest.mark.parametrize(
    ("image_id", "reference", "config", "reason"),
    [
        (f"docker-pullable://ghcr.io/acme/web@{D}", f"docker://ghcr.io/acme/web@{D}", None, None),
        (f"docker.io/library/nginx@{D}", f"docker://docker.io/library/nginx@{D}", None, None),
        (f"ghcr.io/acme/web@{D}", f"docker://ghcr.io/acme/web@{D}", None, None),
        (f"docker://{D}", "docker://ghcr.io/acme/web:1", D, None),
        (D, "docker://ghcr.io/acme/web:1", D, None),
        ("", None, None, "no imageID yet"),
        ("   ", None, None, "no imageID yet"),
        (
            "docker.io/library/registry.k8s.io/e2e-test-images/agnhost:2.56",
            None,
            None,
            "imageID 'docker.io/library/registry.k8s.io/e2e-test-images/agnhost:2.56' names no "
            "registry digest",
        ),
        (
            "ghcr.io/acme/web@sha256:abc",
            None,
            None,
            "imageID 'ghcr.io/acme/web@sha256:abc' names no registry digest",
        ),
    ],
)
def test_every_imageid_spelling(image_id, reference, config, reason):
    assert k.running_reference("ghcr.io/acme/web:1", image_id) == (reference, config, reason)


def test_an_image_id_without_a_spec_image_is_a_reason():
    ref, config, reason = k.running_reference("", D)
    assert ref is None and config == D and "names no image" in (reason or "")


@pytest.mark.parametrize(
    ("owner", "labels", "name", "workload"),
    [
        (
            ("ReplicaSet", "web-5d4f8b7c9"),
            {"pod-template-hash": "5d4f8b7c9"},
            "web-5d4f8b7c9-x",
            "Deployment/web",
        ),
        (("ReplicaSet", "legacy"), {}, "legacy-x", "ReplicaSet/legacy"),
        (("StatefulSet", "db"), {}, "db-0", "StatefulSet/db"),
        (("DaemonSet", "agent"), {}, "agent-x", "DaemonSet/agent"),
        (("Job", "report-28930560"), {}, "report-28930560-x", "CronJob/report"),
        (("Job", "migrate"), {}, "migrate-x", "Job/migrate"),
        (None, {}, "debug", "Pod/debug"),
    ],
)
def test_workloads_follow_owner_references(owner, labels, name, workload):
    item = pod(name, "ns", [{"name": "c", "image": "x:1", "image_id": ""}], owner, labels)
    assert k.workload_of(item["metadata"]) == workload


def test_init_and_ephemeral_containers_and_missing_statuses():
    item = pod(
        "p",
        "ns",
        [
            {"name": "setup", "kind": "init", "image": "x:1", "image_id": f"x@{D}"},
            {"name": "app", "image": "x:1", "image_id": "", "waiting": "ContainerCreating"},
            {"name": "dbg", "kind": "ephemeral", "image": "busybox", "image_id": None},
        ],
        phase="Pending",
    )
    rows = {p.container: p for p in k.parse_pods(json.dumps(pod_list([item])).encode(), "x")}
    assert sorted(rows) == ["ns/p/app", "ns/p/ephemeral:dbg", "ns/p/init:setup"]
    assert rows["ns/p/init:setup"].reference == f"docker://x@{D}"
    assert rows["ns/p/app"].reason == "no imageID yet (ContainerCreating)"
    assert rows["ns/p/ephemeral:dbg"].reason == "no status yet (pod Pending)"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"NAME READY STATUS\n", "pods.json: not JSON (line 1, column 1: Expecting value)"),
        (b"[]", "pods.json: expected a JSON object with 'items' (a PodList)"),
        (b'{"kind": "PodList"}', "pods.json: no 'items' list: not a PodList"),
        (b'{"items": [1]}', "pods.json: items[0] is not an object"),
        (b'{"items": [{"kind": "Deployment"}]}', "pods.json: items[0] is a Deployment, not a Pod"),
        (b'{"items": [{"metadata": {}}]}', "pods.json: items[0]: metadata.name is missing"),
        (b"\xff\xfe{}", "pods.json: not UTF-8 (byte 0)"),
        (b"[" * 100_000 + b"]" * 100_000, "pods.json: nested too deeply to be a pod list"),
    ],
)
def test_bad_pod_lists_are_one_usage_line(raw, message):
    with pytest.raises(UsageError) as caught:
        k.parse_pods(raw, "pods.json")
    assert caught.value.message == message


def test_a_single_pod_and_missing_fields_still_read():
    one = pod("solo", "ns", [{"name": "c", "image": "x:1", "image_id": f"x@{D}"}])
    one["kind"] = "Pod"
    assert [p.container for p in k.parse_pods(json.dumps(one).encode(), "x")] == ["ns/solo/c"]
    bare = {"items": [{"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}]}
    (row,) = k.parse_pods(json.dumps(bare).encode(), "x")
    assert row.namespace == "default" and row.reason == "no status yet (pod phase unknown)"


def test_a_huge_list_is_refused_before_it_is_parsed(tmp_path):
    big = tmp_path / "pods.json"
    with big.open("wb") as fh:
        fh.truncate(100 * 1000 * 1000)  # 100 MB, sparse
    with pytest.raises(UsageError) as caught:
        k.read_pods(str(big))
    assert caught.value.message == f"--pods {big}: larger than 64 MiB"
    stream = io.BytesIO(b" " * (k.MAX_PODS_BYTES + 1))
    with pytest.raises(UsageError, match="larger than 64 MiB"):
        k.read_pods("-", stream)


def test_the_cli_says_one_line_and_exits_2_on_a_bad_list(tmp_path, mbci):
    bad = tmp_path / "pods.txt"
    bad.write_text("NAME   READY   STATUS\nweb    1/1     Running\n")
    result = mbci("audit", "--kubernetes", "--pods", str(bad), "--no-git", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"mb-ci: error: --pods {bad}: not JSON (line 1, column 1: Expecting value) "
        "(give the output of kubectl get pods -A -o json)"
    ]
    lone = mbci("audit", "--pods", str(bad), cwd=tmp_path)
    assert lone.returncode == 2 and "go with --kubernetes" in lone.stderr


def test_without_pods_and_without_kubectl_the_cli_says_how(tmp_path, mbci):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = mbci("audit", "--kubernetes", "--no-git", env={"PATH": str(empty)}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mb-ci: error: --kubernetes: kubectl is not on PATH "
        "(give the list with --pods FILE, or --pods - for standard input)"
    ]


def test_real_container_statuses_pending_and_image_id_forms():
    """Two ContainerStatus objects a real exporter printed (tests/data/SOURCES.md)."""
    from helpers.paths import DATA

    statuses = json.loads(
        (DATA / "kubernetes" / "leanix-exporter-container-statuses.json").read_text()
    )
    item = pod("leanix", "giantswarm", [])
    item["spec"]["containers"] = [{"name": s["name"], "image": s["image"]} for s in statuses]
    item["status"]["containerStatuses"] = statuses
    rows = {p.name: p for p in k.parse_pods(json.dumps(pod_list([item])).encode(), "x")}
    assert rows["demo"].reason == "no imageID yet (ErrImageNeverPull)"
    exporter = rows["leanix-exporter"]
    assert exporter.reference == "docker://giantswarm/leanix-exporter:latest"
    assert exporter.image_config == (
        "sha256:012b66025e29c5f50abdfa08004d124dbffe90cfc6c216753980ff148781ae3d"
    )
    assert exporter.started == "2017-07-18T12:32:01Z" and exporter.reason is None
