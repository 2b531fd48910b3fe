"""``mb-ci build``: a real build in the real engine with labels from git, then the same check."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers.git import SOURCE, Repo

from mb_ci.build.engine import Progress
from mb_ci.errors import ImageError

pytestmark = pytest.mark.docker
OCI = "org.opencontainers.image."
LS = "org.label-schema."


@pytest.fixture
def tags(engine: Any) -> Iterator[Callable[[], str]]:
    made: list[str] = []

    def new() -> str:
        made.append(f"mb-ci-test/build-{uuid.uuid4().hex[:10]}:dev")
        return made[-1]

    yield new
    for tag in made:
        try:
            engine.images.remove(tag, force=True)
        except Exception:
            pass


def _commit(repo: Repo, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo.path / name).write_text(text)
    repo.git("add", *files)
    repo.git("commit", "-q", "-m", "build files")


def test_build_in_fresh_repo_labels_and_passes_its_own_check(
    repo: Repo, mbci: Callable[..., Any], engine: Any, tags: Callable[[], str]
) -> None:
    _commit(repo, {"Dockerfile": "FROM scratch\nCOPY payload.txt /\n", "payload.txt": "x\n"})
    tag = tags()
    res = mbci("build", ".", "-t", tag, "--format", "json", cwd=repo.path)
    assert res.returncode == 0, res.stderr + res.stdout
    report = json.loads(res.stdout)
    assert report["command"] == "build" and report["result"] == "pass"
    labels = engine.images.get(tag).labels
    assert labels[OCI + "revision"] == repo.head
    assert labels[OCI + "source"] == SOURCE
    assert labels[OCI + "created"].endswith("Z")
    assert labels[OCI + "version"] == "main"  # no tag at HEAD: the branch, as metadata-action
    assert "Step 1/" in res.stderr  # the build log goes to stderr, the report to stdout


def test_build_args_preset_both_and_user_label_wins_with_warning(
    repo: Repo, mbci: Callable[..., Any], engine: Any, tags: Callable[[], str]
) -> None:
    dockerfile = (
        "FROM scratch\n"
        "ARG VCS_REF\n"
        "ARG VERSION\n"
        "ARG UNRELATED=kept\n"
        "LABEL com.example.ref=$VCS_REF com.example.version=$VERSION com.example.u=$UNRELATED\n"
    )
    _commit(repo, {"Dockerfile": dockerfile, ".mb-ci.yml": "version: 1\npreset: both\n"})
    repo.git("tag", "v1.2.3")
    tag = tags()
    res = mbci(
        "build",
        "-t",
        tag,
        "--build-arg",
        "UNRELATED=given",
        "--label",
        f"{OCI}version=9.9.9",
        cwd=repo.path,
    )
    labels = engine.images.get(tag).labels
    assert labels["com.example.ref"] == repo.head  # VCS_REF passed because it is declared
    assert labels["com.example.version"] == "1.2.3"
    assert labels["com.example.u"] == "given"
    assert labels[LS + "vcs-ref"] == repo.head and labels[LS + "schema-version"] == "1.0"
    assert labels[OCI + "version"] == "9.9.9"  # the user's label wins ...
    assert "contradicts git" in res.stderr  # ... with a warning
    assert res.returncode == 1  # and the check fails as `mb-ci check` would
    assert "version-matches-tag" in res.stdout


def test_failed_build_exits_3_with_the_error(
    repo: Repo, mbci: Callable[..., Any], tags: Callable[[], str]
) -> None:
    _commit(repo, {"Dockerfile": "FROM scratch\nCOPY does-not-exist /x\n"})
    res = mbci("build", ".", "-t", tags(), cwd=repo.path)
    assert res.returncode == 3
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("mb-ci: error: build failed:") and "does-not-exist" in last
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_bad_options_are_usage_errors(repo: Repo, mbci: Callable[..., Any]) -> None:
    res = mbci("build", ".", "-t", "x:y", "--build-arg", "NOEQUALS", cwd=repo.path)
    assert res.returncode == 2 and "KEY=VALUE" in res.stderr


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_one_line_and_shows_the_tail_on_failure() -> None:
    out = _Tty()
    chunks = [
        {"stream": "Step 1/2 : FROM scratch\n"},
        {"stream": " ---> \n"},
        {"stream": "Step 2/2 : COPY x /x\n"},
        {"error": "COPY failed: file not found", "errorDetail": {"message": "COPY failed"}},
    ]
    with pytest.raises(ImageError, match="COPY failed"):
        Progress(out, out.isatty()).follow(chunks)
    text = out.getvalue()
    assert "\r\x1b[KStep 1/2 : FROM scratch" in text and "\r\x1b[KStep 2/2" in text
    assert "\n  Step 2/2 : COPY x /x\n" in text  # the hidden log's tail, shown on failure


def test_progress_plain_lines_and_image_id() -> None:
    out = io.StringIO()
    chunks = [
        {"stream": "Step 1/1 : FROM scratch\n"},
        {"status": "Pulling", "id": "abc"},
        {"aux": {"ID": "sha256:" + "a" * 64}},
        {"stream": "Successfully built aaaaaaaaaaaa\n\x1b[31mred\x1b[0m\n"},
    ]
    assert Progress(out, False).follow(chunks) == "sha256:" + "a" * 64
    assert out.getvalue() == "Step 1/1 : FROM scratch\nSuccessfully built aaaaaaaaaaaa\nred\n"


def test_progress_redacts_credentials_in_the_log() -> None:
    out = io.StringIO()
    chunks = [
        {"stream": "Step 1/1 : RUN pip install -i https://user:s3cr3t@pypi.example.com/simple x\n"},
        {"aux": {"ID": "sha256:" + "b" * 64}},
    ]
    Progress(out, False).follow(chunks)
    assert "s3cr3t" not in out.getvalue() and "pypi.example.com" in out.getvalue()
