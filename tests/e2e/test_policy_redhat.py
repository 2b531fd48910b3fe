"""`preset: redhat` (and `preflight`) on images built FROM scratch on the real engine: an image
labelled to Red Hat's rules passes, and each missing, deprecated or trademark-violating label
gives the finding Enterprise Contract or preflight gives, with the same term and replacement.

EC's messages (conforma/policy policy/release/labels/labels.rego): `The required %q label is
missing. Label description: %s`, `The %q label is deprecated, replace with %q`. Preflight's
(openshift-preflight internal/policy/container/): HasRequiredLabel, HasNoProhibitedLabels,
LayerCountAcceptable.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers.clock import now

CERTIFIED = {
    "com.redhat.component": "acme-widget-container",
    "description": "Widget serves widgets over HTTP.",
    "distribution-scope": "public",
    "io.k8s.description": "Widget serves widgets over HTTP.",
    "name": "acme/widget",
    "release": "1",
    "url": "https://example.com/widget",
    "vcs-ref": "8b1a9953c4611296a827abf8c47804d7e6c49c6b",
    "vcs-type": "git",
    "vendor": "Acme Corp",
    "version": "1.2.3",
    "cpe": "cpe:/a:acme:widget:1.2",
    "maintainer": "Widget team <widget@example.com>",
    "summary": "Widgets over HTTP",
}


@pytest.fixture(scope="module")
def policies(tmp_path_factory: Any) -> Any:
    folder = tmp_path_factory.mktemp("redhat")
    for name, body in {
        "redhat": "preset: redhat\n",
        "both": "preset: [redhat, preflight]\n",
    }.items():
        (folder / f"{name}.yml").write_text("version: 1\n" + body)
    return folder


def check(mbci: Any, policies: Any, tag: str, policy: str = "redhat", *args: str) -> Any:
    return mbci(
        "check",
        tag,
        "--no-git",
        "--policy",
        str(policies / f"{policy}.yml"),
        "--format",
        "json",
        *args,
        cwd=policies,
    )


def labels(**changes: str | None) -> dict[str, str]:
    out = {**CERTIFIED, "org.opencontainers.image.created": now()}
    for key, value in changes.items():
        key = key.replace("__", ".").replace("_", "-")
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def findings(result: Any) -> list[dict[str, Any]]:
    return json.loads(result.stdout)["findings"]


def test_an_image_labelled_to_red_hats_rules_passes(build_image: Any, mbci: Any, policies: Any):
    result = check(mbci, policies, build_image(labels()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert findings(result) == []


def test_a_missing_label_is_ecs_required_labels_finding(build_image: Any, mbci: Any, policies: Any):
    result = check(mbci, policies, build_image(labels(name=None)))
    assert result.returncode == 1
    (finding,) = findings(result)
    # EC: The required "name" label is missing. Label description: Name of the Image or Container.
    assert (finding["check"], finding["label"], finding["severity"]) == (
        "label-required",
        "name",
        "error",
    )
    assert "name is missing" in finding["message"]
    assert "Name of the Image or Container" in finding["message"]


def test_a_deprecated_label_is_ecs_deprecated_labels_finding(
    build_image: Any, mbci: Any, policies: Any
):
    tag = build_image(labels(Name="acme/widget", BZComponent="widget"))
    result = check(mbci, policies, tag)
    assert result.returncode == 1  # EC denies a deprecated label
    found = {f["label"]: f for f in findings(result)}
    assert set(found) == {"Name", "BZComponent"}
    # EC: The "Name" label is deprecated, replace with "name"
    assert found["Name"]["check"] == "label-deprecated"
    assert found["Name"]["severity"] == "error"
    assert found["Name"]["message"] == 'label Name is deprecated: replace with "name"'
    assert found["BZComponent"]["message"].endswith('replace with "com.redhat.component"')


@pytest.mark.parametrize("key", ["vendor", "maintainer", "name"])
def test_the_trademark_rule_is_preflights(build_image: Any, mbci: Any, policies: Any, key: str):
    result = check(mbci, policies, build_image(labels(**{key: "Red Hat, Inc."})))
    assert result.returncode == 1
    (finding,) = findings(result)
    assert (finding["check"], finding["label"]) == ("label-pattern", key)
    assert "HasNoProhibitedLabels" in finding["message"]
    allowed = check(mbci, policies, build_image(labels(**{key: "Widget for Red Hat OpenShift"})))
    assert allowed.returncode == 0, allowed.stdout


def test_ecs_start_dates_for_created_and_cpe(build_image: Any, mbci: Any, policies: Any):
    tag = build_image(labels(cpe=None))
    before = check(mbci, policies, tag, "redhat", "--date", "2026-06-06")
    assert before.returncode == 0, before.stdout
    (finding,) = findings(before)
    assert finding["severity"] == "warning"
    assert finding["message"].endswith("(fails from 2026-06-07)")
    assert finding["detail"]["effective_on"] == "2026-06-07"
    after = check(mbci, policies, tag, "redhat", "--date", "2026-06-07")
    assert after.returncode == 1
    assert [f["severity"] for f in findings(after)] == ["error"]


def test_preflight_counts_forty_layers(build_image: Any, mbci: Any, policies: Any):
    copies = "\n".join(f"COPY payload.txt /p{i}.txt" for i in range(40))  # 41 layers in all
    result = check(mbci, policies, build_image(labels(), extra=copies), "both")
    assert result.returncode == 1
    (finding,) = findings(result)
    assert (finding["check"], finding["actual"]) == ("max-layers", "41")
    assert "more than the 40 the policy allows" in finding["message"]
