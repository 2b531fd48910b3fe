"""A Dockerfile the engine refuses to parse is exit 3 with one line, not a lint verdict.

A line that is only the escape character at the end gave a command without a keyword and an
internal error (exit 4); a misspelt ``LABLE``, an instruction before the first ``FROM`` and
``ONBUILD`` without a trigger (or with ``ONBUILD``/``FROM``) were ignored, so a file the engine
cannot build passed or failed on its labels. Each case is built in the real engine too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.images import engine_labels as _build

from mb_ci.dockerfile.parse import DockerfileError, evaluate, read

REFUSED = {
    "escape at the end": (b"FROM scratch\nLABEL a=1\n\\\n", ":3: unknown instruction: "),
    "escape, blank, end": (b"FROM scratch\nLABEL a=1\n \\  \n\n", ":3: unknown instruction: "),
    "misspelt": (b"FROM scratch\nLABLE a=1\n", ":2: unknown instruction: LABLE"),
    "before FROM": (b"LABEL a=1\nFROM scratch\n", ":1: LABEL before the first FROM"),
    "ONBUILD alone": (b"FROM scratch\nONBUILD\n", ":2: ONBUILD requires at least one"),
    "ONBUILD ONBUILD": (b"FROM scratch\nONBUILD ONBUILD LABEL a=1\n", ":2: ONBUILD isn't"),
    "ONBUILD FROM": (b"FROM scratch\nONBUILD FROM x\n", ":2: FROM isn't allowed"),
}
ACCEPTED = {
    "escape, blank, more": b"FROM scratch\n\\\n\nLABEL a=1\n",
    "any case": b"from scratch\nlabel a=1\nStopSignal 9\n",
    "ARG before FROM": b"ARG A=1\nFROM scratch\nARG A\nLABEL a=$A\n",
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_is_one_line_exit_3(tmp_path: Path, mbci, name):
    text, message = REFUSED[name]
    path = tmp_path / "Dockerfile"
    path.write_bytes(text)
    with pytest.raises(DockerfileError, match="Dockerfile" + message.replace("?", r"\?")):
        evaluate(read(path))
    result = mbci("lint-dockerfile", str(path), cwd=tmp_path)
    assert result.returncode == 3, result.stderr[-400:]
    assert result.stderr.count("\n") == 1 and "internal error" not in result.stderr


def test_a_misspelling_names_the_instruction(tmp_path: Path):
    path = tmp_path / "Dockerfile"
    path.write_bytes(REFUSED["misspelt"][0])
    with pytest.raises(DockerfileError) as info:
        read(path)
    assert info.value.hint == "did you mean LABEL?"


@pytest.mark.parametrize("name", list(REFUSED))
def test_the_engine_refuses_them_too(engine, name):
    labels, errors = _build(engine, REFUSED[name][0])
    assert labels is None and errors


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_accepted_as_the_engine_accepts_them(tmp_path: Path, engine, name):
    path = tmp_path / "Dockerfile"
    path.write_bytes(ACCEPTED[name])
    ours = {k: f.value for k, f in evaluate(read(path)).labels.items()}
    labels, errors = _build(engine, ACCEPTED[name])
    assert errors == [] and labels == ours == {"a": "1"}
