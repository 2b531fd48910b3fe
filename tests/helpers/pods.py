"""Pod lists in the shape ``kubectl get pods -A -o json`` prints, grown from a real one.

``REAL`` is the verbatim PodList in ``tests/data/kubernetes`` (see SOURCES.md); ``pod(...)``
copies its first pod and changes only the fields an audit reads (name, namespace, owner,
containers and their statuses), so everything else a real pod carries stays in place.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers.paths import DATA

REAL = DATA / "kubernetes" / "skipper-kube-system-podlist.json"
KEYS = {
    "container": ("containers", "containerStatuses"),
    "init": ("initContainers", "initContainerStatuses"),
    "ephemeral": ("ephemeralContainers", "ephemeralContainerStatuses"),
}


def real() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REAL.read_text())
    return data


def pod(
    name: str,
    namespace: str,
    containers: Sequence[Mapping[str, Any]],
    owner: tuple[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    phase: str = "Running",
) -> dict[str, Any]:
    """One pod. Each container: ``name``, ``image`` (the spec), ``image_id`` (the status;
    ``None``: no status at all), optional ``kind`` (container, init, ephemeral) and ``waiting``.
    """
    item = copy.deepcopy(real()["items"][0])
    meta = item["metadata"]
    meta["name"], meta["namespace"] = name, namespace
    meta["generateName"] = name.rsplit("-", 1)[0] + "-"
    meta["labels"] = dict(labels or {})
    if owner:
        meta["ownerReferences"][0].update(kind=owner[0], name=owner[1])
    else:
        del meta["ownerReferences"]
    template = item["spec"]["containers"][0]
    status_template = item["status"]["containerStatuses"][0]
    item["spec"]["containers"] = []
    item["status"]["containerStatuses"] = []
    item["status"]["phase"] = phase
    for c in containers:
        spec_key, status_key = KEYS[c.get("kind", "container")]
        spec = copy.deepcopy(template)
        spec.update(name=c["name"], image=c["image"])
        item["spec"].setdefault(spec_key, []).append(spec)
        if c.get("image_id") is None:
            continue
        status = copy.deepcopy(status_template)
        status.update(name=c["name"], image=c["image"], imageID=c["image_id"])
        if c.get("waiting"):
            status["state"] = {"waiting": {"reason": c["waiting"]}}
            status["containerID"] = ""
        item["status"].setdefault(status_key, []).append(status)
    return item


def pod_list(pods: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    out = real()
    out["items"] = list(pods)
    out["kind"], out["metadata"] = "List", {"resourceVersion": ""}
    return out


def write(path: Path, pods: Sequence[Mapping[str, Any]]) -> Path:
    path.write_text(json.dumps(pod_list(pods), indent=2))
    return path
