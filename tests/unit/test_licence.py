"""licence-matches-repo against real licence texts (tests/data/licences, origins in SOURCES.md):
MIT, Apache-2.0, GPL-3.0, BSD-3-Clause, a dual licence in two files, and bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import paths
from helpers.clock import FIXED
from helpers.facts import OCI, checkout, ci, image, policy, truthful_labels

from mb_ci.checks import check_image
from mb_ci.facts import licence as licence_facts
from mb_ci.models import Finding, Severity

DATA = paths.DATA / "licences"
KEY = OCI + "licenses"


def repo_with(tmp_path: Path, *files: tuple[str, str]) -> Path:
    for source, name in files:
        shutil.copyfile(DATA / source, tmp_path / name)
    return tmp_path


def judged(root: Path, label: str, rules: str = "") -> list[Finding]:
    facts = licence_facts.read(root)
    result = check_image(
        image(truthful_labels(**{KEY: label})),
        checkout(),
        ci(),
        policy(rules),
        FIXED,
        licence=facts,
    )
    return [f for f in result.findings if f.check == "licence-matches-repo"]


@pytest.mark.parametrize(
    ("source", "name", "spdx", "label"),
    [
        ("mit-docker-mailserver-LICENSE", "LICENSE", "MIT", "MIT"),
        ("apache-2.0-prometheus-LICENSE", "LICENSE", "Apache-2.0", "Apache-2.0"),
        ("gpl-3.0-linuxserver-LICENSE", "COPYING", "GPL-3.0", "GPL-3.0-or-later"),
        ("bsd-3-clause-click-LICENSE.txt", "LICENSE.txt", "BSD-3-Clause", "BSD-3-Clause"),
    ],
)
def test_real_licence_texts_are_detected_and_compared(tmp_path, source, name, spdx, label):
    root = repo_with(tmp_path, (source, name))
    assert licence_facts.read(root).files == {name: (spdx,)}
    assert judged(root, label) == []
    assert judged(root, f"LicenseRef-Other OR {label}") == []
    (wrong,) = judged(root, "MPL-2.0")
    assert wrong.severity is Severity.WARNING and wrong.expected == spdx and name in wrong.message
    (error,) = judged(root, "MPL-2.0", "checks:\n  licence-matches-repo: error\n")
    assert error.severity is Severity.ERROR


def test_dual_licence(tmp_path):
    root = repo_with(
        tmp_path,
        ("dual-regex/LICENSE-APACHE", "LICENSE-APACHE"),
        ("dual-regex/LICENSE-MIT", "LICENSE-MIT"),
    )
    assert licence_facts.read(root).ids == ("Apache-2.0", "MIT")
    assert judged(root, "MIT OR Apache-2.0") == []
    (wrong,) = judged(root, "GPL-2.0-only")
    assert wrong.expected == "Apache-2.0 OR MIT"


def test_a_licence_text_the_detector_does_not_know_is_information(tmp_path):
    """skipper's LICENSE: Apache-2.0 for most of it, MIT for one folder, in its own words."""
    root = repo_with(tmp_path, ("apache-with-mit-skipper-LICENSE", "LICENSE"))
    (note,) = judged(root, "Apache-2.0")
    assert note.severity is Severity.INFO and "no licence could be identified" in note.message


def test_no_licence_file_and_no_label_say_nothing(tmp_path):
    assert judged(tmp_path, "MIT") == []
    root = repo_with(tmp_path, ("mit-docker-mailserver-LICENSE", "LICENSE"))
    result = check_image(
        image(), checkout(), ci(), policy(""), FIXED, licence=licence_facts.read(root)
    )
    assert "licence-matches-repo" not in result.checked


def test_a_50_mb_or_binary_licence_is_a_note_not_a_read(tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    with (big / "LICENSE").open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB of nothing
    (note,) = judged(big, "MIT")
    assert note.severity is Severity.INFO and "larger than 512 KiB" in note.message
    binary = tmp_path / "binary"
    binary.mkdir()
    (binary / "COPYING").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    (note,) = judged(binary, "MIT")
    assert "binary" in note.message


def test_a_label_that_is_no_spdx_expression(tmp_path):
    root = repo_with(tmp_path, ("mit-docker-mailserver-LICENSE", "LICENSE"))
    (f,) = judged(root, "MIT License (see LICENSE)")
    assert "not an SPDX expression" in f.message and f.expected == "MIT"
