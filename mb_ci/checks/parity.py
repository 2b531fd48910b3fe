"""``annotation-parity``: registries show annotations, not config labels.

GHCR's package page and other registries read the index's and manifest's annotations
(docker/build-push-action#447, #900), so an image whose description, source and licenses are
config labels only shows a blank page. For registry and layout images the OCI keys are
compared on both sides: a key on one side only, or two values, is a finding once the image
carries any OCI annotation at all (an image pushed by ``docker push`` carries none, and says
nothing about parity); ``annotation-keys.required`` names keys that must be annotations on
every such image.
"""

from __future__ import annotations

from mb_ci.checks.base import Findings
from mb_ci.checks.labels import same_value
from mb_ci.models import ImageFacts, PlatformFacts
from mb_ci.safety import printable, redact
from mb_ci.vocab import OCI, OCI_KEYS, concept_of

ID = "annotation-parity"
# transports that have annotations at all (an engine image and `docker save` have none)
TRANSPORTS = ("docker", "oci", "oci-archive")
# annotations by nature (the base of the build, the tag of a layout's entry): never labels
_ANNOTATION_ONLY = frozenset({OCI + "base.name", OCI + "base.digest", OCI + "ref.name"})


def _has_index(image: ImageFacts) -> bool:
    """Whether the reference names an image index (even one of one platform, as buildx pushes
    with its attestations), not a manifest: registries then show the index's annotations."""
    if image.index_annotations or image.multi_platform:
        return True
    return image.digest is not None and any(
        p.digest is not None and p.digest != image.digest for p in image.platforms
    )


def _where(image: ImageFacts, platform: PlatformFacts, level: str) -> dict[str, str]:
    if level == "index":
        # an image without an index (a manifest pushed on its own) shows its manifest's
        if _has_index(image):
            return dict(image.index_annotations)
        return dict(platform.annotations)
    if level == "manifest":
        return dict(platform.annotations)
    return {**image.index_annotations, **platform.annotations}


def check_parity(image: ImageFacts, platform: PlatformFacts, out: Findings) -> None:
    if image.transport not in TRANSPORTS:
        return
    out.ran(ID)
    rules = out.policy.annotation_rules  # the policy's own keys and its presets'
    where = rules.level or "either"
    shown = _where(image, platform, where)
    level = {"index": "the index", "manifest": "the manifest"}.get(where, "the index or manifest")
    for key in rules.required:
        if key not in shown:
            label = platform.labels.get(key)
            has = f" (the config label is {printable(redact(label), 80)!r})" if label else ""
            out.add(
                ID,
                f"{key} is not an annotation of {level}, which registries show{has}; add it "
                "with `docker buildx build --annotation` or metadata-action's annotations",
                label=key,
                expected=label,
                level=where,
            )
    annotations = {**image.index_annotations, **platform.annotations}
    if not any(k in OCI_KEYS for k in annotations):
        return  # no annotations at all: parity says nothing beyond `required`
    agree_checked = out.policy.annotations in ("both", "either")  # annotations-agree says it
    for key in OCI_KEYS:
        if key in _ANNOTATION_ONLY:
            continue
        label, note = platform.labels.get(key), annotations.get(key)
        if label is None and note is None:
            continue
        if label is not None and note is not None:
            if agree_checked or same_value(concept_of(key), label, note):
                continue
            out.add(
                ID,
                f"{key} differs: config label {printable(redact(label), 80)!r}, annotation "
                f"{printable(redact(note), 80)!r}",
                label=key,
                expected=label,
                actual=note,
            )
        elif note is None:
            if key in rules.required:
                continue  # said above, with the level it must be on
            out.add(
                ID,
                f"{key} is a config label but not an annotation: registries will not show it",
                label=key,
                expected=label,
            )
        else:
            out.add(
                ID,
                f"{key} is an annotation but not a config label: `docker inspect` and tools "
                "that read the config will not see it",
                label=key,
                actual=note,
            )
