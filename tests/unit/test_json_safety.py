"""JSON reports stay readable UTF-8 but never carry raw bidi, C1 or unencodable characters."""

from __future__ import annotations

import json

import pytest

from mb_ci.models import Finding, Report, Severity
from mb_ci.report import RenderOptions, render
from mb_ci.safety import json_dumps

HOSTILE = "ok ✓ \u202egnp.exe \x85 \u2028 \ufffe \ud800 end"


def test_json_dumps_escapes_only_the_dangerous_characters():
    text = json_dumps({"v": HOSTILE})
    assert "✓" in text  # ordinary non-ASCII stays readable
    for raw in ("\u202e", "\x85", "\u2028", "\ufffe", "\ud800"):
        assert raw not in text
    assert "\\u202e" in text and "\\ud800" in text
    text.encode("utf-8")  # a lone surrogate would make this raise
    assert json.loads(text)["v"] == HOSTILE


@pytest.mark.parametrize("fmt", ["json", "sarif", "codequality"])
def test_json_reports_survive_a_lone_surrogate(fmt):
    finding = Finding("label-value", Severity.ERROR, f"bad {HOSTILE}", label="k", actual=HOSTILE)
    text = render(Report("check", "img", (finding,)), fmt, RenderOptions())
    text.encode("utf-8")
    assert "\u202e" not in text
    json.loads(text)
