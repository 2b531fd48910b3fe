"""Provenance documents judged in memory: the real documents' claims, the four tiers, signatures
with keys made here (ECDSA P-256, Ed25519, RSA), and the issue's bad inputs, each one line."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from helpers import provenance as prov
from helpers.facts import CREATED, HEAD, OTHER, REVISION, SOURCE_KEY, platform, truthful_labels
from helpers.git import SOURCE

from mb_ci.models import Attestation
from mb_ci.provenance.evaluate import evaluate
from mb_ci.provenance.parse import read
from mb_ci.provenance.verify import load_keys

DIGEST = "sha256:" + "d" * 64
DOCS_SUBJECT = "sha256:e8275b2b76280af67e26f068e5d585eb905f8dfd2f1918b3229db98133cb4862"
ACCEPTED = ("https://slsa.dev/provenance/v0.2", "https://slsa.dev/provenance/v1")


def judge(*bodies: bytes, labels: dict[str, str] | None = None, keys=(), kind=prov.V1):
    one = prov.attached(
        platform(labels or truthful_labels(), digest=DIGEST), *bodies, predicate_type=kind
    )
    return evaluate(one, one.labels, "docker", ACCEPTED, keys)


def test_docker_docs_min_example_as_written():
    body = (prov.FOLDER / "docker-docs-slsa-v0.2-min.json").read_bytes()
    doc, envelope = read("sha256:x", prov.V02, body, DOCS_SUBJECT)
    assert envelope is None and doc.problem is None and doc.subject_matches
    assert doc.mode == "min" and doc.build_type == "https://mobyproject.org/buildkit@v1"
    found = {(c.concept, c.value, c.tier) for c in doc.claims}
    assert ("revision", "a9ba846486420e07d30db1107411ac3697ecab68", "builder-hint") in found
    assert ("source", "git@github.com:<org>/<repo>.git", "builder-hint") in found


def test_buildkit_v1_git_context_is_builder_verified():
    body = (prov.FOLDER / "buildkit-slsa-v1-assembled.json").read_bytes()
    doc, _ = read("sha256:x", prov.V1, body, DOCS_SUBJECT)
    assert doc.mode == "min"
    verified = {(c.concept, c.value) for c in doc.claims if c.tier == "builder-verified"}
    assert ("revision", "4b220de5058abfd01ff619c9d2ff6b09a049bea0") in verified
    labels = {c.label: c.value for c in doc.claims if c.label}
    assert labels == {"FOO": "bar"}


def test_max_mode_is_told_from_min():
    doc, _ = read("d", prov.V1, prov.raw(prov.v1(DIGEST, HEAD, SOURCE, max_mode=True)), DIGEST)
    assert doc.mode == "max"


def test_the_four_tiers():
    hint = judge(prov.raw(prov.v02_min(DIGEST, HEAD, SOURCE)), kind=prov.V02)
    assert hint.tier_of(REVISION) == "builder-hint"
    verified = judge(prov.raw(prov.v1(DIGEST, HEAD, SOURCE)))  # uri: SOURCE.git#refs/heads/main
    assert verified.tier_of(REVISION) == "builder-verified"
    assert verified.tier_of(SOURCE_KEY) == "builder-verified"  # `.git#ref` normalised
    assert verified.tier_of(CREATED) == "label-only"  # v1 doc's times are 2021
    key = ec.generate_private_key(ec.SECP256R1())
    signed = judge(
        prov.dsse(prov.v1(DIGEST, HEAD, SOURCE), lambda m: key.sign(m, ec.ECDSA(hashes.SHA256()))),
        keys=load_keys([("cosign.pub", _pem(key))]),
    )
    assert signed.tier_of(REVISION) == "signed"
    assert signed.best is not None and signed.best.signed_by == "cosign.pub"
    assert judge().tier_of(REVISION) == "label-only"  # no attestation at all
    assert judge().present is False


def test_github_workflow_build_type():
    body = prov.raw(prov.github(DIGEST, HEAD, SOURCE, "refs/tags/v1.2.3"))
    labels = truthful_labels(**{"org.opencontainers.image.version": "1.2.3"})
    found = judge(body, labels=labels)
    assert found.tier_of(REVISION) == "builder-verified"
    assert found.tier_of(SOURCE_KEY) == "builder-verified"  # git+…@refs/… normalised
    assert found.tier_of("org.opencontainers.image.version") == "builder-verified"


def test_a_disagreeing_provenance_backs_nothing():
    found = judge(prov.raw(prov.v1(DIGEST, OTHER, SOURCE)))
    assert found.tier_of(REVISION) == "label-only"


def test_best_agreeing_of_several_wins():
    found = judge(
        prov.raw(prov.v02_min(DIGEST, HEAD, SOURCE)), prov.raw(prov.v1(DIGEST, HEAD, SOURCE))
    )
    assert len(found.documents) == 2 and found.tier_of(REVISION) == "builder-verified"


@pytest.mark.parametrize("algorithm", ["ecdsa", "ed25519", "rsa-pkcs1", "rsa-pss"])
def test_key_algorithms_and_a_signature_over_other_bytes(algorithm):
    if algorithm == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
        sign = lambda m: key.sign(m, ec.ECDSA(hashes.SHA256()))  # noqa: E731
    elif algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        sign = key.sign
    else:
        key = rsa.generate_private_key(65537, 2048)
        pad = (
            padding.PKCS1v15()
            if algorithm == "rsa-pkcs1"
            else padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH)
        )
        sign = lambda m: key.sign(m, pad, hashes.SHA256())  # noqa: E731
    keys = load_keys([("k.pub", _pem(key))])
    statement = prov.v1(DIGEST, HEAD, SOURCE)
    good = judge(prov.dsse(statement, sign), keys=keys)
    assert good.documents[0].signature == "verified"
    other = prov.raw(prov.v1(DIGEST, OTHER, SOURCE))
    forged = judge(prov.dsse(statement, sign, signed_payload=other), keys=keys)
    assert forged.documents[0].signature == "invalid"
    assert forged.tier_of(REVISION) == "builder-verified"  # never signed


def test_keyless_bundle_is_unverified_never_signed():
    envelope = json.loads(prov.dsse(prov.v1(DIGEST, HEAD, SOURCE), lambda m: b"x" * 64))
    bundle = json.dumps(
        {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": envelope}
    ).encode()
    found = judge(bundle)
    assert found.documents[0].signature == "unverified"
    assert found.tier_of(REVISION) == "builder-verified"


def test_a_bad_key_file_is_one_usage_line():
    from mb_ci.errors import UsageError

    with pytest.raises(UsageError, match=r"provenance_keys: bad.pub: not a PEM public key"):
        load_keys([("bad.pub", b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")])


def _bad_payload() -> bytes:
    return json.dumps(
        {"payloadType": prov.IN_TOTO, "payload": "%%%not base64%%%", "signatures": []}
    ).encode()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (_bad_payload(), "DSSE `payload` is not base64"),
        (
            json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": "x"}).encode(),
            "`predicateType` is not a string",
        ),
        (
            json.dumps(
                {
                    "_type": "https://in-toto.io/Statement/v1",
                    "predicateType": prov.V1,
                    "subject": [],
                    "predicate": [],
                }
            ).encode(),
            "`predicate` is not an object",
        ),
        (json.dumps([1, 2]).encode(), "not a JSON object"),
        (b"x" * (5 * 1024 * 1024), "larger than 4 MiB"),
    ],
)
def test_bad_documents_are_one_line_problems(body, problem):
    found = judge(body)
    doc = found.documents[0]
    assert doc.problem is not None and problem in doc.problem and "\n" not in doc.problem
    assert found.tier_of(REVISION) == "label-only"


def test_a_hundred_thousand_subjects_is_linear_and_bounded():
    statement = prov.v1(DIGEST, HEAD, SOURCE)
    statement["subject"] = [
        {"name": str(i), "digest": {"sha256": f"{i:064x}"}} for i in range(100_000)
    ]
    body = prov.raw(statement)
    assert len(body) < 10 * 1024 * 1024
    doc, _ = read("d", prov.V1, body, DIGEST)
    assert doc.problem == "larger than 4 MiB"  # refused before parsing
    statement["subject"] = statement["subject"][:20_000] + [
        {"name": "image", "digest": {"sha256": "d" * 64}}
    ]
    doc, _ = read("d", prov.V1, prov.raw(statement), DIGEST)  # one pass over the list
    assert doc.problem is None and doc.subject_matches
    assert doc.subject_count == 20_001 and len(doc.subjects) == 3  # three shown, not all


def test_a_layer_too_large_to_fetch_is_a_problem_not_a_read():
    big = Attestation(
        "sha256:" + "a" * 64,
        prov.V1,
        prov.IN_TOTO,
        "sha256:" + "b" * 64,
        problem="attestation layer of 104857600 bytes is larger than 4 MiB",
    )
    import dataclasses

    one = dataclasses.replace(platform(digest=DIGEST), attestations=(big,))
    found = evaluate(one, one.labels, "docker", ACCEPTED)
    assert found.present and "larger than 4 MiB" in (found.documents[0].problem or "")


def test_unknown_predicate_types_are_listed_and_skipped():
    sbom = Attestation("sha256:" + "a" * 64, "https://spdx.dev/Document", prov.IN_TOTO, "m")
    import dataclasses

    one = dataclasses.replace(platform(digest=DIGEST), attestations=(sbom,))
    found = evaluate(one, one.labels, "docker", ACCEPTED)
    assert not found.present and found.skipped[0].startswith("https://spdx.dev/Document")


def test_the_engine_cannot_carry_attestations_and_says_docker():
    found = evaluate(platform(), {}, "docker-daemon", ACCEPTED)
    assert not found.present and "docker://" in (found.note or "")


def _pem(key) -> bytes:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def test_base64url_payloads_are_read():
    statement = prov.raw(prov.v1(DIGEST, HEAD, SOURCE))
    body = json.dumps(
        {
            "payloadType": prov.IN_TOTO,
            "payload": base64.urlsafe_b64encode(statement).decode().rstrip("="),
            "signatures": [],
        }
    ).encode()
    assert judge(body).tier_of(REVISION) == "builder-verified"


def _manifest_reader(manifest: dict, blobs: dict[str, bytes]):
    from mb_ci.sources import oci

    body = json.dumps(manifest).encode()
    entry = oci.Descriptor(
        "application/vnd.oci.image.manifest.v1+json", oci.digest_of(body), len(body)
    )
    fetched: list[str] = []

    def blob(desc, what):
        fetched.append(desc.digest)
        return blobs[desc.digest]

    return entry, (lambda desc, what: body), blob, fetched


def test_the_source_fetches_only_the_provenance_layer_and_never_a_huge_one():
    from mb_ci.sources import attestations

    small = prov.raw(prov.v1(DIGEST, HEAD, SOURCE))
    layers = [
        {
            "mediaType": prov.IN_TOTO,
            "digest": "sha256:" + "1" * 64,
            "size": 100 * 1024 * 1024,
            "annotations": {"in-toto.io/predicate-type": prov.V1},
        },
        {
            "mediaType": prov.IN_TOTO,
            "digest": "sha256:" + "2" * 64,
            "size": 10,
            "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"},
        },
        {
            "mediaType": prov.IN_TOTO,
            "digest": prov.digest(small),
            "size": len(small),
            "annotations": {"in-toto.io/predicate-type": prov.V1},
        },
    ]
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": prov.digest(b"{}"),
            "size": 2,
        },
        "layers": layers,
    }
    entry, fetch, blob, fetched = _manifest_reader(manifest, {prov.digest(small): small})
    found = attestations.read(entry, DIGEST, "docker://x", fetch, blob)
    assert fetched == [prov.digest(small)]  # one blob: not the 100 MB one, not the SBOM
    assert "104857600 bytes is larger than 4 MiB; not read" in (found[0].problem or "")
    assert found[1].body is None and found[1].problem is None
    assert found[2].body == small


def test_an_attestation_manifest_for_another_subject_is_one_line():
    from mb_ci.errors import ImageError
    from mb_ci.sources import attestations

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": prov.digest(b"{}"),
            "size": 2,
        },
        "layers": [],
        "subject": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + "9" * 64,
            "size": 1,
        },
    }
    entry, fetch, blob, _ = _manifest_reader(manifest, {})
    with pytest.raises(ImageError, match=r"`subject\.digest` is sha256:9+, but the index"):
        attestations.read(entry, DIGEST, "docker://x", fetch, blob)


def test_keys_without_the_signing_extra_name_it(monkeypatch):
    import sys

    from mb_ci.errors import UsageError

    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.serialization", None)
    with pytest.raises(UsageError) as raised:
        load_keys([("cosign.pub", b"")])
    assert str(raised.value) == (
        "provenance_keys needs the cryptography package "
        "(install mb-ci's signing extra, the cryptography package: pip install cryptography)"
    )
    assert load_keys([]) == ()  # no key given: nothing imported, nothing needed


def test_audit_rows_carry_the_revision_tier_and_filter_on_it():
    from helpers.facts import checkout, ci, image, policy

    from mb_ci.audit import filters
    from mb_ci.audit import report_text as audit_text
    from mb_ci.audit.model import AuditResult, Summary, Target, judge, row_dict, row_from_dict
    from mb_ci.errors import UsageError
    from mb_ci.report import RenderOptions

    backed = prov.attached(platform(digest=DIGEST), prov.raw(prov.v1(DIGEST, HEAD, SOURCE)))
    rows = [
        judge(
            Target("app:1"),
            image(platforms=(backed,), transport="docker"),
            checkout(),
            ci(),
            policy(),
        ),
        judge(Target("app:2"), image(), checkout(), ci(), policy()),  # the engine: label-only
    ]
    assert [r.tier for r in rows] == ["builder-verified", "label-only"]
    assert row_from_dict(row_dict(rows[0])).tier == "builder-verified"  # shards merge it back
    where = filters.Filters(where=(filters.parse_where("tier=builder-verified"),))
    assert [r.reference for r in rows if filters.matches(r, where)] == ["app:1"]
    text = audit_text.render(AuditResult(tuple(rows), Summary.of(rows)), RenderOptions())
    assert "TIER" in text.splitlines()[0] and "builder-verified" in text
    with pytest.raises(UsageError, match="unknown tier 'verified'"):
        filters.parse_where("tier=verified")


def test_several_provenances_the_agreeing_tier_wins_and_the_disagreeing_one_fails():
    from helpers.facts import checkout, ci, image, policy

    from mb_ci.checks import check_image
    from mb_ci.pipeline import with_provenance

    one = prov.attached(
        platform(digest=DIGEST),
        prov.raw(prov.v1(DIGEST, HEAD, SOURCE, finished="2999-01-01T00:00:00Z")),
        prov.raw(prov.v1(DIGEST, OTHER, SOURCE, finished="2999-01-01T00:00:00Z")),
    )
    judged = with_provenance(image(platforms=(one,), transport="docker"), policy())
    assert judged.platforms[0].provenance.tier_of(REVISION) == "builder-verified"
    findings = check_image(judged, checkout(), ci(), policy()).findings
    [wrong] = [f for f in findings if f.check == "revision-matches-provenance"]
    assert wrong.expected == OTHER and wrong.actual == HEAD
    assert wrong.detail["tier"] == "builder-verified"


def test_base_candidates_come_from_the_provenance_materials():
    """Docker's documented min-mode provenance lists the Dockerfile frontend and the base
    (golang@1.19.4-alpine for linux/arm64): the base is a candidate, pinned by its digest; the
    frontend is not looked up. BuildKit's v1 resolvedDependencies give the same."""
    import json as _json

    from mb_ci.provenance import parse
    from mb_ci.sources import base

    folder = Path(__file__).parent.parent / "data" / "provenance"
    v02 = _json.loads((folder / "docker-docs-slsa-v0.2-min.json").read_text())
    images = parse._images(v02["predicate"])
    assert [purl for purl, _ in images] == [
        "pkg:docker/docker/dockerfile@1",
        "pkg:docker/golang@1.19.4-alpine?platform=linux%2Farm64",
    ]
    found = base.from_provenance(images)
    golang = "golang@sha256:a9b24b67dc83b3383d22a14941c2b2b2ca6a103d805cac6820fd1355943beaf1"
    assert [(c.reference, c.how, c.lookups) for c in found] == [
        (golang, "provenance", (f"docker://{golang}",))
    ]
    v1 = _json.loads((folder / "buildkit-slsa-v1-assembled.json").read_text())
    refs = [c.reference for c in base.from_provenance(parse._images(v1["predicate"]))]
    alpine = "8914eb54f968791faf6a8638949e480fef81e697984fba772b3976835194c6d4"
    assert refs == [f"alpine@sha256:{alpine}"]
    hostile = (
        ("pkg:docker/x@1?repository_url=https://u:tok@evil.example", "sha256:" + "a" * 64),
        ("pkg:docker/../../etc@1", "sha256:" + "b" * 64),
        ("pkg:docker/app@1?repository_url=ghcr.io", "sha256:" + "c" * 64),
    )
    kept = [c.reference for c in base.from_provenance(hostile)]
    assert kept == ["ghcr.io/app@sha256:" + "c" * 64]
