"""Every check id mb-ci can report, with its default severity and its help text."""

from __future__ import annotations

from dataclasses import dataclass

from mb_ci.models import Severity

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class CheckInfo:
    id: str
    severity: Severity
    summary: str
    help: str


_DEFS: tuple[tuple[str, Severity, str, str], ...] = (
    (
        "label-required",
        E,
        "A required label is missing.",
        "The policy or its preset requires this label. Add it at build time, e.g. with "
        "`mb-ci labels --format build-args`.",
    ),
    (
        "label-forbidden",
        E,
        "A forbidden label is present.",
        "The policy forbids this label. Remove it from the Dockerfile or the build command.",
    ),
    (
        "label-deprecated",
        W,
        "A deprecated label is present.",
        "The policy marks this label as deprecated; use its replacement.",
    ),
    (
        "label-value",
        E,
        "A label does not have the value the policy requires.",
        "Set the label to the exact value named in the policy.",
    ),
    (
        "label-pattern",
        E,
        "A label does not match the policy's pattern.",
        "The whole value must match the regular expression in the policy.",
    ),
    (
        "label-enum",
        E,
        "A label's value is not one of the allowed values.",
        "Use one of the values listed in the policy.",
    ),
    (
        "label-format",
        E,
        "A label's value is not in the required format.",
        "Formats: url, rfc3339, semver, git-sha, spdx-expression, email, digest, image-ref.",
    ),
    (
        "label-unknown",
        W,
        "A label is in no known vocabulary (strict mode).",
        "Strict mode accepts only OCI and label-schema keys, keys named in `labels`, and keys "
        "matched by `allow`. A near-miss of a known key is named in the message.",
    ),
    (
        "label-credentials",
        E,
        "A label holds a credential.",
        "A label value carries a password or token, e.g. in a URL's user part. Anyone who can pull "
        "the image can read it: rotate the secret and build without it.",
    ),
    (
        "vocab-agree",
        E,
        "The OCI and label-schema labels disagree.",
        "An image that carries both vocabularies must say the same thing in both, e.g. "
        "`org.opencontainers.image.revision` and `org.label-schema.vcs-ref`.",
    ),
    (
        "revision-matches-head",
        E,
        "The revision label is not the commit CI built.",
        "The label must name HEAD (full SHA or an abbreviation of at least 7 characters), or on a "
        "pull request the PR head or merge commit as `git.revision.accept` says.",
    ),
    (
        "revision-not-sha",
        E,
        "The revision label is not a commit SHA.",
        "A branch or tag name is not a revision: label the image with the commit SHA.",
    ),
    (
        "revision-dirty",
        W,
        "The image was built from a dirty work tree.",
        "The revision has a `-dirty` suffix or the work tree has uncommitted changes. Set "
        "`git.revision.allow-dirty: true` to accept it.",
    ),
    (
        "source-matches-remote",
        E,
        "The source label does not name the git remote.",
        "After normalisation (scheme, user, `.git`, host case) the label must equal the remote.",
    ),
    (
        "source-credentials",
        E,
        "The source label holds a credential.",
        "The source URL carries a password or token. Label the image with the plain https URL.",
    ),
    (
        "created-format",
        E,
        "The created label is not RFC 3339.",
        "Use a timestamp like `2024-05-01T12:00:00Z`, e.g. `date -u +%Y-%m-%dT%H:%M:%SZ`.",
    ),
    (
        "created-not-future",
        E,
        "The created label is in the future.",
        "The build date is later than now plus the allowed clock skew (`git.created.clock-skew`).",
    ),
    (
        "created-after-commit",
        E,
        "The created label is older than the commit.",
        "An image cannot be built before the commit it was built from existed (allowing for "
        "`git.created.clock-skew`). A stale or copied label is the usual cause.",
    ),
    (
        "created-max-age",
        W,
        "The image is older than the policy allows.",
        "`git.created.max-age` limits how old `created` may be.",
    ),
    (
        "version-matches-tag",
        E,
        "The version label does not match the git tag at HEAD.",
        "When HEAD is tagged, the version label must equal the tag (a leading `v` is allowed by "
        "`git.version.allow-v-prefix`).",
    ),
    (
        "platforms-agree",
        E,
        "Platforms of one image disagree.",
        "Every platform of a multi-platform image must carry the same revision and source.",
    ),
    (
        "annotations-agree",
        E,
        "Annotations and labels disagree.",
        "Where a key is present both as a manifest annotation and as a config label, the values "
        "must be the same.",
    ),
    (
        "event-vs-checkout",
        W,
        "The checkout's HEAD is not the commit CI says it built.",
        "CI names the commit it built (`GITHUB_SHA`, `CI_COMMIT_SHA` …) and HEAD is another "
        "commit: usually `actions/checkout` with `ref:`, a `workflow_dispatch` run with a ref, "
        "or a step that checked out or committed something else. The labels are still compared "
        "with HEAD, the commit the image was built from.",
    ),
    (
        "declared-vs-built",
        W,
        "A label's value in the image differs from the Dockerfile's LABEL.",
        "The final stage (or `--target`) declares one value and the image carries another: a "
        "`--label` flag, `docker/metadata-action`'s labels or a `--build-arg` overwrote it at "
        "build time. Labels whose value comes from an ARG without a default are not compared.",
    ),
    (
        "label-inherited",
        W,
        "A label is inherited unchanged from the base image.",
        "The image carries the base image's value of a key that describes an image (title, "
        "version, revision, source, licenses …) and its own build did not set it, so it claims "
        "the base's. Set the label in the build, or allow the key with `inherited.allow`. The "
        "base is found by the `org.opencontainers.image.base.name`/`.base.digest` annotations, "
        "the `--dockerfile`'s final `FROM`, or `--base REF`, and must share the image's first "
        "layers.",
    ),
    (
        "annotation-parity",
        W,
        "Config labels and the annotations registries show differ.",
        "Registries (GHCR's package page among them) read the index and manifest annotations, "
        "not config labels. For registry and layout images that carry OCI annotations, a key on "
        "one side only or with two values is a finding; `annotation-keys.required` names keys "
        "that must be annotations. Add them with `docker buildx build --annotation` or "
        "docker/metadata-action's `annotations` output.",
    ),
    (
        "licence-matches-repo",
        W,
        "The licenses label is not the repository's licence.",
        "The licence detected in the checkout's LICENSE/COPYING files (by their text, as SPDX "
        "ids) must be one of the operands of `org.opencontainers.image.licenses`, e.g. `MIT OR "
        "Apache-2.0` for a dual-licensed repository. Set `checks: {licence-matches-repo: "
        "error}` to fail on it.",
    ),
    (
        "dockerfile-arg-scope",
        E,
        "A label uses an ARG declared only before FROM.",
        "An ARG declared before the first FROM is in scope for FROM lines only: inside a stage "
        "it expands to an empty string unless the stage repeats `ARG NAME` (no value needed). "
        "BuildKit's platform ARGs (`TARGETPLATFORM`, `TARGETARCH` …) are in that scope too.",
    ),
    (
        "dockerfile-undefined-var",
        W,
        "A label uses a variable no ARG or ENV declares.",
        "The variable expands to an empty string. Declare it with `ARG NAME` in the stage, or "
        "give a default with `${NAME:-default}`. `$$`, `$@`, `$1` and the other shell "
        "parameters are never set: write `\\$` for a literal dollar sign.",
    ),
    (
        "dockerfile-build-time-value",
        Severity.INFO,
        "A label's value is set at build time.",
        "The value comes from an ARG without a default (e.g. `--build-arg VCS_REF=...`), so its "
        "format can only be checked on the built image: run `mb-ci check` or `mb-ci build`.",
    ),
    (
        "dockerfile-fixed-value",
        W,
        "The revision or created label has one fixed value for every build.",
        "The Dockerfile writes the value itself, or it is the default of an ARG (`ARG "
        "VCS_REF=unknown`) that a build without `--build-arg` keeps: every such image claims the "
        "same commit or time. Leave the ARG without a default (`ARG VCS_REF`) and pass it, e.g. "
        "with `mb-ci labels --format build-args`. A reproducible build that fixes `created` on "
        "purpose turns the check off in its policy (`checks: {dockerfile-fixed-value: off}`).",
    ),
    (
        "dockerfile-not-utf8",
        W,
        "The Dockerfile is not UTF-8.",
        "The engine reads a Dockerfile as bytes and writes each byte that is not UTF-8 (e.g. "
        "Latin-1 `é`) into the image's labels as U+FFFD, the replacement character; mb-ci reads "
        "it the same way. Save the file as UTF-8 to keep the characters.",
    ),
    (
        "dockerfile-unknown-key",
        W,
        "A label key looks like an OCI or label-schema key but is not one.",
        "The key is in the `org.opencontainers.image.` or `org.label-schema.` namespace but not in "
        "its list of keys, or is a near miss of a known key; the message names the likely key.",
    ),
    (
        "kubernetes-tag-moved",
        W,
        "A pod runs an image its spec's tag no longer names.",
        "The container started from the digest in its status; the tag in the pod's spec now "
        "names another digest (`mb-ci audit --kubernetes`). Roll the workload out again to run "
        "what the tag names, or pin the spec to the digest that should run.",
    ),
)

# issue 15: optional labels and the size and layer gates
_DEFS += (
    (
        "label-optional",
        W,
        "An optional label is missing.",
        "The policy's `optional` list (or its preset's) names labels that should be present; a "
        "missing or empty one is a warning, never an error.",
    ),
    (
        "max-layers",
        E,
        "The image has more layers than the policy allows.",
        "`max_layers` limits the layers of each platform (preflight's LayerCountAcceptable allows "
        "40). Combine RUN steps, or copy the result of a multi-stage build in one layer.",
    ),
    (
        "max-size",
        E,
        "The image is larger than the policy allows.",
        "`max_size` limits each platform's compressed size: the sum of the layer sizes its "
        "manifest lists. A local engine image or a `docker save` archive knows only uncompressed "
        "sizes, which are judged instead; the finding says which it read.",
    ),
    (
        "max-config-size",
        E,
        "The image config is larger than the policy allows.",
        "`max_config_size` limits each platform's config blob (labels, environment, history). "
        "The engine does not report it: check a registry, layout or archive image.",
    ),
    (
        "provenance-present",
        E,
        "The image has no readable provenance attestation.",
        "With `provenance: required` every platform needs a SLSA provenance attestation "
        "(buildx and docker/build-push-action attach one by default when pushing); an "
        "attestation that cannot be read (not JSON, bad base64, too large) is reported here too. "
        "The engine and docker-archive sources cannot carry attestations: check `docker://`.",
    ),
    (
        "provenance-subject",
        E,
        "A provenance is about another artifact.",
        "The in-toto statement's `subject` digests must include the platform manifest's digest "
        "it is attached to; otherwise it proves nothing about this image.",
    ),
    (
        "provenance-signature",
        E,
        "A provenance signature does not verify.",
        "No key in `provenance_keys` verifies the DSSE signature (signed over other bytes, or by "
        "another key). A keyless Sigstore signature, or a signature with no keys given, is a "
        "warning: signature-unverified, never `signed`.",
    ),
    (
        "revision-matches-provenance",
        E,
        "The revision label disagrees with the provenance.",
        "The commit the builder recorded (`configSource.digest.sha1`, the `vcs.revision` "
        "metadata, a `label:` build argument, GitHub's `resolvedDependencies` `gitCommit`) must "
        "be the label's; also fires when the label's tier is below `provenance_min_tier`.",
    ),
    (
        "source-matches-provenance",
        E,
        "The source label disagrees with the provenance.",
        "After normalisation (`git+`, `#ref`, `@ref`, `.git`, trailing `/`, scheme) the "
        "repository the builder recorded must be the label's; also fires when the label's tier "
        "is below `provenance_min_tier`.",
    ),
    (
        "version-matches-provenance",
        E,
        "The version label disagrees with the provenance.",
        "The `label:` build argument or the tag GitHub's workflow ran for must equal the label "
        "(a leading `v` aside).",
    ),
    (
        "created-matches-provenance",
        E,
        "The created label is after the build finished.",
        "An image cannot be created after the build that made it finished (`buildFinishedOn` / "
        "`finishedOn`, plus `git.created.clock-skew`).",
    ),
)

CHECKS: dict[str, CheckInfo] = {d[0]: CheckInfo(*d) for d in _DEFS}


class UnknownCheck(LookupError):
    """A check id that is not in the catalogue: a bug where it is written, never a user error."""


def get(check: str) -> CheckInfo:
    """The catalogue's entry for ``check``; an id that is not there raises at once."""
    try:
        return CHECKS[check]
    except KeyError:
        raise UnknownCheck(f"check id '{check}' is not in mb_ci.catalog.CHECKS") from None
