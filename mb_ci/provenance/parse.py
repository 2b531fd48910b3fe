"""Read one provenance blob: in-toto Statement v0.1/v1, raw or in a DSSE envelope (or a Sigstore
bundle's), and the claims its SLSA v0.2 / v1 predicate makes about revision, source, version and
created, at the paths BuildKit documents (docs/attestations/slsa-definitions.md) and GitHub's
``https://actions.github.io/buildtypes/workflow/v1``.

Pure and bounded: the blob is at most the source's cap (4 MiB), JSON is parsed once, subjects are
scanned once; a malformed document becomes a ``Document`` with a ``problem``, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mb_ci.provenance.model import Claim, Document

STATEMENT_TYPES = ("https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1")
DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUILDKIT_V02 = "https://mobyproject.org/buildkit@v1"
BUILDKIT_V1 = "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md"
GITHUB_WORKFLOW = "https://actions.github.io/buildtypes/workflow/v1"
BUILDKIT_META = "https://mobyproject.org/buildkit@v1#metadata"
LABEL_ARG = "label:"
MAX_BYTES = 4 * 1024 * 1024
MAX_SIGNATURES = 16
SHOWN_SUBJECTS = 3


class Malformed(ValueError):
    """The blob is not a provenance statement; the message is one line for the report."""


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope: what its signatures sign is PAE(payloadType, payload)."""

    payload_type: str
    payload: bytes
    signatures: tuple[tuple[str, bytes], ...]  # (keyid, signature)
    keyless: bool = False  # inside a Sigstore bundle: verified by a certificate, not a key


def unwrap(body: bytes) -> tuple[dict[str, Any], Envelope | None]:
    """The statement, and the envelope it came in (``None`` for a raw statement)."""
    if len(body) > MAX_BYTES:
        raise Malformed(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    doc = _json(body, "the attestation")
    keyless = False
    if isinstance(doc, dict) and isinstance(doc.get("dsseEnvelope"), dict):
        doc, keyless = doc["dsseEnvelope"], True  # a Sigstore bundle
    if isinstance(doc, dict) and "payload" in doc and "payloadType" in doc:
        envelope = _envelope(doc, keyless)
        if envelope.payload_type != DSSE_PAYLOAD_TYPE:
            raise Malformed(f"DSSE payloadType is {envelope.payload_type[:80]!r}, not in-toto")
        statement = _json(envelope.payload, "the DSSE payload")
        if not isinstance(statement, dict):
            raise Malformed("the DSSE payload is not a JSON object")
        return statement, envelope
    if not isinstance(doc, dict):
        raise Malformed("the attestation is not a JSON object")
    return doc, None


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise Malformed(f"{what} is not valid JSON ({type(e).__name__})") from None


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise Malformed(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        try:  # DSSE allows URL-safe base64 too
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raise Malformed(f"{what} is not base64") from None


def _envelope(doc: Mapping[str, Any], keyless: bool) -> Envelope:
    payload_type = doc.get("payloadType")
    if not isinstance(payload_type, str):
        raise Malformed("DSSE `payloadType` is not a string")
    payload = _b64(doc.get("payload"), "DSSE `payload`")
    raw = doc.get("signatures") or []
    if not isinstance(raw, list):
        raise Malformed("DSSE `signatures` is not a list")
    sigs = []
    for i, s in enumerate(raw[:MAX_SIGNATURES]):
        if not isinstance(s, dict):
            raise Malformed(f"DSSE `signatures[{i}]` is not an object")
        sigs.append((str(s.get("keyid") or ""), _b64(s.get("sig"), f"DSSE `signatures[{i}].sig`")))
    return Envelope(payload_type, payload, tuple(sigs), keyless)


def read(
    digest: str, predicate_type: str, body: bytes, subject: str
) -> tuple[Document, Envelope | None]:
    """The ``Document`` for one blob attached to the manifest ``subject`` and its envelope;
    never raises (a malformed blob is a ``Document`` with a ``problem``)."""
    try:
        statement, envelope = unwrap(body)
        return _document(digest, statement, subject), envelope
    except Malformed as e:
        return Document(digest, predicate_type, problem=str(e)), None


def _document(digest: str, statement: Mapping[str, Any], subject: str) -> Document:
    kind = statement.get("_type")
    if kind not in STATEMENT_TYPES:
        raise Malformed(f"`_type` is {str(kind)[:80]!r}, not an in-toto Statement v0.1 or v1")
    predicate_type = statement.get("predicateType")
    if not isinstance(predicate_type, str):
        raise Malformed("`predicateType` is not a string")
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        raise Malformed("`subject` is not a list")
    algorithm, _, hexpart = subject.partition(":")
    found: list[str] = []
    matches = False
    for entry in subjects:  # one pass, however many there are
        digests = entry.get("digest") if isinstance(entry, dict) else None
        if not isinstance(digests, dict):
            raise Malformed("a `subject` entry has no `digest` object")
        value = digests.get(algorithm)
        if isinstance(value, str):
            if value.lower() == hexpart:
                matches = True
            if len(found) < SHOWN_SUBJECTS:
                found.append(f"{algorithm}:{value[:128]}")
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise Malformed("`predicate` is not an object")
    build_type, mode, claims = _claims(predicate_type, predicate)
    return Document(
        digest,
        predicate_type,
        str(kind),
        build_type,
        mode,
        tuple(found),
        len(subjects),
        matches,
        claims,
        images=_images(predicate),
    )


MAX_IMAGES = 16


def _images(predicate: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The ``pkg:docker/`` materials (v0.2) or resolved dependencies (v1) with a sha256."""
    entries = predicate.get("materials")
    if not isinstance(entries, list):
        entries = _obj(predicate, "buildDefinition").get("resolvedDependencies")
    found: list[tuple[str, str]] = []
    for entry in entries if isinstance(entries, list) else ():
        if len(found) >= MAX_IMAGES:
            break
        uri = _str(entry.get("uri")) if isinstance(entry, dict) else None
        sha = _str(_obj(entry, "digest").get("sha256")) if isinstance(entry, dict) else None
        if uri and sha and uri.startswith("pkg:docker/") and len(uri) <= 1024:
            if len(sha) == 64 and all(c in "0123456789abcdef" for c in sha):
                found.append((uri, f"sha256:{sha}"))
    return tuple(found)


def _obj(value: Any, *path: str) -> dict[str, Any]:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value and len(value) <= 4096 else None


def _claims(predicate_type: str, p: dict[str, Any]) -> tuple[str, str | None, tuple[Claim, ...]]:
    if predicate_type.startswith("https://slsa.dev/provenance/v0."):
        build_type = _str(p.get("buildType")) or ""
        invocation = _obj(p, "invocation")
        config = _obj(invocation, "configSource")
        args = _obj(invocation, "parameters", "args")
        meta = _obj(p, "metadata")
        vcs = _obj(meta, BUILDKIT_META, "vcs")
        started, finished = meta.get("buildStartedOn"), meta.get("buildFinishedOn")
        config_path = "invocation.configSource"
        extension = _obj(meta, BUILDKIT_META)
        max_mode = "buildConfig" in p or "source" in extension or "layers" in extension
    else:
        definition = _obj(p, "buildDefinition")
        build_type = _str(definition.get("buildType")) or ""
        external = _obj(definition, "externalParameters")
        config = _obj(external, "configSource")
        args = _obj(external, "request", "args")
        meta = _obj(p, "runDetails", "metadata")
        extension = _obj(meta, "buildkit_metadata") or _obj(meta, BUILDKIT_META)
        vcs = _obj(extension, "vcs")
        started, finished = meta.get("startedOn"), meta.get("finishedOn")
        config_path = "buildDefinition.externalParameters.configSource"
        max_mode = (
            "buildConfig" in _obj(definition, "internalParameters")
            or "source" in extension
            or "layers" in extension
        )
        if build_type == GITHUB_WORKFLOW:
            deps = definition.get("resolvedDependencies")
            return build_type, None, tuple(_github(external, deps))
    out: list[Claim] = []
    sha, uri = _str(_obj(config, "digest").get("sha1")), _str(config.get("uri"))
    if sha:  # a remote Git context: BuildKit resolved the commit itself
        out.append(Claim("revision", sha, "builder-verified", f"{config_path}.digest.sha1"))
        if uri:
            out.append(Claim("source", uri, "builder-verified", f"{config_path}.uri"))
    vcs_path = "vcs" if not extension else "metadata.vcs"
    for concept in ("revision", "source"):
        value = _str(vcs.get(concept))
        if value:
            out.append(Claim(concept, value, "builder-hint", f"{vcs_path}.{concept}"))
    for key, value in sorted(args.items()):
        if isinstance(key, str) and key.startswith(LABEL_ARG) and _str(value):
            label = key[len(LABEL_ARG) :]
            out.append(Claim("label", str(value), "builder-hint", f"args.{key}", label=label))
    if _str(started) or _str(finished):
        out.append(
            Claim(
                "created",
                str(started or ""),
                "builder-hint",
                "metadata.started/finished",
                until=_str(finished),
            )
        )
    mode = ("max" if max_mode else "min") if build_type in (BUILDKIT_V02, BUILDKIT_V1) else None
    return build_type, mode, tuple(out)


def _github(external: Mapping[str, Any], deps: Any) -> list[Claim]:
    """GitHub's workflow buildType: the runner resolved the commit and the repository."""
    out: list[Claim] = []
    workflow = _obj(external, "workflow")
    repository, ref = _str(workflow.get("repository")), _str(workflow.get("ref"))
    if repository:
        out.append(Claim("source", repository, "builder-verified", "workflow.repository"))
    if ref and ref.startswith("refs/tags/"):
        tag = ref[len("refs/tags/") :]
        out.append(Claim("version", tag, "builder-verified", "workflow.ref"))
    for i, dep in enumerate(deps if isinstance(deps, list) else []):
        if i >= 256:
            break
        commit = _str(_obj(dep, "digest").get("gitCommit"))
        uri = _str(_obj(dep).get("uri"))
        if commit:
            path = f"buildDefinition.resolvedDependencies[{i}]"
            out.append(Claim("revision", commit, "builder-verified", f"{path}.digest.gitCommit"))
            if uri:
                out.append(Claim("source", uri, "builder-verified", f"{path}.uri"))
    return out
