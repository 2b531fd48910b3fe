"""A Kubernetes pod list (``kubectl get pods -A -o json``) as facts: one entry per container.

Only the pod list is read: mb-ci never talks to the API server and never reads a kubeconfig or
a pull secret. ``kubectl`` itself may be run to print the list (it does the authentication).
The image a container really runs is ``status.*Statuses[].imageID``; its spellings differ by
runtime and by age, and each is turned into a registry reference or a reason (see
:func:`running_reference`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mb_ci.errors import InspectError, UsageError

MAX_PODS_BYTES = 64 * 1024 * 1024
KUBECTL_TIMEOUT = 120
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]{0,30}://")
# a CronJob names each Job after it with the scheduled time in minutes since the epoch
_CRONJOB_JOB = re.compile(r"^(?P<name>.+)-(?P<stamp>\d{8,10})$")
# (spec key, status key, the kind shown in a row)
KINDS = (
    ("initContainers", "initContainerStatuses", "init"),
    ("containers", "containerStatuses", "container"),
    ("ephemeralContainers", "ephemeralContainerStatuses", "ephemeral"),
)


@dataclass(frozen=True)
class PodContainer:
    """One container of one pod, as the pod list states it."""

    namespace: str
    pod: str
    name: str
    kind: str  # container | init | ephemeral
    workload: str  # Kind/name of the controller at the top: Deployment/web, Pod/debug
    spec_image: str  # the reference in the pod's spec, usually a tag
    image_id: str  # status imageID, verbatim ("" while pending)
    reference: str | None  # docker://REPO@sha256:… the container runs, or None
    image_config: str | None = None  # a runtime that reports only the image ID (sha256:…)
    reason: str | None = None  # why there is no reference
    phase: str | None = None
    started: str | None = None

    @property
    def container(self) -> str:
        """``NAMESPACE/POD/NAME``: unique in a cluster; ``--where container=`` matches it."""
        marker = "" if self.kind == "container" else f"{self.kind}:"
        return f"{self.namespace}/{self.pod}/{marker}{self.name}"


def read_pods(path: str, stdin: Any = None) -> bytes:
    """The bytes of ``--pods FILE`` (``-``: standard input), capped before anything parses."""
    from mb_ci.fsutil import read_bounded

    hint = "split the list: kubectl get pods -n NAMESPACE -o json"
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        raw: bytes = stream.read(MAX_PODS_BYTES + 1)
        if len(raw) > MAX_PODS_BYTES:
            raise UsageError("--pods -: larger than 64 MiB", hint)
        return raw
    return read_bounded(path, MAX_PODS_BYTES, UsageError, label=f"--pods {path}", too_big_hint=hint)


def run_kubectl(context: str | None, namespace: str | None) -> bytes:
    """``kubectl get pods -o json`` (every namespace unless one is named); kubectl authenticates."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise UsageError(
            "--kubernetes: kubectl is not on PATH",
            "give the list with --pods FILE, or --pods - for standard input",
        )
    argv = [kubectl, "get", "pods", "-o", "json"]
    argv += ["--namespace", namespace] if namespace else ["--all-namespaces"]
    if context:
        argv += ["--context", context]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=KUBECTL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as e:
        raise InspectError(f"kubectl get pods: no answer in {KUBECTL_TIMEOUT} s") from e
    except OSError as e:
        raise InspectError(f"kubectl get pods: cannot run: {e.strerror}") from e
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["(no message)"]
        raise InspectError(f"kubectl get pods: exit {done.returncode}: {lines[-1][:300]}")
    if len(done.stdout) > MAX_PODS_BYTES:
        raise UsageError("kubectl get pods: larger than 64 MiB", "give --namespace")
    return done.stdout


def parse_pods(raw: bytes, origin: str) -> list[PodContainer]:
    """Every container of every pod in a ``PodList`` (or ``List``, or one ``Pod``)."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise UsageError(f"{origin}: not UTF-8 (byte {e.start})") from e
    except json.JSONDecodeError as e:
        raise UsageError(
            f"{origin}: not JSON (line {e.lineno}, column {e.colno}: {e.msg})",
            "give the output of kubectl get pods -A -o json",
        ) from e
    except RecursionError as e:
        raise UsageError(f"{origin}: nested too deeply to be a pod list") from e
    if not isinstance(data, dict):
        raise UsageError(f"{origin}: expected a JSON object with 'items' (a PodList)")
    if data.get("kind") == "Pod":
        pods: Any = [data]
    else:
        pods = data.get("items")
    if not isinstance(pods, list):
        raise UsageError(
            f"{origin}: no 'items' list: not a PodList",
            "give the output of kubectl get pods -A -o json",
        )
    out: list[PodContainer] = []
    for number, pod in enumerate(pods):
        if not isinstance(pod, dict):
            raise UsageError(f"{origin}: items[{number}] is not an object")
        kind = pod.get("kind")
        if kind not in (None, "Pod"):
            raise UsageError(f"{origin}: items[{number}] is a {str(kind)[:40]}, not a Pod")
        out.extend(_containers(pod, f"{origin}: items[{number}]"))
    return out


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _containers(pod: Mapping[str, Any], where: str) -> Iterator[PodContainer]:
    meta, spec, status = _obj(pod.get("metadata")), _obj(pod.get("spec")), _obj(pod.get("status"))
    name = _text(meta.get("name"))
    if not name:
        raise UsageError(f"{where}: metadata.name is missing", "give kubectl's JSON unchanged")
    namespace = _text(meta.get("namespace")) or "default"
    workload = workload_of(meta)
    phase = _text(status.get("phase")) or None
    for spec_key, status_key, kind in KINDS:
        statuses = {_text(s.get("name")): s for s in map(_obj, _list(status.get(status_key)))}
        for container in map(_obj, _list(spec.get(spec_key))):
            cname = _text(container.get("name")) or "?"
            state = statuses.get(cname)
            spec_image = _text(container.get("image"))
            image_id = _text(state.get("imageID")) if state else ""
            reference, config, reason = running_reference(spec_image, image_id)
            if reason and state is None:
                reason = f"no status yet (pod {phase or 'phase unknown'})"
            elif reason and not image_id:
                reason = f"{reason} ({_waiting(state, phase)})"
            yield PodContainer(
                namespace=namespace,
                pod=name,
                name=cname,
                kind=kind,
                workload=workload,
                spec_image=spec_image,
                image_id=image_id,
                reference=reference,
                image_config=config,
                reason=reason,
                phase=phase,
                started=_started(state),
            )


def _waiting(state: Mapping[str, Any] | None, phase: str | None) -> str:
    waiting = _obj(_obj(_obj(state).get("state")).get("waiting"))
    return _text(waiting.get("reason")) or f"pod {phase or 'phase unknown'}"


def _started(state: Mapping[str, Any] | None) -> str | None:
    st = _obj(_obj(state).get("state"))
    for key in ("running", "terminated"):
        when = _text(_obj(st.get(key)).get("startedAt"))
        if when:
            return when
    return None


def workload_of(meta: Mapping[str, Any]) -> str:
    """``Kind/name`` of the pod's controller, followed up to the workload people name.

    A ReplicaSet owned by a Deployment is named ``DEPLOYMENT-HASH`` where ``HASH`` is the pod's
    ``pod-template-hash`` label; a Job a CronJob made is named ``CRONJOB-MINUTES``. The pod list
    holds no ReplicaSet or Job, so these names are what tells the workload.
    """
    owners = [_obj(o) for o in _list(meta.get("ownerReferences"))]
    owner = next((o for o in owners if o.get("controller") is True), owners[0] if owners else None)
    if not owner or not _text(owner.get("kind")) or not _text(owner.get("name")):
        return f"Pod/{_text(meta.get('name')) or '?'}"
    kind, name = _text(owner.get("kind")), _text(owner.get("name"))
    labels = _obj(meta.get("labels"))
    if kind == "ReplicaSet":
        template = _text(labels.get("pod-template-hash"))
        if template and name.endswith(f"-{template}"):
            return f"Deployment/{name[: -len(template) - 1]}"
    if kind == "Job":
        made = _CRONJOB_JOB.match(name)
        if made:
            return f"CronJob/{made['name']}"
    return f"{kind}/{name}"


def running_reference(spec_image: str, image_id: str) -> tuple[str | None, str | None, str | None]:
    """``(reference, image_config, reason)`` for what the runtime says the container runs.

    - ``docker-pullable://REPO@sha256:…`` (dockershim), ``REPO@sha256:…`` (containerd,
      CRI-O): the repository and the manifest digest the runtime pulled.
    - ``docker://sha256:…`` (dockershim, an image never pulled by digest), a bare
      ``sha256:…`` (containerd for an imported image): the image's *config* digest, which no
      registry serves by itself; the spec's tag is read, and the row says whether the tag still
      names that image.
    - ``""``: the container has not started (pending, pulling, back-off).
    """
    image_id = image_id.strip()
    if not image_id:
        return None, None, "no imageID yet"
    rest = _SCHEME.sub("", image_id)
    if _DIGEST.fullmatch(rest):
        if not spec_image:
            return None, rest, f"imageID {rest[:19]}… is an image ID and the spec names no image"
        return f"docker://{spec_image}", rest, None
    repo, at, digest = rest.rpartition("@")
    if at and repo and _DIGEST.fullmatch(digest) and not any(c.isspace() for c in repo):
        return f"docker://{repo}@{digest}", None, None
    return None, None, f"imageID '{image_id[:120]}' names no registry digest"
