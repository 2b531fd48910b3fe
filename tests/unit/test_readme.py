"""The README splice: every byte outside the marker block kept, markers in code ignored."""

from __future__ import annotations

import codecs

import pytest
from helpers.goldens import assert_golden_bytes

from mb_ci.badges import readme
from mb_ci.errors import EXIT_USAGE, ReadmeError

S, E = readme.START, readme.END
BADGES = "[![commit: 0123456](https://x.example/c.svg)](https://x.example/c)"


def golden(name: str, data: bytes) -> None:
    assert_golden_bytes(data, "badges", name)


def test_replaces_block_and_keeps_the_rest():
    text = f"# Widget\n\nIntro.\n\n{S}\nold badges\nmore old\n{E}\n\nRest.\n"
    out = readme.splice(text, BADGES)
    assert out == f"# Widget\n\nIntro.\n\n{S}\n{BADGES}\n{E}\n\nRest.\n"
    golden("readme-replaced.md", out.encode())


def test_crlf_is_kept():
    text = f"# Widget\r\n\r\n{S}\r\n{E}\r\nRest.\r\n"
    out = readme.splice(text, "a\nb")
    assert out == f"# Widget\r\n\r\n{S}\r\na\r\nb\r\n{E}\r\nRest.\r\n"
    assert "\n" not in out.replace("\r\n", "")


def test_no_trailing_newline_is_kept():
    out = readme.splice(f"# W\n{S}\n{E}", BADGES)
    assert out == f"# W\n{S}\n{BADGES}\n{E}"


def test_empty_snippet_leaves_an_empty_block():
    assert readme.splice(f"{S}\nold\n{E}\n", "") == f"{S}\n{E}\n"


@pytest.mark.parametrize("fence", ["```", "~~~~", "```markdown", "  ```"])
def test_markers_in_fenced_code_are_ignored(fence):
    close = fence.strip()[:3] if "~" not in fence else fence
    code = f"{fence}\n{S}\nexample\n{E}\n{close}\n"
    text = f"# W\n\n{code}\n{S}\n{E}\n"
    out = readme.splice(text, BADGES)
    assert out == f"# W\n\n{code}\n{S}\n{BADGES}\n{E}\n"


def test_markers_only_in_code_count_as_missing():
    text = f"# W\n\n```\n{S}\n{E}\n```\n"
    with pytest.raises(ReadmeError, match="no <!-- mb-ci:badges:start -->"):
        readme.splice(text, BADGES)
    out = readme.splice(text, BADGES, create=True)
    assert out == f"# W\n\n{S}\n{BADGES}\n{E}\n\n```\n{S}\n{E}\n```\n"


def test_inline_and_indented_markers_are_not_markers():
    text = f"Use `{S}` and:\n\n    {S}\n\n{S}\n{E}\n"
    assert readme.splice(text, "X").endswith(f"\n\n{S}\nX\n{E}\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{S}\n{E}\n{S}\n{E}\n", r"README:3: a second <!-- mb-ci:badges:start --> \(the first"),
        (f"{S}\n{E}\n{E}\n", r"README:3: a second <!-- mb-ci:badges:end -->"),
        (f"# W\n{S}\n", r"README:2: <!-- mb-ci:badges:start --> without"),
        (f"# W\n{E}\n", r"README:2: <!-- mb-ci:badges:end --> without"),
        (f"{E}\n{S}\n", r"README:1: <!-- mb-ci:badges:end --> comes before"),
        ("# W\n", r"README: no <!-- mb-ci:badges:start --> / <!-- mb-ci:badges:end --> markers"),
    ],
)
def test_marker_errors(text, message):
    with pytest.raises(ReadmeError, match=message) as info:
        readme.splice(text, BADGES, create="no <!--" not in message)
    assert info.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Widget\n\nIntro.\n", f"# Widget\n\n{S}\nB\n{E}\n\nIntro.\n"),
        ("# Widget\nIntro.\n", f"# Widget\n\n{S}\nB\n{E}\n\nIntro.\n"),
        ("# Widget", f"# Widget\n\n{S}\nB\n{E}"),
        ("# Widget\n", f"# Widget\n\n{S}\nB\n{E}\n"),
        ("Widget\n======\n\nIntro.\n", f"Widget\n======\n\n{S}\nB\n{E}\n\nIntro.\n"),
        ("```\n# no\n```\n## Real\n", f"```\n# no\n```\n## Real\n\n{S}\nB\n{E}\n"),
        ("No heading.\n", f"{S}\nB\n{E}\n\nNo heading.\n"),
        ("", f"{S}\nB\n{E}\n"),
        ("# W\r\n\r\nx\r\n", f"# W\r\n\r\n{S}\r\nB\r\n{E}\r\n\r\nx\r\n"),
    ],
)  # fmt: skip
def test_create_inserts_after_first_heading(text, expected):
    assert readme.splice(text, "B", create=True) == expected


def test_create_golden():
    text = "\ufeff# Widget\r\n\r\nA widget.\r\n\r\n## Usage\r\n"
    out = readme.update(text.encode("utf-8"), BADGES, create=True)
    golden("readme-created-crlf-bom.md", out)
    assert out.startswith(codecs.BOM_UTF8 + b"# Widget\r\n\r\n" + S.encode() + b"\r\n")


def test_create_is_idempotent():
    once = readme.splice("# W\n\nx\n", "B", create=True)
    assert readme.splice(once, "B", create=True) == once


@pytest.mark.parametrize("codec", ["utf-8", "utf-16-le", "utf-16-be"])
def test_encoding_and_bom_are_kept(codec):
    bom = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE,
           "utf-16-be": codecs.BOM_UTF16_BE}[codec]  # fmt: skip
    data = bom + f"# Wïdget\n{S}\n{E}\nÜnïcode ✓\n".encode(codec)
    out = readme.update(data, "é")
    assert out == bom + f"# Wïdget\n{S}\né\n{E}\nÜnïcode ✓\n".encode(codec)


def test_bytes_outside_the_block_are_identical():
    head = "# W\r\n\n\tmixed  endings \u2028 and odd spaces \r\n".encode()
    tail = b"\n\nend with no newline \x0c"
    data = head + f"{S}\n{E}".encode() + tail
    out = readme.update(data, "new")
    assert out.startswith(head) and out.endswith(tail)


def test_not_utf8_is_a_clear_error():
    with pytest.raises(ReadmeError, match=r"README.md: not UTF-8 \(byte 4\)"):
        readme.update(b"# W\n\xff\n", "x", name="README.md")


def test_rst_markers():
    text = "Widget\n======\n\n.. mb-ci:badges:start\n.. mb-ci:badges:end\n"
    out = readme.splice(text, "|a|\n\n.. |a| image:: x.svg", markup="rst")
    assert out == (
        "Widget\n======\n\n.. mb-ci:badges:start\n|a|\n\n.. |a| image:: x.svg\n"
        ".. mb-ci:badges:end\n"
    )
    created = readme.splice("=====\nTitle\n=====\n\nx\n", "B", markup="rst", create=True)
    assert created == "=====\nTitle\n=====\n\n.. mb-ci:badges:start\nB\n.. mb-ci:badges:end\n\nx\n"
