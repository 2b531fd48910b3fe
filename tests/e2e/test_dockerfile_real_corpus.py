"""``lint-dockerfile`` over real Dockerfiles from public projects (tests/data/dockerfiles-real,
origins in tests/data/SOURCES.md): specific verdicts, each checked against the file by hand.

The default policy (preset ``oci``) requires created, revision and source. What a file sets
from a build argument is info, to be checked on the built image; what it sets nowhere is an
error, with a word about the base image when the stage starts from one. Then the engine
builds each file's ARG/ENV/LABEL instructions FROM scratch and writes the very labels lint read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import paths

from mb_ci.checks.dockerfile import check_dockerfile
from mb_ci.dockerfile.parse import evaluate, read
from mb_ci.policy import Policy

DATA = paths.DATA / "dockerfiles-real"
OCI = "org.opencontainers.image."
LS = "org.label-schema."
CREATED, REVISION, SOURCE = OCI + "created", OCI + "revision", OCI + "source"


# name -> (stage, base, errors (label-required keys), infos (build-time keys), some label values)
VERDICTS: dict[str, tuple[str, str | None, set[str], set[str], dict[str, str]]] = {
    # every OCI key but created and revision is written in the file
    "caddy-alpine": (
        "stage-0",
        "alpine:3.23",
        {CREATED, REVISION},
        set(),
        {OCI + "version": "v2.11.2", OCI + "licenses": "Apache-2.0"},
    ),
    # ARG VCS_REVISION=unknown: built without --build-arg, the image says revision "unknown"
    "docker-mailserver": (
        "stage-final",
        "docker.io/debian:13-slim",  # stage-final <- stage-main <- stage-base <- debian
        {CREATED},
        set(),
        {
            REVISION: "unknown",
            OCI + "version": "edge",
            SOURCE: "https://github.com/docker-mailserver/docker-mailserver",
        },
    ),
    # FROM gomplate-$TARGETOS: BuildKit's platform ARG picks the gomplate-linux stage
    "gomplate": (
        "gomplate",
        None,  # gomplate-linux is FROM scratch
        {CREATED},
        {REVISION},
        {SOURCE: "https://github.com/hairyhenderson/gomplate"},
    ),
    # ARG COMMIT_SHA (no default) for the revision; ENV JENKINS_VERSION=${JENKINS_VERSION}
    # from ARG JENKINS_VERSION=2.577 re-declared in the stage
    "jenkins-debian": (
        "controller",
        "debian:trixie-20260803-slim",  # FROM debian:"${RELEASE_LINE}-${VERSION}${VARIANT}"
        {CREATED},
        {REVISION},
        {OCI + "version": "2.577", SOURCE: "https://github.com/jenkinsci/docker"},
    ),
    "jenkins-alpine": (
        "controller",
        "alpine:3.24.1",
        {CREATED},
        {REVISION},
        {OCI + "version": "2.577", OCI + "licenses": "MIT"},
    ),
    # FROM scratch; the OCI labels are passed with --label by the project's CI, not written here
    "linuxserver-baseimage-alpine": (
        "stage-1",
        None,
        {CREATED, REVISION, SOURCE},
        {"build_version"},
        {"maintainer": "TheLamer"},
    ),
    # label-schema only, each from an ARG without a default
    "microscaling": (
        "stage-0",
        "alpine:3.7",
        {CREATED, REVISION, SOURCE},
        {LS + "build-date", LS + "vcs-url", LS + "vcs-ref", LS + "version"},
        {LS + "schema-version": "1.0", LS + "name": "Microscaling Engine"},
    ),
    # FROM ${FTL_SOURCE}-ftl-install with ARG FTL_SOURCE=remote before the first FROM; no LABEL
    "pi-hole": (
        "final",
        "alpine:3.24.1@sha256:28bd5fe8b56d1bd048e5babf5b10710ebe0bae67db86916198a6eec434943f8b",
        {CREATED, REVISION, SOURCE},
        set(),
        {},
    ),
    # FROM quay.io/prometheus/busybox-${OS}-${ARCH}:latest with global ARG defaults
    "prometheus": (
        "stage-0",
        "quay.io/prometheus/busybox-linux-amd64:latest",
        {CREATED, REVISION},
        set(),
        {"maintainer": "The Prometheus Authors <prometheus-developers@googlegroups.com>"},
    ),
    # `ARG VCS_REF= # CHANGE ME ON UPDATE`: an empty default, i.e. passed at build time
    "sherlock": (
        "stage-1",
        "python:3.12-slim-bullseye",
        {CREATED, REVISION, SOURCE},
        {LS + "vcs-ref", LS + "version"},
        {
            LS + "vcs-url": "https://github.com/sherlock-project/sherlock",
            "website": "https://sherlockproject.xyz",
        },
    ),
    "traefik-alpine": (
        "stage-0",
        "alpine:3.24",
        {CREATED, REVISION},
        set(),
        {OCI + "version": "v3.6.25", SOURCE: "https://github.com/traefik/traefik"},
    ),
    "traefik-scratch": (
        "stage-0",
        None,
        {CREATED, REVISION},
        set(),
        {OCI + "version": "v3.6.25", OCI + "vendor": "Traefik Labs"},
    ),
}


def test_the_corpus_is_all_here():
    assert {p.stem for p in DATA.glob("*.Dockerfile")} == set(VERDICTS)


# labels whose value the file fixes for every build (dockerfile-fixed-value)
FIXED = {"docker-mailserver": {REVISION}}  # ARG VCS_REVISION=unknown


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict(name):
    stage, base, errors, infos, values = VERDICTS[name]
    final = evaluate(read(DATA / f"{name}.Dockerfile"))
    assert (final.stage, final.base) == (stage, base)
    findings, _ = check_dockerfile(final, Policy())
    by_severity: dict[str, set[str]] = {"error": set(), "warning": set(), "info": set()}
    for finding in findings:
        by_severity[finding.severity.value].add(finding.label or "")
    warnings = FIXED.get(name, set())
    assert by_severity == {"error": errors, "warning": warnings, "info": infos}
    assert all(
        f.check == "dockerfile-fixed-value" for f in findings if f.severity.value == "warning"
    )
    assert all(f.check == "label-required" for f in findings if f.severity.value == "error")
    # a missing label on a stage FROM an image says the base image may set it; FROM scratch not
    for finding in findings:
        if finding.check == "label-required":
            assert ("the base image" in finding.message) == (base is not None)
    labels = {k: f.value for k, f in final.labels.items()}
    assert {k: labels.get(k) for k in values} == values


def test_label_schema_preset_accepts_microscaling():
    """With `preset: label-schema` the same file misses nothing: every key is set, from ARGs."""
    final = evaluate(read(DATA / "microscaling.Dockerfile"))
    findings, _ = check_dockerfile(final, Policy(preset="label-schema"))
    assert {(f.check, f.severity.value) for f in findings} == {
        ("dockerfile-build-time-value", "info")
    }


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_cli_exit_code_and_json(mbci, name):
    """Through the CLI: exit 1 for the errors above, and each finding at a line of the file."""
    result = mbci("lint-dockerfile", "--format", "json", str(DATA / f"{name}.Dockerfile"))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    lines = (DATA / f"{name}.Dockerfile").read_text(encoding="utf-8").splitlines()
    for finding in report["findings"]:
        assert finding["file"].endswith(f"{name}.Dockerfile")
        assert 1 <= finding["line"] <= len(lines)
        # the LABEL that sets the key, or (missing) the stage's last LABEL, else its FROM
        assert lines[finding["line"] - 1].split()[0] in {"LABEL", "FROM"}


# --- the engine agrees: the same ARG/ENV/LABEL instructions built FROM scratch -----------------

# `FROM gomplate-$TARGETOS` needs BuildKit's platform ARGs, which the classic builder lacks
NOT_CLASSIC = {"gomplate"}


def _scratch_substitute(path: Path) -> bytes:
    """The file's ``FROM`` (an image becomes ``scratch``; a stage stays), ``ARG``, ``ENV`` and
    ``LABEL`` instructions, each on one line as BuildKit's parser joined it."""
    import dockerfile as parser

    from mb_ci.dockerfile.parse import _arg, _from_image, _from_scope, _Scope

    parsed = read(path)
    glob = _Scope(parsed.escape, {}, {})
    for ins in parsed.global_args:
        _arg(glob, ins, str(path))
    stage_names = {s.name for s in parsed.stages if s.name}
    stages = iter(parsed.stages)
    out = []
    for command in parser.parse_file(str(path)):
        kind = command.cmd.upper()
        if kind == "FROM":
            stage = next(stages)
            image = _from_image(_from_scope(glob), stage, str(path))
            base = stage.base if image.lower() in stage_names else "scratch"
            out.append(f"FROM {base}" + (f" AS {stage.name}" if stage.name else ""))
        elif kind in {"ARG", "ENV", "LABEL"}:
            out.append(command.original)
    return ("\n".join(out) + "\n").encode()


@pytest.mark.parametrize("name", sorted(set(VERDICTS) - NOT_CLASSIC))
def test_engine_writes_the_labels_lint_reads(engine, tmp_path, name):
    import io
    import tarfile
    import uuid

    text = _scratch_substitute(DATA / f"{name}.Dockerfile")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
    tag = f"mb-ci-test/corpus-{uuid.uuid4().hex[:12]}:latest"
    errors: list[str] = []
    for _attempt in range(2):  # the shared engine's occasional lost scratch layer
        buf.seek(0)
        stream = engine.api.build(fileobj=buf, custom_context=True, tag=tag, rm=True, decode=True)
        errors = [chunk["error"] for chunk in stream if "error" in chunk]
        if not any("unable to find image" in e for e in errors):
            break
    assert not errors, errors
    try:
        built = dict(engine.images.get(tag).labels or {})
    finally:
        engine.images.remove(tag, force=True)
    final = evaluate(read(DATA / f"{name}.Dockerfile"))
    assert set(built) == set(final.labels)
    for key, fact in final.labels.items():
        expected = fact.value
        for name in fact.build_time:
            # an ARG without a default, not passed: the engine expands it to ""
            expected = re.sub(rf"\$\{{{name}\}}|\${name}(?![A-Za-z0-9_])", "", expected)
        assert built[key] == expected, key
