"""label-inherited end to end: a base image FROM scratch with OCI and label-schema labels on a
real loopback registry, images built FROM it on the real engine (not redeclaring, overriding,
redeclaring the same value), checked from the engine, from the registry (with and without base
annotations written into the pushed manifest by hand, as buildah writes them) and from an OCI
layout skopeo copied.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from helpers.images import context_tar, new_tag
from helpers.registry import OCI_INDEX, OCI_MANIFEST, Client, push, start_registry

pytestmark = pytest.mark.docker

OCI = "org.opencontainers.image."
LS = "org.label-schema."
BASE_LABELS = {
    OCI + "title": "base-os",
    OCI + "version": "22.04",
    OCI + "source": "https://github.com/acme/base-os",
    OCI + "vendor": "Acme OS",
    LS + "name": "base-os",
    "com.example.base-only": "kept",
}
BASE_DOCKERFILE = "FROM scratch\nCOPY base.txt /base.txt\n" + "".join(
    f'LABEL {k}="{v}"\n' for k, v in BASE_LABELS.items()
)


def _build(engine: Any, dockerfile: str, files: dict[str, bytes], tag: str | None = None) -> str:
    tag = tag or new_tag()
    stream = engine.api.build(
        fileobj=context_tar(dockerfile, files), custom_context=True, tag=tag, rm=True, decode=True
    )
    errors = [chunk["error"] for chunk in stream if "error" in chunk]
    assert not errors, errors
    return tag


def _child(base: str, labels: str) -> str:
    return f"FROM {base}\nCOPY app.txt /app.txt\n{labels}"


CHILDREN = {
    # nothing redeclared: title, version, source, vendor and the label-schema name leak
    "plain": "",
    # the build sets its own values
    "override": f'LABEL {OCI}title="widget" {OCI}version="1.0.0" {OCI}source="https://github.com/acme/widget"\n',
    # the build declares the base's title again, on line 3
    "redeclare": f'LABEL {OCI}title="base-os"\n',
}


@pytest.fixture(scope="module")
def bed(tmp_path_factory: Any, engine: Any) -> Any:
    work = tmp_path_factory.mktemp("inherited")
    reg = start_registry(work / "registry")
    tags: list[str] = []
    try:
        base_tag = _build(engine, BASE_DOCKERFILE, {"base.txt": uuid.uuid4().hex.encode()})
        tags.append(base_tag)
        base_digest = push(base_tag, reg, "base:1")
        base_ref = f"{reg.host}/base:1"
        built = {}
        for name, labels in CHILDREN.items():
            dockerfile = _child(base_ref, labels)
            tag = _build(engine, dockerfile, {"app.txt": uuid.uuid4().hex.encode()})
            tags.append(tag)
            folder = work / name
            folder.mkdir()
            (folder / "Dockerfile").write_text(dockerfile)
            digest = push(tag, reg, f"{name}:1")
            built[name] = {"tag": tag, "digest": digest, "dockerfile": folder / "Dockerfile"}
        (work / "policy.yml").write_text("version: 1\npreset: none\n")
        yield {
            "reg": reg,
            "work": work,
            "base_ref": base_ref,
            "base_digest": base_digest,
            "built": built,
            "client": Client(reg),
        }
    finally:
        for tag in tags:
            try:
                engine.images.remove(tag, force=True)
            except Exception:
                pass
        try:
            engine.images.remove(f"{reg.host}/base:1", force=True)
        except Exception:
            pass
        reg.stop()


def _check(mbci: Any, bed: Any, image: str, *extra: str, env: dict[str, str] | None = None):
    result = mbci(
        "check",
        image,
        "--no-git",
        "--policy",
        str(bed["work"] / "policy.yml"),
        "--format",
        "json",
        *extra,
        cwd=bed["work"],
        env=env,
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    found = [f for f in report["findings"] if f["check"] == "label-inherited"]
    return result, report, found


def _by_label(found: list[dict[str, Any]]) -> dict[str, tuple[str, int | None]]:
    return {f["label"]: (f["severity"], f["line"]) for f in found if f["label"]}


LEAKED = {OCI + "title", OCI + "version", OCI + "source", OCI + "vendor", LS + "name"}


def test_engine_image_with_its_dockerfile_finds_the_base_and_the_leaks(bed, mbci):
    plain = bed["built"]["plain"]
    result, report, found = _check(
        mbci, bed, plain["tag"], "--dockerfile", str(plain["dockerfile"])
    )
    assert {k: v[0] for k, v in _by_label(found).items()} == dict.fromkeys(LEAKED, "warning")
    assert all(bed["base_ref"] in f["message"] and "dockerfile" in f["message"] for f in found)
    assert "com.example.base-only" not in _by_label(found)  # not a describing key
    assert result.returncode == 0  # warnings: --strict makes them fail
    assert "label-inherited" in report["checked"]

    override = bed["built"]["override"]
    _, _, found = _check(mbci, bed, override["tag"], "--dockerfile", str(override["dockerfile"]))
    assert set(_by_label(found)) == {OCI + "vendor", LS + "name"}

    again = bed["built"]["redeclare"]
    _, _, found = _check(mbci, bed, again["tag"], "--dockerfile", str(again["dockerfile"]))
    labels = _by_label(found)
    assert labels[OCI + "title"] == ("info", 3)
    assert labels[OCI + "version"][0] == "warning"


def test_engine_image_history_alone_tells_what_the_build_set(bed, mbci):
    """--base with no Dockerfile: the LABEL step in the image's history after the base's."""
    again = bed["built"]["redeclare"]
    _, _, found = _check(mbci, bed, again["tag"], "--base", f"docker://{bed['base_ref']}")
    labels = _by_label(found)
    assert labels[OCI + "title"][0] == "info" and labels[OCI + "version"][0] == "warning"


def _annotated(bed: Any, name: str, tag: str, base_name: str, base_digest: str) -> str:
    """The child ``name`` pushed again as ``tag``, the way buildah writes it: an OCI manifest
    whose annotations name the base; returns its ``docker://`` reference."""
    client: Client = bed["client"]
    manifest = json.loads(client.get(name, bed["built"][name]["digest"])[0])
    manifest["mediaType"] = OCI_MANIFEST
    manifest["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json"
    for layer in manifest["layers"]:
        layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    manifest["annotations"] = {OCI + "base.name": base_name, OCI + "base.digest": base_digest}
    client.put_manifest(name, tag, manifest, OCI_MANIFEST)
    return f"docker://{bed['reg'].host}/{name}:{tag}"


def test_registry_image_with_base_annotations_written_by_hand(bed, mbci):
    reg = bed["reg"]
    _annotated(bed, "plain", "annotated", bed["base_ref"], bed["base_digest"])

    _, _, found = _check(mbci, bed, f"docker://{reg.host}/plain:annotated")
    assert set(_by_label(found)) == LEAKED
    ref = f"docker://{reg.host}/base@{bed['base_digest']}"
    assert all(ref in f["message"] and "annotation" in f["message"] for f in found)

    # without annotations or a Dockerfile there is no base to compare with: nothing is said
    _, report, found = _check(mbci, bed, f"docker://{reg.host}/plain:1")
    assert found == [] and "label-inherited" not in report["checked"]
    # --base on the registry image
    _, _, found = _check(
        mbci, bed, f"docker://{reg.host}/plain:1", "--base", f"docker://{bed['base_ref']}"
    )
    assert set(_by_label(found)) == LEAKED

    # the same image from an OCI layout, its base still on the registry
    layout = bed["work"] / "layout"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--src-tls-verify=false",
            f"docker://{reg.host}/plain:annotated",
            f"oci:{layout}:app",
        ],
        check=True,
        capture_output=True,
    )
    _, _, found = _check(mbci, bed, f"oci:{layout}:app")
    assert set(_by_label(found)) == LEAKED

    # the policy allows the vendor, forbids the base-only key
    policy = bed["work"] / "allow.yml"
    policy.write_text(
        "version: 1\npreset: none\ninherited:\n"
        f"  allow: ['{OCI}vendor']\n  forbid: ['com.example.*']\n"
    )
    result = mbci(
        "check",
        f"oci:{layout}:app",
        "--no-git",
        "--policy",
        str(policy),
        "--format",
        "json",
        cwd=bed["work"],
    )
    found = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "label-inherited"]
    assert set(_by_label(found)) == (LEAKED - {OCI + "vendor"}) | {"com.example.base-only"}


# the Dockerfile frontend's digest in Docker's documented provenance example
FRONTEND = "9ba7531bd80fb0a858632727cf7a112fbfd19b17e94c4e84ced81e24ef1a0dbc"


def test_registry_image_whose_provenance_names_its_base(bed, mbci):
    """No annotations and no Dockerfile: BuildKit's provenance lists the base among the build's
    materials (`pkg:docker/…` with the digest it resolved), next to the Dockerfile frontend,
    which is not looked up. Pushed the way buildx pushes: an index with an attestation."""
    client: Client = bed["client"]
    reg = bed["reg"]
    plain = client.entry("plain", bed["built"]["plain"]["digest"], "linux/amd64")
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "subject": [{"name": "_", "digest": {"sha256": plain["digest"].split(":")[1]}}],
        "predicate": {
            "buildDefinition": {
                "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
                "externalParameters": {"request": {"frontend": "dockerfile.v0"}},
                "resolvedDependencies": [
                    {
                        "uri": "pkg:docker/docker/dockerfile@1",
                        "digest": {"sha256": FRONTEND},
                    },
                    {
                        "uri": f"pkg:docker/{reg.host}/base@1?platform=linux%2Famd64",
                        "digest": {"sha256": bed["base_digest"].split(":")[1]},
                    },
                ],
            },
            "runDetails": {"builder": {"id": ""}, "metadata": {}},
        },
    }
    layer = client.put_blob("plain", json.dumps(statement).encode())
    config = client.put_blob(
        "plain", json.dumps({"architecture": "unknown", "os": "unknown", "rootfs": {}}).encode()
    )
    attestation = client.put_manifest(
        "plain",
        None,
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [
                {
                    "mediaType": "application/vnd.in-toto+json",
                    **layer,
                    "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v1"},
                }
            ],
        },
        OCI_MANIFEST,
    )
    attestation["platform"] = {"os": "unknown", "architecture": "unknown"}
    attestation["annotations"] = {
        "vnd.docker.reference.digest": plain["digest"],
        "vnd.docker.reference.type": "attestation-manifest",
    }
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [plain, attestation]}
    client.put_manifest("plain", "attested", index, OCI_INDEX)

    _, report, found = _check(mbci, bed, f"docker://{reg.host}/plain:attested")
    assert set(_by_label(found)) == LEAKED
    base = f"{reg.host}/base@{bed['base_digest']}"
    assert all(base in f["message"] and "provenance" in f["message"] for f in found), [
        f["message"] for f in found
    ]
    assert "docker/dockerfile" not in json.dumps(report)


def test_a_base_that_cannot_be_read_is_one_note(bed, mbci):
    reg = bed["reg"]
    cases = {
        # nothing listens on port 1
        "gone": ("127.0.0.1:1/base:1", "sha256:" + "0" * 64, "127.0.0.1:1"),
        "cred": ("user:hunter2@evil.example/base:1", "sha256:" + "0" * 64, "credential"),
        "algo": (bed["base_ref"], "md5:" + "0" * 32, "not a sha256 or sha512"),
        # a digest that is not the base's
        "wrong": (bed["base_ref"], "sha256:" + "1" * 64, "base"),
    }
    for tag, (name, digest, why) in cases.items():
        _annotated(bed, "plain", tag, name, digest)
        result, report, found = _check(mbci, bed, f"docker://{reg.host}/plain:{tag}")
        assert result.returncode == 0, (tag, found)
        (note,) = found
        assert note["severity"] == "info" and why in note["message"], (tag, note)
        # the finding never repeats the credential (the report's annotation listing is the
        # annotations as the registry holds them)
        assert "hunter2" not in note["message"] + result.stderr
        assert "revision-not-sha" not in {f["check"] for f in report["findings"]}

    # --no-base-lookup and inherited.lookup: false read no base
    marker = len(reg.requests_log())
    _, report, found = _check(mbci, bed, f"docker://{reg.host}/plain:annotated", "--no-base-lookup")
    assert found == [] and "label-inherited" not in report["checked"]
    assert not [r for r in reg.requests_log()[marker:] if "/base/" in r]


def test_annotation_parity_on_the_registry_and_a_layout(bed, mbci):
    """The override image pushed by docker (no annotations), then under an index with the
    annotations GHCR reads, written by hand as `docker buildx build --annotation index:…` does."""
    client: Client = bed["client"]
    reg = bed["reg"]
    override = bed["built"]["override"]
    ghcr = bed["work"] / "ghcr.yml"
    ghcr.write_text(
        "version: 1\npreset: none\ninherited:\n  lookup: false\nannotation-keys:\n"
        f"  level: index\n  required: [{OCI}description, {OCI}source, {OCI}licenses]\n"
    )

    def parity(image: str, policy: Path) -> list[dict[str, Any]]:
        result = mbci(
            "check",
            image,
            "--no-git",
            "--policy",
            str(policy),
            "--format",
            "json",
            cwd=bed["work"],
        )
        findings = json.loads(result.stdout)["findings"]
        # vocab-agree: the override's title is not the label-schema name it inherited
        assert {f["check"] for f in findings if f["severity"] == "error"} <= {"vocab-agree"}
        return [f for f in findings if f["check"] == "annotation-parity"]

    plain = f"docker://{reg.host}/override:1"
    assert parity(plain, bed["work"] / "policy.yml") == []  # docker push: nothing to compare
    found = parity(plain, ghcr)
    assert {f["label"] for f in found} == {OCI + "description", OCI + "source", OCI + "licenses"}
    source = next(f for f in found if f["label"] == OCI + "source")
    assert (
        source["expected"] == "https://github.com/acme/widget" and source["severity"] == "warning"
    )

    entry = client.entry("override", override["digest"], "linux/amd64")
    client.put_index(
        "override",
        "indexed",
        [entry],
        {
            OCI + "description": "A widget",
            OCI + "source": "https://github.com/acme/widget",
            OCI + "licenses": "MIT",
            OCI + "title": "not the label's title",
        },
    )
    found = parity(f"docker://{reg.host}/override:indexed", ghcr)
    by_label = {f["label"]: f for f in found}
    # required keys are there; the title differs; version is a label only
    assert (by_label[OCI + "title"]["expected"], by_label[OCI + "title"]["actual"]) == (
        "widget",
        "not the label's title",
    )
    assert "not a config label" in by_label[OCI + "description"]["message"]
    assert "not an annotation" in by_label[OCI + "version"]["message"]
    assert OCI + "source" not in by_label

    layout = bed["work"] / "parity-layout"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--all",
            "--src-tls-verify=false",
            f"docker://{reg.host}/override:indexed",
            f"oci:{layout}:app",
        ],
        check=True,
        capture_output=True,
    )
    from_layout = parity(f"oci:{layout}:app", ghcr)
    assert {f["label"] for f in from_layout} == set(by_label)


def test_a_history_of_100000_entries_is_counted_not_kept(bed, mbci):
    client: Client = bed["client"]
    reg = bed["reg"]
    manifest = json.loads(client.get("redeclare", bed["built"]["redeclare"]["digest"])[0])
    config = json.loads(client.blob("redeclare", manifest["config"]["digest"]))

    def push_with(entry: dict[str, str], tag: str) -> str:
        config["history"] = [entry] * 100_000
        data = json.dumps(config, separators=(",", ":")).encode()
        manifest["config"] = {**manifest["config"], **client.put_blob("redeclare", data)}
        client.put_manifest("redeclare", tag, manifest, manifest["mediaType"])
        return f"docker://{reg.host}/redeclare:{tag}"

    # 100,000 entries in a config under the 4 MiB bound: read, counted, not kept
    image = push_with({"created_by": "LABEL a=b"}, "long")
    result, _, found = _check(mbci, bed, image, "--base", f"docker://{bed['base_ref']}")
    assert result.returncode == 0 and result.stderr == ""
    labels = _by_label(found)
    # the history cannot say that the build set the title again: it is reported, and says why
    assert labels[OCI + "title"][0] == "warning"
    assert all("history does not say" in f["message"] for f in found)

    # with longer entries the config passes 4 MiB: exit 3, one line
    image = push_with({"created_by": f"/bin/sh -c #(nop)  LABEL {OCI}title=base-os"}, "longer")
    result = mbci("check", image, "--no-git", cwd=bed["work"])
    assert result.returncode == 3 and "larger than 4 MiB" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_base_on_another_registry_uses_that_registrys_own_credentials(bed, mbci, tmp_path):
    """The image on an open registry, its base on one that wants a password: `--username` and
    `--password-stdin` are the image registry's and never go to the base's host; the Docker
    auth file's entry for the base's host does."""
    import base64

    reg = bed["reg"]
    locked = start_registry(bed["work"] / "locked", storage=reg.storage, users={"basey": "b4se-pw"})
    try:
        image = _annotated(bed, "plain", "elsewhere", f"{locked.host}/base:1", bed["base_digest"])
        policy = str(bed["work"] / "policy.yml")
        args = ("check", image, "--no-git", "--policy", policy, "--format", "json")

        result = mbci(
            *args,
            "--username",
            "basey",
            "--password-stdin",
            input="b4se-pw\n",
            cwd=bed["work"],
            env={"DOCKER_CONFIG": str(tmp_path / "none")},
        )
        (note,) = [
            f for f in json.loads(result.stdout)["findings"] if f["check"] == "label-inherited"
        ]
        assert note["severity"] == "info" and locked.host in note["message"]
        assert "b4se-pw" not in result.stdout + result.stderr
        # every request for the base was refused: none carried the image registry's password
        assert _base_answers(locked.log) and set(_base_answers(locked.log)) == {"401"}

        auth = base64.b64encode(b"basey:b4se-pw").decode()
        auth_file = tmp_path / "auth.json"
        auth_file.write_text(json.dumps({"auths": {locked.host: {"auth": auth}}}))
        result = mbci(*args, cwd=bed["work"], env={"REGISTRY_AUTH_FILE": str(auth_file)})
        found = [
            f for f in json.loads(result.stdout)["findings"] if f["check"] == "label-inherited"
        ]
        assert set(_by_label(found)) == LEAKED
        assert "200" in _base_answers(locked.log)
    finally:
        locked.stop()


def _base_answers(log: Path) -> list[str]:
    """The status of each request for the base repository, from the registry's access log."""
    return re.findall(r'"GET /v2/base/\S+ HTTP/1\.1" (\d{3})', log.read_text(errors="replace"))


def test_the_base_is_read_once_per_reference_and_platform(bed):
    """Two images on one base, read in one process (as an audit or a multi-image run would):
    the base's manifest and config are fetched for the first only."""
    from mb_ci import sources
    from mb_ci.sources import base

    reg = bed["reg"]
    options = sources.SourceOptions()
    images = [sources.inspect(f"docker://{reg.host}/{name}:1", options) for name in CHILDREN]
    before = len(reg.requests_log())
    first = base.find(images[0], options, option_base=f"docker://{bed['base_ref']}")
    after_first = reg.requests_log()[before:]
    rest = [base.find(i, options, option_base=f"docker://{bed['base_ref']}") for i in images[1:]]
    after_rest = reg.requests_log()[before + len(after_first) :]
    assert [line for line in after_first if "/base/" in line]  # the first read it
    assert [line for line in after_rest if "/base/" in line] == []
    assert all(r == first for r in rest)
    assert next(iter(first.values())).labels[OCI + "title"] == "base-os"


def test_audit_judges_inherited_labels_reading_the_base_once(bed, mbci):
    """`mb-ci audit` of two images that name their base in annotations: each row carries its
    label-inherited findings, and the base is read once for both (one base lookup per run)."""
    reg = bed["reg"]
    refs = [
        _annotated(bed, name, "audited", bed["base_ref"], bed["base_digest"])
        for name in ("plain", "override")
    ]
    before = len(reg.requests_log())
    policy = str(bed["work"] / "policy.yml")
    args = ("audit", *refs, "--no-git", "-q", "--policy", policy, "--format", "json", "-j", "1")
    result = mbci(*args, cwd=bed["work"])
    rows = {r["reference"].split("/")[-1]: r for r in json.loads(result.stdout)["images"]}
    # label-inherited is a warning; override's own title and inherited ls name disagree (error)
    assert result.returncode == 1, result.stderr
    assert {
        f["check"] for r in rows.values() for f in r["findings"] if f["severity"] == "error"
    } == {"vocab-agree"}
    inherited = {
        name: {f["label"] for f in row["findings"] if f["check"] == "label-inherited"}
        for name, row in rows.items()
    }
    assert inherited["plain:audited"] == LEAKED
    # override sets title, version and source itself: only the vendor and the label-schema name
    assert inherited["override:audited"] == {OCI + "vendor", LS + "name"}
    base_reads = [line for line in reg.requests_log()[before:] if "/v2/base/manifests/" in line]
    assert len(base_reads) == 1, base_reads
    skipped = mbci(*args, "--no-base-lookup", cwd=bed["work"])
    assert "label-inherited" not in skipped.stdout
