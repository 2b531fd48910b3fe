"""``--format github`` over several Dockerfiles: GitHub's cap of annotations per type and step
holds over the whole run, with a line that counts the rest."""

from __future__ import annotations

from mb_ci.report.github import ANNOTATION_LIMIT

OCI = "org.opencontainers.image."


def test_cap_holds_over_several_dockerfiles(tmp_path, mbci):
    paths = []
    for n in range(4):
        path = tmp_path / f"Dockerfile.{n}"
        # each misses created, revision, source (3 errors) and misspells one key (1 warning)
        path.write_text(f"FROM scratch\nLABEL {OCI}revison=x{n}\n")
        paths.append(str(path))
    result = mbci("lint-dockerfile", "--format", "github", *paths, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == ANNOTATION_LIMIT  # 12 error findings in all
    assert "title=mb-ci%3A 3 more error findings" in errors[-1]
    assert len(warnings) == 4  # under the cap: all of them, each at its file
    assert [w.split(",", 1)[0] for w in warnings] == [f"::warning file={p}" for p in paths]
    summaries = [line for line in lines if line.startswith("mb-ci lint-dockerfile")]
    assert len(summaries) == 4 and all("FAILED: 3 errors, 1 warning" in s for s in summaries)


def test_one_dockerfile_is_unchanged(tmp_path, mbci):
    path = tmp_path / "Dockerfile"
    path.write_text(f"FROM scratch\nLABEL {OCI}revison=x\n")
    result = mbci("lint-dockerfile", "--format", "github", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert sum(line.startswith("::error ") for line in result.stdout.splitlines()) == 3
