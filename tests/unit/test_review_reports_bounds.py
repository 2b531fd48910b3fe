"""A small Dockerfile cannot make ``lint-dockerfile`` hold gigabytes of variables.

Each value is held to 64 KiB, but 19,000 ``ENV Cn=x$BIG`` lines (a 300 KB file) made 1.2 GB of
copies. ENV and ARG values are now held to 4 MiB in all: one line, exit 3.
"""

from __future__ import annotations

import pytest

from mb_ci.dockerfile.parse import MAX_VARIABLES, DockerfileError, evaluate, read

BIG = "x" * 60_000


def _bomb(copies: int, prefix: str = "ENV") -> str:
    lines = ["ARG BIG=" + BIG, "FROM scratch", "ARG BIG"] if prefix == "ARG" else []
    lines = lines or ["FROM scratch", "ENV BIG=" + BIG]
    lines += [f"{prefix} C{i}=x$BIG" for i in range(copies)]
    return "\n".join([*lines, "LABEL a=1", ""])


@pytest.mark.parametrize("prefix", ["ENV", "ARG"])
def test_copies_of_a_big_value_are_refused(tmp_path, mbci, prefix):
    copies = MAX_VARIABLES // len(BIG) + 10
    path = tmp_path / "Dockerfile"
    path.write_text(_bomb(copies, prefix))
    assert path.stat().st_size < 1024 * 1024  # a file the size bound lets through
    with pytest.raises(DockerfileError, match="hold more than 4 MiB"):
        evaluate(read(path))
    result = mbci("lint-dockerfile", str(path), cwd=tmp_path)
    assert result.returncode == 3 and result.stderr.count("\n") == 1, result.stderr[-300:]


def test_a_few_copies_are_fine(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(_bomb(20))
    assert evaluate(read(path)).labels["a"].value == "1"
