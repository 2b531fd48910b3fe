"""annotation-parity over in-memory facts: which side a key is on, and the required keys."""

from __future__ import annotations

from helpers.clock import FIXED
from helpers.facts import OCI, checkout, ci, image, platform, policy, truthful_labels

from mb_ci.checks import check_image
from mb_ci.models import Finding

DESCRIPTION, LICENSES = OCI + "description", OCI + "licenses"
GHCR = (
    "annotation-keys:\n  level: index\n  required:\n"
    f"    - {DESCRIPTION}\n    - {OCI}source\n    - {LICENSES}\n"
)


def parity(facts, rules: str = "") -> list[Finding]:
    result = check_image(facts, checkout(), ci(), policy(rules), FIXED)
    return [f for f in result.findings if f.check == "annotation-parity"]


def test_a_docker_push_without_annotations_says_nothing_unless_keys_are_required():
    labels = truthful_labels(**{DESCRIPTION: "A widget", LICENSES: "MIT"})
    pushed = image(labels, transport="docker")
    assert parity(pushed) == []
    found = parity(pushed, GHCR)
    assert {f.label for f in found} == {DESCRIPTION, OCI + "source", LICENSES}
    assert all("not an annotation of the index" in f.message for f in found)
    assert {f.expected for f in found if f.label == LICENSES} == {"MIT"}


def test_the_engine_has_no_annotations_to_compare():
    assert parity(image(truthful_labels(), transport="docker-daemon"), GHCR) == []


def test_a_multi_platform_image_needs_them_on_the_index_for_ghcr():
    labels = truthful_labels(**{DESCRIPTION: "A widget", LICENSES: "MIT"})
    notes = {k: labels[k] for k in (DESCRIPTION, OCI + "source", LICENSES)}
    per_manifest = image(
        platforms=(
            platform(labels, "linux/amd64", annotations=notes),
            platform(labels, "linux/arm64", annotations=notes),
        ),
        transport="docker",
    )
    found = parity(per_manifest, GHCR)
    required = {f.label for f in found if "not an annotation of the index" in f.message}
    assert required == {DESCRIPTION, OCI + "source", LICENSES}
    # revision and created are labels only, on each platform
    assert {f.label for f in found} - required == {OCI + "revision", OCI + "created"}
    on_index = image(
        platforms=(platform(labels, "linux/amd64"), platform(labels, "linux/arm64")),
        index_annotations=notes,
        transport="docker",
    )
    # on the index: required is met; revision and created are labels only
    found = parity(on_index, GHCR)
    assert {f.label for f in found} == {OCI + "revision", OCI + "created"}
    assert parity(on_index, GHCR.replace("index", "either")) == parity(on_index, GHCR)


def test_two_values_are_one_finding_naming_both():
    labels = truthful_labels(**{DESCRIPTION: "A widget"})
    notes = {**labels, DESCRIPTION: "A gadget"}
    (f,) = parity(image(platforms=(platform(labels, annotations=notes),), transport="oci"))
    assert (f.label, f.expected, f.actual) == (DESCRIPTION, "A widget", "A gadget")
    # under `annotations: either` annotations-agree already says it, at its own severity
    result = check_image(
        image(platforms=(platform(labels, annotations=notes),), transport="oci"),
        checkout(),
        ci(),
        policy("annotations: either\n"),
        FIXED,
    )
    assert [f.check for f in result.findings] == ["annotations-agree"]


def test_a_single_platform_index_needs_them_on_the_index():
    """buildx pushes an index of one image plus its attestations: GHCR shows the index's."""
    labels = truthful_labels(**{DESCRIPTION: "A widget", LICENSES: "MIT"})
    notes = {k: labels[k] for k in (DESCRIPTION, OCI + "source", LICENSES)}
    one = platform(labels, "linux/amd64", annotations=notes, digest="sha256:" + "1" * 64)
    indexed = image(platforms=(one,), digest="sha256:" + "2" * 64, transport="docker")
    required = {f.label for f in parity(indexed, GHCR) if "of the index" in f.message}
    assert required == {DESCRIPTION, OCI + "source", LICENSES}
    alone = image(platforms=(one,), digest=one.digest, transport="docker")
    assert not [f for f in parity(alone, GHCR) if "of the index" in f.message]
