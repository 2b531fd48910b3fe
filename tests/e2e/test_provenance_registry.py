"""Provenance on a real registry, an OCI layout and the engine, in the shapes BuildKit and cosign
write (no BuildKit runs here): both attestation-manifest forms in an index, the referrers tag
schema the loopback registry can hold, the OCI 1.1 referrers API through a proxy that adds it,
and cosign's ``sha256-<hex>.att`` tag. The statements are the real documents in
``tests/data/provenance`` with their subject and values rewritten to the image built here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from helpers import provenance as prov
from helpers.clock import now
from helpers.git import SOURCE, new_repo
from helpers.registry import Client, FaultServer, push, start_registry, which

pytestmark = [
    pytest.mark.registry,
    pytest.mark.skipif(not which("docker-registry"), reason="no docker-registry"),
]
NO_ENGINE = "unix:///nonexistent/docker.sock"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
ARTIFACT = "application/vnd.docker.attestation.manifest.v1+json"
SBOM = "https://spdx.dev/Document"
OTHER = "c" * 40
SBOM_BODY = b'{"spdxVersion":"SPDX-2.3"}'


def _layer(client: Client, repo: str, body: bytes, kind: str, media: str) -> dict[str, Any]:
    return {
        "mediaType": media,
        **client.put_blob(repo, body),
        "annotations": {"in-toto.io/predicate-type": kind},
    }


def attestation(
    client: Client,
    repo: str,
    subject: dict[str, Any],
    layers: list[dict[str, Any]],
    artifact: bool,
    tag: str | None = None,
) -> dict[str, Any]:
    """An attestation manifest in BuildKit's shape; ``artifact``: the v0.32 OCI-artifact form."""
    if artifact:
        empty = client.put_blob(repo, b"{}")
        doc: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": ARTIFACT,
            "config": {"mediaType": EMPTY, **empty, "data": "e30="},
            "layers": layers,
            "subject": {k: subject[k] for k in ("mediaType", "digest", "size")},
        }
    else:  # the older image-like form: an image config, platform unknown/unknown
        config = client.put_blob(
            repo, json.dumps({"architecture": "unknown", "os": "unknown", "rootfs": {}}).encode()
        )
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": layers,
        }
    desc = client.put_manifest(repo, tag, doc, OCI_MANIFEST)
    desc["platform"] = {"os": "unknown", "architecture": "unknown"}
    desc["annotations"] = {
        "vnd.docker.reference.digest": subject["digest"],
        "vnd.docker.reference.type": "attestation-manifest",
    }
    if artifact:
        desc["artifactType"] = ARTIFACT
    return desc


@pytest.fixture(scope="module")
def bed(tmp_path_factory: Any, build_image: Any) -> Any:
    work = tmp_path_factory.mktemp("provenance")
    checkout = new_repo(work / "widget")
    head = checkout.head
    reg = start_registry(work / "registry")
    client = Client(reg)
    labels = {
        "org.opencontainers.image.revision": head,
        "org.opencontainers.image.source": SOURCE,
        "org.opencontainers.image.created": now(),
    }
    tag = build_image(labels)
    repos = ("app", "api", "cosign")
    digests = {repo: push(tag, reg, f"{repo}:plain") for repo in repos}
    digest = digests["app"]
    image = client.entry("app", digest, "linux/amd64")
    finished = "2999-01-01T00:00:00Z"
    sbom = _layer(client, "app", SBOM_BODY, SBOM, prov.IN_TOTO)
    key = ec.generate_private_key(ec.SECP256R1())
    (work / "cosign.pub").write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    sign = lambda m: key.sign(m, ec.ECDSA(hashes.SHA256()))  # noqa: E731

    def index(tagname: str, body: bytes, kind: str, artifact: bool, *extra: dict[str, Any]) -> None:
        layer = _layer(client, "app", body, kind, prov.IN_TOTO)
        att = attestation(client, "app", image, [layer, *extra], artifact)
        client.put_index("app", tagname, [image, att])

    v02 = prov.v02_min(digest, head, SOURCE + ".git", finished=finished)
    index("hint", prov.raw(v02), prov.V02, False, sbom)
    v1 = prov.v1(digest, head, SOURCE, finished=finished)
    index("verified", prov.raw(v1), prov.V1, True, sbom)
    index("contradict", prov.raw(prov.v1(digest, OTHER, SOURCE, finished=finished)), prov.V1, True)
    index("signed", prov.dsse(v1, sign), prov.V1, True)
    index("forged", prov.dsse(v1, sign, signed_payload=b"other bytes"), prov.V1, True)
    index("not-json", b"{not json", prov.V1, True)
    index("elsewhere", prov.raw(prov.v1("sha256:" + "f" * 64, head, SOURCE)), prov.V1, True)
    # the referrers tag schema: an index tagged sha256-<hex> lists the referrers of <hex>
    ref_layer = _layer(client, "app", prov.raw(v1), prov.V1, prov.IN_TOTO)
    referrer = attestation(client, "app", image, [ref_layer], True)
    client.put_index("app", digest.replace(":", "-"), [referrer])
    # the referrers API (through the proxy): a manifest whose subject is the image
    api_image = client.entry("api", digests["api"], "linux/amd64")
    api_layer = _layer(
        client,
        "api",
        prov.raw(prov.v1(digests["api"], head, SOURCE, finished=finished)),
        prov.V1,
        prov.IN_TOTO,
    )
    attestation(client, "api", api_image, [api_layer], True, tag="pushed-by-test")
    # cosign's .att tag: DSSE envelopes, predicateType annotations
    envelope = prov.dsse(prov.v1(digests["cosign"], head, SOURCE, finished=finished), sign)
    blob = client.put_blob("cosign", envelope)
    config = client.put_blob("cosign", b"{}")
    client.put_manifest(
        "cosign",
        digests["cosign"].replace(":", "-") + ".att",
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": prov.DSSE, **blob, "annotations": {"predicateType": prov.V1}}],
        },
        OCI_MANIFEST,
    )
    proxy = FaultServer(reg)
    yield reg, checkout, work, proxy, tag, digest
    proxy.close()
    reg.stop()


def check(mbci: Any, bed: Any, ref: str, *args: str, policy: str = "", fmt: str = "json") -> Any:
    reg, checkout, work, _, _, _ = bed
    path = work / f"policy-{abs(hash(policy))}.yml"
    path.write_text("version: 1\n" + policy)
    env = {"DOCKER_HOST": NO_ENGINE, "DOCKER_CONFIG": str(checkout.path / ".no-config")}
    if not ref.startswith(("oci:", "docker-daemon:")):
        ref = f"docker://{reg.host}/{ref}"
    return mbci(
        "check", ref, "--format", fmt, "--policy", str(path), *args, cwd=checkout.path, env=env
    )


def platform(result: Any) -> dict[str, Any]:
    return dict(json.loads(result.stdout)["image"]["platforms"][0])


def test_image_like_form_v02_min_is_builder_hint(bed: Any, mbci: Any) -> None:
    result = check(mbci, bed, "app:hint")
    assert result.returncode == 0, result.stdout + result.stderr
    p = platform(result)
    assert p["provenance"]["present"] is True
    assert p["provenance"]["predicate_type"] == prov.V02
    assert p["provenance"]["mode"] == "min"
    assert p["tiers"]["org.opencontainers.image.revision"] == "builder-hint"
    assert p["tiers"]["org.opencontainers.image.source"] == "builder-hint"  # .git normalised
    assert p["tiers"]["org.opencontainers.image.created"] == "builder-hint"
    assert [s.split()[0] for s in p["provenance"]["skipped"]] == [SBOM]


def test_artifact_form_v1_git_context_is_builder_verified(bed: Any, mbci: Any) -> None:
    result = check(mbci, bed, "app:verified", fmt="text")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[builder-verified]" in result.stdout
    assert "https://slsa.dev/provenance/v1, mode=min" in result.stdout


def test_a_contradicting_provenance_fails_with_both_values(bed: Any, mbci: Any) -> None:
    result = check(mbci, bed, "app:contradict", fmt="text")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[revision-matches-provenance]" in result.stdout
    assert OTHER in result.stdout and bed[1].head in result.stdout
    assert "(builder-verified)" in result.stdout


def test_signed_with_a_key(bed: Any, mbci: Any) -> None:
    work = bed[2]
    result = check(mbci, bed, "app:signed", policy=f"provenance_keys: ['{work}/cosign.pub']\n")
    assert result.returncode == 0, result.stdout + result.stderr
    p = platform(result)
    assert p["tiers"]["org.opencontainers.image.revision"] == "signed"
    assert p["provenance"]["signed_by"] == f"{work}/cosign.pub"
    junit = check(
        mbci, bed, "app:signed", policy=f"provenance_keys: ['{work}/cosign.pub']\n", fmt="junit"
    )
    assert 'name="tier:org.opencontainers.image.revision" value="signed"' in junit.stdout


def test_a_signature_over_other_bytes_is_never_signed(bed: Any, mbci: Any) -> None:
    work = bed[2]
    result = check(mbci, bed, "app:forged", policy=f"provenance_keys: ['{work}/cosign.pub']\n")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    failing = {f["check"] for f in doc["findings"] if f["severity"] != "info"}
    assert failing == {"provenance-signature"}, doc["findings"]
    assert doc["image"]["platforms"][0]["tiers"]["org.opencontainers.image.revision"] != "signed"
    unsigned = check(mbci, bed, "app:signed")  # no keys: a warning, not signed
    assert unsigned.returncode == 0
    found = json.loads(unsigned.stdout)["findings"]
    [warning] = [f for f in found if f["severity"] != "info"]
    assert warning["severity"] == "warning" and "signature-unverified" in warning["message"]
    # the provenance names its base (alpine, on Docker Hub): unreachable here, one note
    [note] = [f for f in found if f["severity"] == "info"]
    assert note["check"] == "label-inherited" and "found by provenance" not in note["message"]
    assert "provenance base" in note["message"] and "alpine@sha256:" in note["message"], note


def test_bad_documents_are_findings_of_one_line(bed: Any, mbci: Any) -> None:
    result = check(mbci, bed, "app:not-json", fmt="sarif")
    assert result.returncode == 1
    [found] = json.loads(result.stdout)["runs"][0]["results"]
    assert found["ruleId"] == "provenance-present" and "not valid JSON" in found["message"]["text"]
    elsewhere = check(mbci, bed, "app:elsewhere")
    assert elsewhere.returncode == 1
    assert [f["check"] for f in json.loads(elsewhere.stdout)["findings"]] == ["provenance-subject"]


def test_in_index_provenance_costs_two_requests(bed: Any, mbci: Any) -> None:
    _, _, _, proxy, _, _ = bed
    counts = {}
    for name in ("plain", "verified"):
        before = len(proxy.seen)
        # through the proxy: the same registry, every request counted
        result = mbci(
            "check",
            f"docker://{proxy.host}/app:{name}",
            "--format",
            "json",
            cwd=bed[1].path,
            env={"DOCKER_HOST": NO_ENGINE},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        counts[name] = len(proxy.seen) - before
    # an index (1 more) around the same image, then the attestation manifest and one blob;
    # the SBOM layer is never fetched
    assert counts["verified"] - counts["plain"] == 1 + 2
    assert proxy.requests_to(prov.digest(SBOM_BODY)) == []


def test_referrers_tag_schema_when_the_index_has_none(bed: Any, mbci: Any) -> None:
    quiet = check(mbci, bed, "app:plain")  # optional: no lookups, no provenance
    assert platform(quiet)["provenance"]["present"] is False
    result = check(mbci, bed, "app:plain", policy="provenance: required\n")
    assert result.returncode == 0, result.stdout + result.stderr
    p = platform(result)
    assert p["provenance"]["documents"][0]["origin"] == "referrers-tag"
    assert p["tiers"]["org.opencontainers.image.revision"] == "builder-verified"
    # the cost, counted through the proxy: referrers API (404), the tag schema's index, the
    # attestation manifest, its blob, cosign's .att tag (404): 5 more than the plain check
    _, checkout, work, proxy, _, _ = bed
    counts = []
    for policy in ("", "provenance: required\n"):
        path = work / f"count-{len(counts)}.yml"
        path.write_text("version: 1\n" + policy)
        before = len(proxy.seen)
        counted = mbci(
            "check",
            f"docker://{proxy.host}/app:plain",
            "--policy",
            str(path),
            cwd=checkout.path,
            env={"DOCKER_HOST": NO_ENGINE},
        )
        assert counted.returncode == 0, counted.stdout + counted.stderr
        counts.append(len(proxy.seen) - before)
    assert counts[1] - counts[0] == 5, counts


def test_referrers_api_through_a_proxy_that_adds_it(bed: Any, mbci: Any) -> None:
    _, checkout, work, proxy, _, _ = bed
    proxy.referrers = True
    try:
        path = work / "required.yml"
        path.write_text("version: 1\nprovenance: required\n")
        result = mbci(
            "check",
            f"docker://{proxy.host}/api:plain",
            "--format",
            "json",
            "--policy",
            str(path),
            cwd=checkout.path,
            env={"DOCKER_HOST": NO_ENGINE},
        )
    finally:
        proxy.referrers = False
    assert result.returncode == 0, result.stdout + result.stderr
    p = platform(result)
    assert p["provenance"]["documents"][0]["origin"] == "referrers"
    assert p["tiers"]["org.opencontainers.image.source"] == "builder-verified"
    assert proxy.requests_to("/referrers/")


def test_cosign_att_tag(bed: Any, mbci: Any) -> None:
    work = bed[2]
    result = check(mbci, bed, "cosign:plain", policy=f"provenance_keys: ['{work}/cosign.pub']\n")
    assert result.returncode == 0, result.stdout + result.stderr
    p = platform(result)
    assert p["provenance"]["documents"][0]["origin"] == "cosign-att"
    assert p["tiers"]["org.opencontainers.image.revision"] == "signed"


def test_oci_layout_keeps_attestations(bed: Any, mbci: Any, tmp_path: Path) -> None:
    reg = bed[0]
    client = Client(reg)
    layout = tmp_path / "layout"
    (layout / "blobs" / "sha256").mkdir(parents=True)

    def keep(data: bytes) -> None:
        (layout / "blobs" / "sha256" / prov.digest(data).split(":")[1]).write_bytes(data)

    body, _ = client.get("app", "verified")
    keep(body)
    for entry in json.loads(body)["manifests"]:
        manifest, _ = client.get("app", entry["digest"])
        keep(manifest)
        doc = json.loads(manifest)
        for desc in [doc["config"], *doc["layers"]]:
            keep(client.blob("app", desc["digest"]))
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (layout / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {"mediaType": OCI_INDEX, "digest": prov.digest(body), "size": len(body)}
                ],
            }
        )
    )
    result = check(mbci, bed, f"oci:{layout}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert platform(result)["tiers"]["org.opencontainers.image.revision"] == "builder-verified"
    shutil.rmtree(layout)


def test_the_engine_cannot_carry_attestations_and_names_docker(bed: Any, mbci: Any) -> None:
    _, checkout, work, _, tag, _ = bed
    path = work / "required-engine.yml"
    path.write_text("version: 1\nprovenance: required\n")
    result = mbci("check", tag, "--policy", str(path), cwd=checkout.path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "✗ no provenance: the docker-daemon source cannot carry" in result.stdout
    assert "docker://REGISTRY/NAME@DIGEST" in result.stdout


def test_audit_shows_and_filters_the_tier(bed: Any, mbci: Any) -> None:
    reg, checkout, _, _, _, _ = bed
    refs = [f"docker://{reg.host}/app:{t}" for t in ("plain", "hint", "verified")]
    env = {"DOCKER_HOST": NO_ENGINE, "DOCKER_CONFIG": str(checkout.path / ".no-config")}
    result = mbci("audit", *refs, "--format", "json", cwd=checkout.path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    tiers = {
        r["reference"].rsplit(":", 1)[1]: r["tier"] for r in json.loads(result.stdout)["images"]
    }
    assert tiers == {"plain": "label-only", "hint": "builder-hint", "verified": "builder-verified"}
    only = mbci("audit", *refs, "--where", "tier=builder-verified", cwd=checkout.path, env=env)
    assert only.returncode == 0, only.stdout + only.stderr
    header, *rows = only.stdout.splitlines()
    assert "TIER" in header.split()
    assert "app:verified" in rows[0] and "builder-verified" in rows[0]
    assert not any("app:plain" in r or "app:hint" in r for r in rows)


def test_badges_show_the_tier_and_short_commit(bed: Any, mbci: Any) -> None:
    reg, checkout, _, _, _, _ = bed
    env = {"DOCKER_HOST": NO_ENGINE, "DOCKER_CONFIG": str(checkout.path / ".no-config")}
    result = mbci(
        "badges",
        f"docker://{reg.host}/app:verified",
        "--only",
        "provenance",
        cwd=checkout.path,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # shields.io's static badge: label-message-color, `-` written `--`, space `_`
    assert f"provenance-builder--verified_{checkout.head[:7]}-" in result.stdout
    assert f"/commit/{checkout.head})" in result.stdout
