"""Provenance documents for tests, made from the real ones in ``tests/data/provenance``.

``v02_min`` is Docker's documented ``mode=min`` statement, ``v1`` BuildKit's documented SLSA v1
fields (a Git context build), ``github`` the shape of GitHub's workflow buildType; each has its
subject and values rewritten to the test's image. ``dsse`` wraps a statement in a DSSE envelope,
signed by the callable given. ``attached`` hangs blobs on an in-memory platform the way a source
does.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from helpers.paths import DATA
from mb_ci.models import Attestation, PlatformFacts

FOLDER = DATA / "provenance"
V02 = "https://slsa.dev/provenance/v0.2"
V1 = "https://slsa.dev/provenance/v1"
IN_TOTO = "application/vnd.in-toto+json"
DSSE = "application/vnd.dsse.envelope.v1+json"
GITHUB_WORKFLOW = "https://actions.github.io/buildtypes/workflow/v1"


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((FOLDER / name).read_text()))


def _subject(doc: dict[str, Any], subject: str) -> dict[str, Any]:
    doc["subject"][0]["digest"] = {"sha256": subject.split(":", 1)[1]}
    return doc


def v02_min(
    subject: str, revision: str | None = None, source: str | None = None, **times: str
) -> dict[str, Any]:
    """Docker's documented min-mode v0.2 statement with ``vcs`` hints of ours."""
    doc = _subject(_load("docker-docs-slsa-v0.2-min.json"), subject)
    meta = doc["predicate"]["metadata"]
    vcs = meta["https://mobyproject.org/buildkit@v1#metadata"]["vcs"]
    if revision is not None:
        vcs["revision"] = revision
    if source is not None:
        vcs["source"] = source
    if "finished" in times:
        meta["buildFinishedOn"] = times["finished"]
    return doc


def v1(
    subject: str,
    revision: str,
    source: str,
    labels: Mapping[str, str] | None = None,
    max_mode: bool = False,
    finished: str | None = None,
) -> dict[str, Any]:
    """BuildKit's documented v1 fields for a build from a Git context at ``revision``."""
    doc = _subject(_load("buildkit-slsa-v1-assembled.json"), subject)
    definition = doc["predicate"]["buildDefinition"]
    config = definition["externalParameters"]["configSource"]
    config["uri"] = f"{source}.git#refs/heads/main"
    config["digest"] = {"sha1": revision}
    definition["resolvedDependencies"][1] = {"uri": config["uri"], "digest": {"sha1": revision}}
    args = definition["externalParameters"]["request"]["args"]
    for key, value in (labels or {}).items():
        args[f"label:{key}"] = value
    if finished is not None:
        doc["predicate"]["runDetails"]["metadata"]["finishedOn"] = finished
    if max_mode:
        definition["internalParameters"] = {"buildConfig": {"llbDefinition": []}}
    return doc


def github(subject: str, revision: str, repository: str, ref: str) -> dict[str, Any]:
    """GitHub's workflow buildType (actions/attest-build-provenance) for ``repository``."""
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/widget", "digest": {"sha256": subject.split(":")[1]}}],
        "predicateType": V1,
        "predicate": {
            "buildDefinition": {
                "buildType": GITHUB_WORKFLOW,
                "externalParameters": {
                    "workflow": {
                        "ref": ref,
                        "repository": repository,
                        "path": ".github/workflows/release.yml",
                    }
                },
                "internalParameters": {"github": {"event_name": "push"}},
                "resolvedDependencies": [
                    {"uri": f"git+{repository}@{ref}", "digest": {"gitCommit": revision}}
                ],
            },
            "runDetails": {
                "builder": {
                    "id": f"{repository}/.github/workflows/release.yml@{ref}",
                },
                "metadata": {"invocationId": f"{repository}/actions/runs/1/attempts/1"},
            },
        },
    }


def raw(statement: Mapping[str, Any]) -> bytes:
    return json.dumps(statement, separators=(",", ":")).encode()


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def dsse(
    statement: Mapping[str, Any],
    sign: Callable[[bytes], bytes] | None = None,
    signed_payload: bytes | None = None,
) -> bytes:
    """A DSSE envelope; ``sign`` signs PAE over the payload (or over ``signed_payload``)."""
    payload = raw(statement)
    sigs = []
    if sign is not None:
        message = pae(IN_TOTO, signed_payload if signed_payload is not None else payload)
        sigs.append({"keyid": "", "sig": base64.b64encode(sign(message)).decode()})
    return raw(
        {"payloadType": IN_TOTO, "payload": base64.b64encode(payload).decode(), "signatures": sigs}
    )


def digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def attached(platform: PlatformFacts, *bodies: bytes, predicate_type: str = V02) -> PlatformFacts:
    """``platform`` with ``bodies`` attached as in-index provenance layers."""
    found = tuple(
        Attestation(digest(b), predicate_type, IN_TOTO, "sha256:" + "e" * 64, body=b)
        for b in bodies
    )
    return dataclasses.replace(platform, attestations=found)
