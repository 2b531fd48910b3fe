"""label-inherited over in-memory facts, and the base candidates read from annotations.

The engine and registry side (real base images, pushed manifests with base annotations, OCI
layouts) is tests/e2e/test_inherited.py.
"""

from __future__ import annotations

import pytest
from helpers.clock import FIXED
from helpers.facts import OCI, checkout, ci, image, platform, policy, truthful_labels

from mb_ci.checks import check_image
from mb_ci.checks.inheritance import DEFAULT_FORBIDDEN, forbidden, history_keys
from mb_ci.models import BaseImage, Finding, Severity
from mb_ci.policy import InheritedPolicy
from mb_ci.sources import base as base_source
from mb_ci.sources.oci import lineage

VERSION, TITLE, VENDOR = OCI + "version", OCI + "title", OCI + "vendor"
BASE = {VERSION: "22.04", TITLE: "Ubuntu", VENDOR: "Canonical", "com.example.tier": "gold"}
BASE_HISTORY = ("ADD file:abc in /", 'CMD ["bash"]', "LABEL org.opencontainers.image.version=22.04")


def inherited(labels: dict[str, str], history=None, rules: str = "", base=BASE) -> list[Finding]:
    facts = image(platforms=(platform(truthful_labels(**labels), history=history),))
    bases = {None: BaseImage("ubuntu:22.04", "dockerfile", base, history_length=3)}
    result = check_image(facts, checkout(), ci(), policy(rules), FIXED, bases=bases)
    return [f for f in result.findings if f.check == "label-inherited"]


def test_the_base_version_and_title_leak():
    found = inherited(dict(BASE))
    assert {f.label for f in found} == {VERSION, TITLE, VENDOR}  # tier is no describing key
    assert all(f.severity is Severity.WARNING for f in found)
    assert "ubuntu:22.04" in found[0].message and "inherited.allow" in found[0].message


def test_a_label_the_build_set_again_is_information():
    history = (*BASE_HISTORY, "/bin/sh -c #(nop)  LABEL org.opencontainers.image.title=Ubuntu a=b")
    found = {f.label: f for f in inherited(dict(BASE), history=history)}
    assert found[TITLE].severity is Severity.INFO and "declared again" in found[TITLE].message
    # the base's own LABEL step (before its history length) is not the build's
    assert found[VERSION].severity is Severity.WARNING


def test_buildkit_history_entries_count_too():
    keys = history_keys(("x", 'LABEL "a.b"=1 c=two words d=3'), 1)
    assert keys == {"a.b", "c", "d"}


def test_other_values_are_not_inherited():
    assert inherited({VERSION: "1.0.0", TITLE: "widget", VENDOR: "Acme"}) == []


def test_policy_allow_forbid_and_replace():
    assert [
        f.label
        for f in inherited(dict(BASE), rules="inherited:\n  allow: ['*.title', '*.vendor']\n")
    ] == [VERSION]
    found = inherited(dict(BASE), rules="inherited:\n  forbid: ['com.example.*']\n")
    assert "com.example.tier" in {f.label for f in found}
    only = inherited(dict(BASE), rules="inherited:\n  allow: ['*']\n  forbid: [com.example.tier]\n")
    assert [f.label for f in only] == ["com.example.tier"]
    assert (
        forbidden(OCI + "licenses", InheritedPolicy())
        and "org.label-schema.vcs-url" in DEFAULT_FORBIDDEN
    )


def test_an_unreadable_base_is_one_note_and_the_other_checks_go_on():
    facts = image(truthful_labels(**BASE))
    bases = {None: BaseImage("", "", note="dockerfile base nope:1: no such image")}
    result = check_image(facts, checkout(), ci(), policy(""), FIXED, bases=bases)
    (note,) = [f for f in result.findings if f.check == "label-inherited"]
    assert note.severity is Severity.INFO and "nope:1" in note.message
    assert "label-inherited" in result.checked and "revision-matches-head" in result.checked


def _annotated(name: str, digest: str | None = None):
    notes = {base_source.BASE_NAME: name}
    if digest:
        notes[base_source.BASE_DIGEST] = digest
    facts = image(platforms=(platform(annotations=notes),), transport="docker")
    return base_source.candidates(facts, facts.platforms[0], None, None)


D = "sha256:" + "ab" * 32


def test_annotations_name_the_base_by_digest():
    (cand,) = _annotated("registry.example:5000/base/img:1.0", D)
    assert cand.problem is None and cand.lookups == (
        f"docker://registry.example:5000/base/img@{D}",
    )


@pytest.mark.parametrize(
    ("name", "digest", "why"),
    [
        ("https://user:ghp_secret@evil.example/x", D, "credential"),
        ("user:secret@evil.example/x:1", D, "credential"),
        ("registry.example/x:1", "md5:" + "ab" * 16, "not a sha256 or sha512"),
        ("registry.example/x:1", "sha256:short", "not a sha256 or sha512"),
    ],
)
def test_hostile_base_annotations_are_not_looked_up(name, digest, why):
    (cand,) = _annotated(name, digest)
    assert cand.lookups == () and why in (cand.problem or "")
    assert "ghp_secret" not in (cand.problem or "") and "secret@" not in (cand.problem or "")


def test_a_history_of_100000_entries_is_counted_not_kept():
    config = {"rootfs": {"diff_ids": []}, "history": [{"created_by": "LABEL a=b"}] * 100_000}
    diff_ids, history, length = lineage(config)
    assert history is None and length == 100_000 and diff_ids == ()
    # and the check then says it cannot tell whether the build set a label
    found = inherited(dict(BASE), history=None)
    assert "history does not say" in found[0].message


def test_the_candidates_come_in_the_documented_order():
    """Annotations, then provenance materials (the seam a provenance reader fills), then the
    Dockerfile's FROM, then --base."""
    notes = {base_source.BASE_NAME: "registry.example/base:1", base_source.BASE_DIGEST: D}
    facts = image(platforms=(platform(annotations=notes),), transport="docker-daemon")
    seam = (base_source.Candidate("registry.example/prov@" + D, "provenance", ("docker://x",)),)
    found = base_source.candidates(facts, facts.platforms[0], "alpine:3", "oci:/l:app", seam)
    assert [c.how for c in found] == ["annotation", "provenance", "dockerfile", "option"]
    # an engine image asks the engine first, then the registry
    assert found[0].lookups == (f"registry.example/base@{D}", f"docker://registry.example/base@{D}")
    assert found[2].lookups == ("alpine:3", "docker://alpine:3")
