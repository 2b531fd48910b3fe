"""Size and layer gates on real images: the local engine, a loopback registry (an index of two
platforms that differ in layers and size), an OCI layout and a ``docker save`` archive copied from
them, each platform judged on its own."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers.images import build_platform_image, build_scratch, save
from helpers.registry import Client, push, start_registry, which

pytestmark = [
    pytest.mark.registry,
    pytest.mark.skipif(not which("docker-registry"), reason="no docker-registry"),
    pytest.mark.skipif(not shutil.which("skopeo"), reason="no skopeo"),
]
LABELS = {"org.opencontainers.image.title": "widget"}
NO_ENGINE = "unix:///nonexistent/docker.sock"


def _facts(client: Client, digest: str) -> dict[str, int]:
    manifest = json.loads(client.get("app", digest)[0])
    return {
        "layers": len(manifest["layers"]),
        "size": sum(layer["size"] for layer in manifest["layers"]),
        "config": manifest["config"]["size"],
    }


def _layout_facts(layout: Path) -> dict[str, dict[str, int]]:
    """Per platform, what skopeo wrote into the layout (it may rewrite the config blob)."""

    def blob(digest: str) -> Any:
        return json.loads((layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes())

    index = blob(json.loads((layout / "index.json").read_text())["manifests"][0]["digest"])
    out = {}
    for entry in index["manifests"]:
        manifest = blob(entry["digest"])
        out[entry["platform"]["architecture"]] = {
            "layers": len(manifest["layers"]),
            "size": sum(layer["size"] for layer in manifest["layers"]),
            "config": manifest["config"]["size"],
        }
    return {"amd": out["amd64"], "arm": out["arm64"]}


@pytest.fixture(scope="module")
def bed(tmp_path_factory: Any, engine: Any) -> Any:
    work = tmp_path_factory.mktemp("gates")
    reg = start_registry(work / "registry")
    client = Client(reg)
    # amd64: three layers; arm64: one. FROM scratch, nothing runs, so no emulation is needed
    amd = build_scratch(
        engine,
        LABELS,
        platform="linux/amd64",
        extra="COPY payload.txt /a.txt\nCOPY payload.txt /b.txt",
    )
    arm = build_platform_image(engine, LABELS, "linux/arm64")
    try:
        amd_digest = push(amd, reg, "app:amd")
        arm_digest = push(arm, reg, "app:arm")
        client.put_index(
            "app",
            "multi",
            [
                client.entry("app", amd_digest, "linux/amd64"),
                client.entry("app", arm_digest, "linux/arm64"),
            ],
        )
        layout = work / "layout"
        subprocess.run(
            [
                "skopeo",
                "copy",
                "-q",
                "--all",
                "--src-tls-verify=false",
                f"docker://{reg.host}/app:multi",
                f"oci:{layout}:multi",
            ],
            check=True,
            capture_output=True,
        )
        archive = save(work / "amd.tar", amd)
        engine_size = engine.images.get(amd).attrs["Size"]
        facts = {"amd": _facts(client, amd_digest), "arm": _facts(client, arm_digest)}
        layout_facts = _layout_facts(layout)
        yield {
            "reg": reg,
            "work": work,
            "amd": amd,
            "layout": layout,
            "archive": archive,
            "engine_size": engine_size,
            "facts": [facts, layout_facts],
        }
    finally:
        for tag in (amd, arm):
            engine.images.remove(tag, force=True)
        reg.stop()


def check(mbci: Any, bed: Any, ref: str, policy: str, *args: str, engine: bool = False) -> Any:
    path = bed["work"] / "policy.yml"
    path.write_text("version: 1\npreset: none\n" + policy)
    env = {"DOCKER_CONFIG": str(bed["work"] / ".no-config")}
    if not engine:
        env["DOCKER_HOST"] = NO_ENGINE
    return mbci(
        "check",
        ref,
        "--no-git",
        "--policy",
        str(path),
        "--format",
        "json",
        *args,
        cwd=bed["work"],
        env=env,
    )


def _gates(result: Any) -> list[dict[str, Any]]:
    doc = json.loads(result.stdout)
    return [f for f in doc["findings"] if f["check"].startswith("max-")]


def _refs(bed: Any) -> list[str]:
    return [f"docker://{bed['reg'].host}/app:multi", f"oci:{bed['layout']}:multi"]


@pytest.mark.parametrize("which_ref", [0, 1], ids=["registry", "layout"])
def test_max_layers_is_judged_per_platform(bed: Any, mbci: Any, which_ref: int) -> None:
    ref = _refs(bed)[which_ref]
    assert (
        bed["facts"][which_ref]["amd"]["layers"] == 3
        and bed["facts"][which_ref]["arm"]["layers"] == 1
    )
    result = check(mbci, bed, ref, "max_layers: 2\n")
    assert result.returncode == 1, result.stderr
    (finding,) = _gates(result)
    assert (finding["check"], finding["platform"], finding["actual"]) == (
        "max-layers",
        "linux/amd64",
        "3",
    )
    assert finding["line"] == 3 and finding["file"]  # the policy's max_layers line
    only_arm = check(mbci, bed, ref, "max_layers: 2\n", "--platform", "linux/arm64")
    assert only_arm.returncode == 0, only_arm.stdout
    assert _gates(only_arm) == []


@pytest.mark.parametrize("which_ref", [0, 1], ids=["registry", "layout"])
def test_max_size_is_the_manifests_compressed_size_per_platform(
    bed: Any, mbci: Any, which_ref: int
) -> None:
    ref = _refs(bed)[which_ref]
    amd, arm = bed["facts"][which_ref]["amd"]["size"], bed["facts"][which_ref]["arm"]["size"]
    assert amd > arm
    result = check(mbci, bed, ref, f"max_size: {arm}\n")
    assert result.returncode == 1, result.stderr
    (finding,) = _gates(result)
    assert finding["check"] == "max-size" and finding["platform"] == "linux/amd64"
    assert finding["actual"] == str(amd)
    assert finding["detail"]["size"] == "compressed"
    assert "compressed size" in finding["message"]
    assert check(mbci, bed, ref, f"max_size: {amd}\n").returncode == 0


@pytest.mark.parametrize("which_ref", [0, 1], ids=["registry", "layout"])
def test_max_config_size_reads_the_config_descriptor(bed: Any, mbci: Any, which_ref: int) -> None:
    ref = _refs(bed)[which_ref]
    sizes = sorted(
        {bed["facts"][which_ref]["amd"]["config"], bed["facts"][which_ref]["arm"]["config"]}
    )
    result = check(mbci, bed, ref, f"max_config_size: {sizes[0] - 1}\n")
    assert result.returncode == 1
    assert sorted(f["platform"] for f in _gates(result)) == ["linux/amd64", "linux/arm64"]
    assert check(mbci, bed, ref, f"max_config_size: {sizes[-1]}\n").returncode == 0


def test_a_size_with_a_unit(bed: Any, mbci: Any) -> None:
    ref = _refs(bed)[0]
    assert check(mbci, bed, ref, "max_size: 1KB\nmax_config_size: 0.001MB\n").returncode == 1
    assert check(mbci, bed, ref, "max_size: 1MiB\nmax_config_size: 64KiB\n").returncode == 0


def test_the_engine_judges_its_uncompressed_size_and_says_so(bed: Any, mbci: Any) -> None:
    policy = f"max_layers: 2\nmax_size: {bed['engine_size'] - 1}\nmax_config_size: 1\n"
    result = check(mbci, bed, bed["amd"], policy, engine=True)
    assert result.returncode == 1, result.stderr
    found = {f["check"]: f for f in _gates(result)}
    assert found["max-layers"]["actual"] == "3" and found["max-layers"]["severity"] == "error"
    size = found["max-size"]
    assert size["actual"] == str(bed["engine_size"]) and size["detail"]["size"] == "uncompressed"
    assert "uncompressed" in size["message"] and "does not know compressed sizes" in size["message"]
    # the engine does not report the config blob's size: said, not guessed, and it passes
    config = found["max-config-size"]
    assert config["severity"] == "info" and "unknown" in config["message"]
    relaxed = f"max_size: {bed['engine_size']}\nmax_config_size: 1\n"
    assert check(mbci, bed, bed["amd"], relaxed, engine=True).returncode == 0


def test_a_docker_save_archive(bed: Any, mbci: Any) -> None:
    ref = f"docker-archive:{bed['archive']}"
    result = check(mbci, bed, ref, "max_layers: 2\nmax_size: 1\nmax_config_size: 1\n")
    found = {f["check"]: f for f in _gates(result)}
    assert found["max-layers"]["actual"] == "3"
    assert found["max-size"]["detail"]["size"] == "uncompressed"  # `docker save` layers are tars
    assert int(found["max-config-size"]["actual"]) > 1


def test_the_text_report_says_which_platform_and_when(bed: Any, mbci: Any) -> None:
    ref = _refs(bed)[0]
    path = Path(bed["work"]) / "policy.yml"
    path.write_text(
        "version: 1\npreset: none\nmax_layers: {limit: 2, effective_on: '2031-05-01'}\n"
    )
    env = {"DOCKER_HOST": NO_ENGINE, "DOCKER_CONFIG": str(bed["work"] / ".no-config")}
    before = mbci(
        "check",
        ref,
        "--no-git",
        "--policy",
        str(path),
        "--date",
        "2031-04-30",
        cwd=bed["work"],
        env=env,
    )
    assert before.returncode == 0, before.stdout + before.stderr
    assert "linux/amd64" in before.stdout and "fails from 2031-05-01" in before.stdout
    after = mbci(
        "check",
        ref,
        "--no-git",
        "--policy",
        str(path),
        "--date",
        "2031-05-01",
        cwd=bed["work"],
        env=env,
    )
    assert after.returncode == 1
    assert "fails from" not in after.stdout


def test_audit_judges_the_gates_per_platform(bed: Any, mbci: Any) -> None:
    path = bed["work"] / "audit-policy.yml"
    path.write_text("version: 1\npreset: none\nmax_layers: 2\n")
    env = {"DOCKER_HOST": NO_ENGINE, "DOCKER_CONFIG": str(bed["work"] / ".no-config")}
    args = ("--no-git", "--policy", str(path), "--format", "json")
    result = mbci("audit", _refs(bed)[0], *args, cwd=bed["work"], env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    text = json.dumps(json.loads(result.stdout))
    assert '"max-layers"' in text and "linux/amd64" in text
    path.write_text(
        "version: 1\npreset: none\nmax_layers: {limit: 2, effective_on: '2031-05-01'}\n"
    )
    before = mbci("audit", _refs(bed)[0], *args, "--date", "2031-04-30", cwd=bed["work"], env=env)
    assert before.returncode == 0, before.stdout + before.stderr
    assert "fails from 2031-05-01" in before.stdout
    on = mbci("audit", _refs(bed)[0], *args, "--date", "2031-05-01", cwd=bed["work"], env=env)
    assert on.returncode == 1
