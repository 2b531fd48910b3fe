"""Exact output of the text and JSON reporters for hand-made reports, and when colour is used."""

from __future__ import annotations

import argparse
import datetime as dt
import json

import pytest

from mb_ci import __version__
from mb_ci.models import CiFacts, Finding, GitFacts, ImageFacts, PlatformFacts, Report, Severity
from mb_ci.output import use_color
from mb_ci.report import RenderOptions, render

HEAD = "0123456789abcdef0123456789abcdef01234567"
OCI = "org.opencontainers.image."
IMAGE_ID = "sha256:" + "c" * 64


def git_facts() -> GitFacts:
    return GitFacts(
        root="/src/widget",
        head=HEAD,
        commit_time=dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc),
        remote_name="origin",
        remote_url="git@github.com:acme/widget.git",
        remote_normalized="https://github.com/acme/widget",
        tags=("v1.2.3",),
        shallow=True,
        branch="main",
    )


def failing_report() -> Report:
    labels = {
        OCI + "revision": HEAD,
        OCI + "source": "https://github.com/acme/other",
        OCI + "version": "1.2.3",
    }
    image = ImageFacts(
        "widget:1.2.3",
        "docker-daemon",
        (PlatformFacts("linux/amd64", labels, config_digest=IMAGE_ID, layer_count=1),),
        image_id=IMAGE_ID,
    )
    findings = (
        Finding(
            "label-required",
            Severity.ERROR,
            f"required label {OCI}created is missing",
            OCI + "created",
        ),
        Finding(
            "source-matches-remote",
            Severity.ERROR,
            f"{OCI}source does not name the git remote",
            OCI + "source",
            "https://github.com/acme/widget",
            "https://github.com/acme/other",
            detail={"normalized": "https://github.com/acme/other"},
        ),
        Finding(
            "revision-dirty",
            Severity.WARNING,
            "revision was checked against a dirty work tree",
            OCI + "revision",
            actual=HEAD,
        ),
    )
    return Report(
        "check",
        "widget:1.2.3",
        findings,
        image=image,
        git=git_facts(),
        ci=CiFacts("github", HEAD, None, None, "push", "main"),
        matched_commit="head",
        checked=("label-required", "revision-matches-head"),
    )


TEXT = f"""\
mb-ci check widget:1.2.3
  image    {IMAGE_ID}
  commit   0123456789ab (main)
  remote   https://github.com/acme/widget

  ✗ org.opencontainers.image.created   (missing)
      error [label-required] required label org.opencontainers.image.created is missing
  ! org.opencontainers.image.revision  {HEAD}
      warning [revision-dirty] revision was checked against a dirty work tree
        actual:   {HEAD}
  ✗ org.opencontainers.image.source    https://github.com/acme/other
      error [source-matches-remote] org.opencontainers.image.source does not name the git remote
        expected: https://github.com/acme/widget
        actual:   https://github.com/acme/other
  ✓ org.opencontainers.image.version   1.2.3

FAILED: 2 errors, 1 warning, revision matched the head commit
"""

VERBOSE_HEADER = f"""\
mb-ci check widget:1.2.3
  image    {IMAGE_ID}
  commit   0123456789ab (main)
  ci       github: sha={HEAD}
  remote   origin git@github.com:acme/widget.git -> https://github.com/acme/widget
  tags     v1.2.3
  shallow  yes
  matched  head
  checks   label-required, revision-matches-head

"""


def test_text_report():
    assert render(failing_report(), "text", RenderOptions()) == TEXT


def test_text_verbose_adds_detail_and_names_the_remote_once():
    text = render(failing_report(), "text", RenderOptions(verbose=True))
    assert text == VERBOSE_HEADER + TEXT.split("\n\n", 1)[1]
    assert text.count("  remote   ") == 1


def test_text_strict_fails_on_warnings_only():
    report = Report(
        "check",
        "x",
        (Finding("revision-dirty", Severity.WARNING, "dirty", OCI + "revision"),),
        image=ImageFacts("x", "docker-daemon", (PlatformFacts(None, {OCI + "revision": HEAD}),)),
    )
    assert render(report, "text", RenderOptions()).endswith("\npassed: 0 errors, 1 warning\n")
    strict = render(report, "text", RenderOptions(strict=True))
    assert strict.endswith("\nFAILED: 0 errors, 1 warning\n")


def test_text_colour():
    text = render(failing_report(), "text", RenderOptions(color=True))
    assert text.startswith("\x1b[1mmb-ci check widget:1.2.3\x1b[0m\n")
    assert "  \x1b[31m✗\x1b[0m org.opencontainers.image.created   \x1b[2m(missing)\x1b[0m\n" in text
    assert "      \x1b[33mwarning\x1b[0m [revision-dirty]" in text
    assert "  \x1b[32m✓\x1b[0m org.opencontainers.image.version" in text
    assert text.endswith(
        "\x1b[31mFAILED: 2 errors, 1 warning, revision matched the head commit\x1b[0m\n"
    )
    # colour is the only difference
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", text) == TEXT


def test_text_multi_platform_and_image_wide_findings():
    image = ImageFacts(
        "reg/widget:1",
        "docker",
        (
            PlatformFacts("linux/amd64", {OCI + "revision": "a" * 40}),
            PlatformFacts("linux/arm64/v8", {OCI + "revision": "b" * 40}),
        ),
        digest="sha256:" + "d" * 64,
    )
    findings = (
        Finding(
            "revision-matches-head",
            Severity.ERROR,
            "no match",
            OCI + "revision",
            "a" * 40,
            "b" * 40,
            platform="linux/arm64/v8",
        ),
        Finding("platforms-agree", Severity.ERROR, "platforms disagree", OCI + "revision"),
        Finding("label-unknown", Severity.INFO, "an image-wide note"),
    )
    text = render(Report("check", "reg/widget:1", findings, image=image), "text", RenderOptions())
    expected = f"""\
mb-ci check reg/widget:1
  image    sha256:{"d" * 64}

platform linux/amd64
  ✓ org.opencontainers.image.revision  {"a" * 40}

platform linux/arm64/v8
  ✗ org.opencontainers.image.revision  {"b" * 40}
      error [revision-matches-head] no match
        expected: {"a" * 40}
        actual:   {"b" * 40}

all platforms
  ✗ org.opencontainers.image.revision
      error [platforms-agree] platforms disagree
  i an image-wide note

FAILED: 2 errors, 0 warnings
"""
    assert text == expected


def test_text_no_labels_and_detached_dirty_checkout():
    git = GitFacts(
        root="/r",
        head=HEAD,
        commit_time=dt.datetime.now(dt.timezone.utc),
        dirty=True,
        detached=True,
    )
    image = ImageFacts("x", "docker-daemon", (PlatformFacts(None, {}),))
    text = render(Report("check", "x", (), image=image, git=git), "text", RenderOptions())
    assert text == (
        "mb-ci check x\n"
        "  commit   0123456789ab (detached HEAD, dirty)\n"
        "\n"
        "  (no labels)\n"
        "\n"
        "passed: 0 errors, 0 warnings\n"
    )


def test_json_envelope():
    data = json.loads(render(failing_report(), "json", RenderOptions()))
    assert data == {
        "schema": "mb-ci/report",
        "version": 1,
        "tool": {"name": "mb-ci", "version": __version__},
        "command": "check",
        "subject": "widget:1.2.3",
        "result": "fail",
        "summary": {"errors": 2, "warnings": 1, "info": 0},
        "matched_commit": "head",
        "image": {
            "reference": "widget:1.2.3",
            "transport": "docker-daemon",
            "id": IMAGE_ID,
            "digest": None,
            "index_annotations": {},
            "skipped": [],
            "platforms": [
                {
                    "platform": "linux/amd64",
                    "digest": None,
                    "config_digest": IMAGE_ID,
                    "labels": {
                        OCI + "revision": HEAD,
                        OCI + "source": "https://github.com/acme/other",
                        OCI + "version": "1.2.3",
                    },
                    "annotations": {},
                    "layers": 1,
                    "compressed_size": None,
                }
            ],
        },
        "git": {
            "root": "/src/widget",
            "head": HEAD,
            "commit_time": "2024-05-01T12:00:00+00:00",
            "remote": "origin",
            "remote_url": "git@github.com:acme/widget.git",
            "remote_normalized": "https://github.com/acme/widget",
            "tags": ["v1.2.3"],
            "dirty": False,
            "shallow": True,
            "detached": False,
            "branch": "main",
        },
        "ci": {
            "provider": "github",
            "sha": HEAD,
            "pr_head_sha": None,
            "pr_merge_sha": None,
            "event": "push",
            "ref_name": "main",
            "repository_url": None,
        },
        "checked": ["label-required", "revision-matches-head"],
        "findings": [
            {
                "check": "label-required",
                "severity": "error",
                "message": "required label org.opencontainers.image.created is missing",
                "label": OCI + "created",
                "expected": None,
                "actual": None,
                "platform": None,
                "line": None,
                "file": None,
                "detail": {},
            },
            {
                "check": "source-matches-remote",
                "severity": "error",
                "message": "org.opencontainers.image.source does not name the git remote",
                "label": OCI + "source",
                "expected": "https://github.com/acme/widget",
                "actual": "https://github.com/acme/other",
                "platform": None,
                "line": None,
                "file": None,
                "detail": {"normalized": "https://github.com/acme/other"},
            },
            {
                "check": "revision-dirty",
                "severity": "warning",
                "message": "revision was checked against a dirty work tree",
                "label": OCI + "revision",
                "expected": None,
                "actual": HEAD,
                "platform": None,
                "line": None,
                "file": None,
                "detail": {},
            },
        ],
    }


def test_json_is_indented_utf8_with_a_final_newline_and_strict_result():
    report = Report("check", "x ✓", (Finding("revision-dirty", Severity.WARNING, "w"),))
    text = render(report, "json", RenderOptions())
    assert text.endswith("}\n")
    assert '"subject": "x ✓"' in text
    assert json.loads(text)["result"] == "pass"
    assert json.loads(text)["ci"] is None
    assert json.loads(render(report, "json", RenderOptions(strict=True)))["result"] == "fail"


def test_json_redacts_secrets_everywhere():
    secret = "hunter2hunter2"
    url = f"https://u:{secret}@example.com/x"
    image = ImageFacts(
        url,
        "docker",
        (PlatformFacts(None, {OCI + "url": url}, {"a": url}),),
        index_annotations={"b": url},
    )
    finding = Finding(
        "label-credentials",
        Severity.ERROR,
        f"bad {url}",
        OCI + "url",
        url,
        url,
        detail={"normalized": url},
    )
    report = Report("check", url, (finding,), image=image)
    text = render(report, "json", RenderOptions())
    assert secret not in text
    assert text.count("https://u:***@example.com/x") == 9


def _args(verbose: bool = False, strict: bool = False) -> argparse.Namespace:
    return argparse.Namespace(verbose=verbose, strict=strict)


@pytest.mark.parametrize(
    ("env", "tty", "color"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # https://no-color.org: set *and not empty*
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_colour_only_on_a_tty_without_no_color(monkeypatch, env, tty, color):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert use_color(tty) is color
