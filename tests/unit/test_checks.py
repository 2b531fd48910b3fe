"""Every check in the catalogue over in-memory facts: a case that fires it, one that does not.

The table is keyed by check id and a test holds it to ``mb_ci.catalog.CHECKS``, so a new check
cannot ship without a case here. Image and git checks run through ``check_image`` (the path
``mb-ci check`` takes), Dockerfile checks through ``check_dockerfile`` (``mb-ci lint-dockerfile``).
No engine, registry or git: the facts are built by ``helpers.facts``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from helpers import provenance as prov
from helpers.clock import FIXED, stamp
from helpers.facts import (
    COMMIT_TIME,
    CREATED,
    HEAD,
    LS,
    OCI,
    OTHER,
    REVISION,
    SOURCE_KEY,
    VERSION,
    checkout,
    ci,
    image,
    platform,
    policy,
    replace,
    truthful_labels,
)
from helpers.git import SOURCE

from mb_ci.catalog import CHECKS
from mb_ci.checks import check_image
from mb_ci.checks.dockerfile import check_dockerfile
from mb_ci.checks.kubernetes import check_running
from mb_ci.dockerfile.parse import evaluate, read
from mb_ci.models import BaseImage, Finding, Layer, LicenceFacts, Severity
from mb_ci.pipeline import with_provenance

URL = OCI + "url"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Case:
    """Facts for one run of the checks.

    ``labels`` replace the truthful labels (``None``: keep them); ``add`` adds to them;
    ``platforms`` (labels and annotations per platform) make a multi-platform image;
    ``git`` overrides the checkout's facts; ``dockerfile`` (text or bytes) switches to the
    Dockerfile checks, under ``preset: none`` unless ``policy`` names a preset;
    ``kubernetes`` (spec image, running digest, the tag's digest now) switches to the check on
    what a pod runs (``mb-ci audit --kubernetes``).
    """

    labels: dict[str, str] | None = None
    add: dict[str, str] = field(default_factory=dict)
    policy: str = ""
    git: dict[str, Any] = field(default_factory=dict)
    platforms: tuple[tuple[dict[str, str], dict[str, str]], ...] = ()
    dockerfile: str | bytes | None = None
    kubernetes: tuple[str, str, str | None] | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # more PlatformFacts fields (layers...)
    attest: tuple[bytes, ...] | None = None  # provenance blobs attached in the index
    ci: dict[str, Any] = field(default_factory=dict)
    declared: str | None = None  # the Dockerfile the image's labels are compared with
    base: dict[str, str] | None = None  # the labels of the base image the platform was built FROM
    transport: str = "docker-daemon"  # where the image was read (annotations: registry, layout)
    licence: dict[str, tuple[str, ...]] | None = None  # licence file -> the SPDX ids it holds


# the platform manifest the provenance cases' statements are about
DIGEST = "sha256:" + "d" * 64
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
KEY_FILE = Path(tempfile.mkdtemp()) / "cosign.pub"
KEY_FILE.write_bytes(KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))


def signed_by(key: Any) -> Any:
    return lambda message: key.sign(message, ec.ECDSA(hashes.SHA256()))


def built(**labels: str) -> dict[str, Any]:
    """A v1 provenance of a Git context build of HEAD from the checkout's remote."""
    return prov.v1(DIGEST, HEAD, SOURCE, labels, finished=stamp(FIXED))


def run(case: Case, extra_policy: str = "") -> list[Finding]:
    text = case.policy + extra_policy
    if case.dockerfile is not None and "preset:" not in text:
        text = "preset: none\n" + text  # no required labels: each case says one thing
    rules = policy(text)
    if case.kubernetes is not None:
        return list(check_running("spec.containers[web].image", *case.kubernetes, rules))
    if case.dockerfile is not None:
        data = case.dockerfile.encode() if isinstance(case.dockerfile, str) else case.dockerfile
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "Dockerfile"
            path.write_bytes(data)
            findings, _ = check_dockerfile(evaluate(read(path)), rules)
        return list(findings)
    if case.platforms:
        subject = image(
            platforms=tuple(
                platform(labels, f"linux/{arch}", annotations=annotations)
                for (labels, annotations), arch in zip(
                    case.platforms, ("amd64", "arm64"), strict=False
                )
            ),
            transport=case.transport,
        )
    else:
        labels = truthful_labels() if case.labels is None else dict(case.labels)
        subject = image({**labels, **case.add})
        if case.facts:
            subject = replace(subject, platforms=(replace(subject.platforms[0], **case.facts),))
        if case.attest is not None:
            one = prov.attached(platform({**labels, **case.add}, digest=DIGEST), *case.attest)
            subject = image(platforms=(one,), transport="docker")
    final = None
    if case.declared is not None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "Dockerfile"
            path.write_text(case.declared)
            final = evaluate(read(path))
    bases = None if case.base is None else {None: BaseImage("base:1", "option", case.base)}
    licence = None if case.licence is None else LicenceFacts(case.licence)
    subject = with_provenance(subject, rules)
    result = check_image(
        subject,
        checkout(**case.git),
        ci(**case.ci),
        rules,
        now=FIXED,
        declared=final,
        bases=bases,
        licence=licence,
    )
    return list(result.findings)


def fired(case: Case, check: str, extra_policy: str = "") -> list[Finding]:
    return [f for f in run(case, extra_policy) if f.check == check]


def without(*keys: str) -> dict[str, str]:
    return {k: v for k, v in truthful_labels().items() if k not in keys}


LABELLED = "FROM scratch\nLABEL org.opencontainers.image.title=widget\n"

# check id -> (a case that makes it fire, a case where it stays quiet)
CASES: dict[str, tuple[Case, Case]] = {
    "label-required": (Case(labels=without(SOURCE_KEY)), Case()),
    "label-forbidden": (
        Case(
            add={"com.example.secret": "x"},
            policy="labels:\n  com.example.secret:\n    forbidden: true\n",
        ),
        Case(policy="labels:\n  com.example.secret:\n    forbidden: true\n"),
    ),
    "label-deprecated": (
        Case(
            add={OCI + "vendor": "Acme"}, policy=f"labels:\n  {OCI}vendor:\n    deprecated: gone\n"
        ),
        Case(policy=f"labels:\n  {OCI}vendor:\n    deprecated: gone\n"),
    ),
    "label-value": (
        Case(add={OCI + "vendor": "Other"}, policy=f"labels:\n  {OCI}vendor:\n    value: Acme\n"),
        Case(add={OCI + "vendor": "Acme"}, policy=f"labels:\n  {OCI}vendor:\n    value: Acme\n"),
    ),
    "label-pattern": (
        Case(
            add={OCI + "title": "Widget!"},
            policy=f"labels:\n  {OCI}title:\n    pattern: '[a-z]+'\n",
        ),
        Case(
            add={OCI + "title": "widget"}, policy=f"labels:\n  {OCI}title:\n    pattern: '[a-z]+'\n"
        ),
    ),
    "label-enum": (
        Case(
            add={"com.example.tier": "bronze"},
            policy="labels:\n  com.example.tier:\n    enum: [gold, silver]\n",
        ),
        Case(
            add={"com.example.tier": "gold"},
            policy="labels:\n  com.example.tier:\n    enum: [gold, silver]\n",
        ),
    ),
    "label-format": (
        Case(add={URL: "not a url"}, policy=f"labels:\n  {URL}:\n    format: url\n"),
        Case(
            add={URL: "https://example.com/widget"}, policy=f"labels:\n  {URL}:\n    format: url\n"
        ),
    ),
    "label-unknown": (
        Case(add={"com.example.extra": "x"}, policy="strict: true\n"),
        Case(add={"com.example.extra": "x"}, policy="strict: true\nallow: ['com.example.*']\n"),
    ),
    "label-credentials": (
        Case(add={URL: "https://user:s3cret@example.com/widget"}),
        Case(add={URL: "https://example.com/widget"}),
    ),
    "vocab-agree": (
        Case(add={LS + "vcs-ref": OTHER}),
        Case(add={LS + "vcs-ref": HEAD[:7]}),
    ),
    "revision-matches-head": (Case(add={REVISION: OTHER}), Case()),
    "revision-not-sha": (Case(add={REVISION: "main"}), Case()),
    "revision-dirty": (
        Case(add={REVISION: HEAD + "-dirty"}),
        Case(add={REVISION: HEAD + "-dirty"}, policy="git:\n  revision:\n    allow-dirty: true\n"),
    ),
    "source-matches-remote": (
        Case(add={SOURCE_KEY: "https://github.com/acme/gadget"}),
        Case(add={SOURCE_KEY: "https://github.com/acme/widget.git"}),
    ),
    "source-credentials": (
        Case(add={SOURCE_KEY: "https://user:ghp_token@github.com/acme/widget"}),
        Case(),
    ),
    "created-format": (
        Case(add={CREATED: "yesterday"}),
        Case(add={CREATED: "2024-05-01T11:30:00+00:00"}),
    ),
    "created-not-future": (
        Case(add={CREATED: stamp(FIXED + dt.timedelta(hours=1))}),
        Case(add={CREATED: stamp(FIXED + dt.timedelta(minutes=4))}),  # within the clock skew
    ),
    "created-after-commit": (
        Case(add={CREATED: stamp(COMMIT_TIME - dt.timedelta(days=1))}),
        Case(add={CREATED: stamp(COMMIT_TIME)}),
    ),
    "created-max-age": (
        Case(
            add={CREATED: stamp(FIXED - dt.timedelta(days=3))},
            git={"commit_time": FIXED - dt.timedelta(days=10)},
            policy="git:\n  created:\n    max-age: 1d\n",
        ),
        Case(policy="git:\n  created:\n    max-age: 1d\n"),
    ),
    "version-matches-tag": (
        Case(add={VERSION: "2.0.0"}, git={"tags": ("v1.2.3",)}),
        Case(add={VERSION: "1.2.3"}, git={"tags": ("v1.2.3",)}),
    ),
    "platforms-agree": (
        Case(platforms=((truthful_labels(), {}), (truthful_labels(**{REVISION: OTHER}), {}))),
        Case(platforms=((truthful_labels(), {}), (truthful_labels(**{REVISION: HEAD[:12]}), {}))),
    ),
    "annotations-agree": (
        Case(
            platforms=((truthful_labels(), {REVISION: OTHER}),),
            policy="annotations: either\n",
        ),
        Case(
            platforms=((truthful_labels(), {REVISION: HEAD}),),
            policy="annotations: either\n",
        ),
    ),
    "label-optional": (
        Case(policy=f"optional: [{OCI}description]\n"),
        Case(add={OCI + "description": "A widget"}, policy=f"optional: [{OCI}description]\n"),
    ),
    "max-layers": (
        Case(facts={"layer_count": 41}, policy="max_layers: 40\n"),
        Case(facts={"layer_count": 40}, policy="max_layers: 40\n"),
    ),
    "max-size": (
        Case(
            facts={"layers": (Layer("sha256:" + "a" * 64, 2_000_001, OCI_LAYER),)},
            policy="max_size: 2MB\n",
        ),
        Case(
            facts={"layers": (Layer("sha256:" + "a" * 64, 2_000_000, OCI_LAYER),)},
            policy="max_size: 2MB\n",
        ),
    ),
    "max-config-size": (
        Case(facts={"config_size": 1025}, policy="max_config_size: 1KiB\n"),
        Case(facts={"config_size": 1024}, policy="max_config_size: 1KiB\n"),
    ),
    "event-vs-checkout": (
        Case(ci={"provider": "github", "sha": OTHER, "event": "workflow_dispatch"}),
        Case(ci={"provider": "github", "sha": HEAD, "event": "push"}),
    ),
    "declared-vs-built": (
        Case(add={OCI + "title": "gadget"}, declared=f"FROM scratch\nLABEL {OCI}title=widget\n"),
        Case(
            add={OCI + "title": "widget"},
            declared=f"FROM scratch\nARG REV\nLABEL {OCI}title=widget {REVISION}=$REV\n",
        ),
    ),
    "label-inherited": (
        Case(add={VERSION: "22.04"}, base={VERSION: "22.04"}),
        Case(add={VERSION: "1.2.3"}, base={VERSION: "22.04"}),
    ),
    "annotation-parity": (
        Case(
            platforms=((truthful_labels(), {OCI + "description": "A widget"}),), transport="docker"
        ),
        Case(
            platforms=(
                (
                    truthful_labels(**{OCI + "description": "A widget"}),
                    truthful_labels(**{OCI + "description": "A widget"}),
                ),
            ),
            transport="docker",
        ),
    ),
    "licence-matches-repo": (
        Case(add={OCI + "licenses": "MIT"}, licence={"LICENSE": ("Apache-2.0",)}),
        Case(add={OCI + "licenses": "Apache-2.0 OR MIT"}, licence={"LICENSE": ("Apache-2.0",)}),
    ),
    "dockerfile-arg-scope": (
        Case(dockerfile="ARG V=1\nFROM scratch\nLABEL com.example.v=$V\n"),
        Case(dockerfile="ARG V=1\nFROM scratch\nARG V\nLABEL com.example.v=$V\n"),
    ),
    "dockerfile-undefined-var": (
        Case(dockerfile="FROM scratch\nLABEL com.example.v=$NOPE\n"),
        Case(dockerfile="FROM scratch\nARG NOPE=1\nLABEL com.example.v=$NOPE\n"),
    ),
    "dockerfile-build-time-value": (
        Case(dockerfile=f"FROM scratch\nARG REV\nLABEL {REVISION}=$REV\n"),
        Case(dockerfile="FROM scratch\nARG V=1.2.3\nLABEL com.example.version=$V\n"),
    ),
    "dockerfile-fixed-value": (
        Case(dockerfile=f"FROM scratch\nARG REV=unknown\nLABEL {REVISION}=$REV\n"),
        Case(dockerfile="FROM scratch\nARG V=1.2.3\nLABEL com.example.version=$V\n"),
    ),
    "dockerfile-not-utf8": (
        Case(dockerfile=b'FROM scratch\nLABEL com.example.name="caf\xe9"\n'),
        Case(dockerfile='FROM scratch\nLABEL com.example.name="café"\n'),
    ),
    "kubernetes-tag-moved": (
        Case(kubernetes=("registry.example/web:live", "sha256:" + "1" * 64, "sha256:" + "2" * 64)),
        Case(kubernetes=("registry.example/web:live", "sha256:" + "1" * 64, "sha256:" + "1" * 64)),
    ),
    "dockerfile-unknown-key": (
        Case(dockerfile=f"FROM scratch\nLABEL {OCI}revison={HEAD}\n"),
        Case(dockerfile=LABELLED),
    ),
    "provenance-present": (
        Case(policy="provenance: required\n"),  # the engine cannot carry attestations
        Case(attest=(prov.raw(built()),), policy="provenance: required\n"),
    ),
    "provenance-subject": (
        Case(attest=(prov.raw(prov.v1("sha256:" + "f" * 64, HEAD, SOURCE)),)),
        Case(attest=(prov.raw(built()),)),
    ),
    "provenance-signature": (
        Case(
            attest=(prov.dsse(built(), signed_by(OTHER_KEY)),),
            policy=f"provenance_keys: ['{KEY_FILE}']\n",
        ),
        Case(
            attest=(prov.dsse(built(), signed_by(KEY)),),
            policy=f"provenance_keys: ['{KEY_FILE}']\n",
        ),
    ),
    "revision-matches-provenance": (
        Case(attest=(prov.raw(prov.v1(DIGEST, OTHER, SOURCE, finished=stamp(FIXED))),)),
        Case(attest=(prov.raw(built()),), policy="provenance_min_tier: builder-verified\n"),
    ),
    "source-matches-provenance": (
        Case(
            attest=(
                prov.raw(
                    prov.v1(DIGEST, HEAD, "https://github.com/acme/gadget", finished=stamp(FIXED))
                ),
            )
        ),
        Case(attest=(prov.raw(prov.github(DIGEST, HEAD, SOURCE, "refs/heads/main")),)),
    ),
    "version-matches-provenance": (
        Case(add={VERSION: "1.0.0"}, attest=(prov.raw(built(**{VERSION: "2.0.0"})),)),
        Case(add={VERSION: "1.0.0"}, attest=(prov.raw(built(**{VERSION: "1.0.0"})),)),
    ),
    "created-matches-provenance": (
        Case(attest=(prov.raw(prov.v02_min(DIGEST, finished="2020-01-01T00:00:00Z")),)),
        Case(attest=(prov.raw(prov.v02_min(DIGEST, HEAD, SOURCE, finished=stamp(FIXED))),)),
    ),
}

IDS = sorted(CASES)


def test_every_check_in_the_catalogue_has_cases():
    assert sorted(CHECKS) == IDS


@pytest.mark.parametrize("check", IDS)
def test_fires(check):
    found = fired(CASES[check][0], check)
    assert found, f"{check} did not fire"


@pytest.mark.parametrize("check", IDS)
def test_stays_quiet(check):
    assert fired(CASES[check][1], check) == []


@pytest.mark.parametrize("check", IDS)
def test_the_quiet_case_passes_every_check(check):
    assert run(CASES[check][1]) == []


@pytest.mark.parametrize("check", IDS)
def test_fires_at_the_catalogue_severity(check):
    assert {f.severity for f in fired(CASES[check][0], check)} == {CHECKS[check].severity}


@pytest.mark.parametrize("check", IDS)
def test_the_policy_sets_the_severity(check):
    case = CASES[check][0]
    assert fired(case, check, f"checks:\n  {check}: off\n") == []
    other = Severity.INFO if CHECKS[check].severity is not Severity.INFO else Severity.WARNING
    found = fired(case, check, f"checks:\n  {check}: {other.value}\n")
    assert found and {f.severity for f in found} == {other}


@pytest.mark.parametrize("check", IDS)
def test_findings_say_what_they_are_about(check):
    for finding in fired(CASES[check][0], check):
        assert finding.message.strip()
        # a provenance finding about a whole document names the document instead
        assert (
            finding.label is not None
            or finding.line is not None
            or finding.detail.get("provenance")
        )


def test_the_truthful_image_passes_every_check():
    assert run(Case()) == []


@pytest.mark.parametrize("check", IDS)
def test_every_finding_names_a_catalogue_check(check):
    for case in CASES[check]:
        assert {f.check for f in run(case)} <= set(CHECKS)
