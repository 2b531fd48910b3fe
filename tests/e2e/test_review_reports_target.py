"""``mb-ci build --target`` points a label's finding at the ``LABEL`` of the stage it built.

The locations were read from the last stage whatever ``--target`` said, so a finding about the
built stage's label pointed at another stage's line, or at a line that is not in the image.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers.git import Repo

from mb_ci.report.locations import label_lines

pytestmark = pytest.mark.docker

DOCKERFILE = """\
FROM scratch AS runtime
LABEL com.example.tier=bronze
FROM scratch AS debug
LABEL com.example.tier=gold com.example.debug=yes
"""
POLICY = """\
version: 1
preset: none
labels:
  com.example.tier:
    enum: [gold, silver]
"""


def test_label_lines_of_the_target_stage(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    assert label_lines(path) == {"com.example.tier": 4, "com.example.debug": 4}
    assert label_lines(path, "runtime") == {"com.example.tier": 2}


@pytest.fixture
def tag(engine: Any) -> Iterator[str]:
    name = f"mb-ci-test/target-{uuid.uuid4().hex[:10]}:dev"
    yield name
    try:
        engine.images.remove(name, force=True)
    except Exception:
        pass


def test_build_target_points_at_its_own_stage(repo: Repo, mbci: Callable[..., Any], tag: str):
    (repo.path / "Dockerfile").write_text(DOCKERFILE)
    (repo.path / ".mb-ci.yml").write_text(POLICY)
    repo.git("add", "-A")
    repo.commit("dockerfile")
    res = mbci("build", ".", "-t", tag, "--target", "runtime", "--format", "json", cwd=repo.path)
    assert res.returncode == 1, res.stderr[-500:]
    found = [f for f in json.loads(res.stdout)["findings"] if f["check"] == "label-enum"]
    assert [(f["label"], f["actual"], f["file"], f["line"]) for f in found] == [
        ("com.example.tier", "bronze", "Dockerfile", 2)
    ]
