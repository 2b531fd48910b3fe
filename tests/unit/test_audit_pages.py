"""The audit's html and markdown formats over in-memory fleets: caps, links, escaping.

The page's behaviour in a browser is tested in tests/e2e/test_html_page.py.
"""

from __future__ import annotations

import json
import re

from helpers.fleet import SOURCE, fleet

from mb_ci.audit import FORMATS
from mb_ci.audit.model import AuditResult, AuditRow, Summary
from mb_ci.audit.report_html import links
from mb_ci.audit.report_markdown import LIMIT
from mb_ci.report import RenderOptions
from mb_ci.report.html import data_block, web_url


def markdown(result: AuditResult) -> str:
    return FORMATS["markdown"].render(result, RenderOptions())


def test_markdown_has_the_headline_numbers_and_only_failing_rows():
    text = markdown(fleet(8))
    assert text.startswith("### mb-ci audit: ❌ failed\n")
    assert "| 8 | 8 | 6 | 2 | 0 | 5 | 0 |" in text
    rows = [line for line in text.splitlines() if "| fail |" in line]
    assert len(rows) == 2 and all("`revision-matches-head`" in r for r in rows)


def test_markdown_stays_below_githubs_summary_limit_and_says_so():
    text = markdown(fleet(40_000))
    assert len(text.encode()) <= LIMIT + 300
    last = text.rstrip().splitlines()[-1]
    assert re.fullmatch(r"… and \d+ more rows not passing: GitHub caps .*", last)
    shown = sum("| fail |" in line for line in text.splitlines())
    left = int(last.split()[2])
    assert shown + left == 10_000


def test_markdown_values_are_inert():
    row = AuditRow(
        "docker://x/y:1",
        "unreadable",
        container="ns/[click](https://evil.example)/c",
        error="<img src=x> @admin ![i](https://evil.example/i.png)",
        kubernetes={"workload": "Deployment/|broken|"},
    )
    text = markdown(AuditResult((row,), Summary.of((row,))))
    assert "](" not in text and "<img" not in text and "@admin" not in text
    assert "|broken|" not in text


def test_links_only_for_web_repositories_and_shas():
    assert links(SOURCE, "a" * 40) == (SOURCE, f"{SOURCE}/commit/{'a' * 40}")
    assert links("git@gitlab.com:acme/w.git", "B" * 7) == (
        "https://gitlab.com/acme/w",
        f"https://gitlab.com/acme/w/-/commit/{'b' * 7}",
    )
    assert links(SOURCE, "main") == (SOURCE, None)
    assert links("javascript:alert(1)", "a" * 40) == (None, None)
    assert links("/srv/git/widget", "a" * 40) == (None, None)
    assert web_url("https://user:secret@example.com/x") is None
    assert web_url("http://example.com/a b") is None
    assert web_url("https://example.com/x") == "https://example.com/x"


def test_the_data_block_cannot_close_its_script():
    block = data_block({"v": "</script><!--<script>&\u2028"})
    assert "<" not in block and ">" not in block and "&" not in block
    assert json.loads(block) == {"v": "</script><!--<script>&\u2028"}


def test_the_page_embeds_every_row_once():
    page = FORMATS["html"].render(fleet(250), RenderOptions())
    data = json.loads(re.search(r'id="mb-ci-data">(.*?)</script>', page, re.S).group(1))
    assert len(data["rows"]) == 250 and data["pageSize"] == 100
    assert [c["key"] for c in data["columns"]][:3] == ["namespace", "workload", "container"]
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
