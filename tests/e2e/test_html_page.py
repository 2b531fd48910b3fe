"""The HTML page (``--format html``) in headless Chromium: it draws, filters, escapes hostile
labels, asks the network for nothing, runs under its own strict CSP, and copes with 20,000 rows.

Timings are printed (``-s``) and recorded in docs/performance.md, never asserted.
``MB_CI_UPDATE_SCREENSHOTS=1`` writes the README's screenshots into docs/images/.
"""

from __future__ import annotations

import http.server
import os
import re
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from helpers.facts import finding, report
from helpers.fleet import SOURCE, fleet, row
from helpers.html import CHROMIUM, chromium
from helpers.paths import ROOT

from mb_ci.audit import FORMATS
from mb_ci.audit.model import AuditRow
from mb_ci.models import Finding, Severity
from mb_ci.report import RenderOptions
from mb_ci.report.html import render as render_check

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("MB_CI_REQUIRE_ENGINE"),
    reason="no chromium (scripts/testbed --full installs it)",
)


class Recorder(http.server.SimpleHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        Recorder.seen.append(self.path)
        super().do_GET()


@pytest.fixture
def served(tmp_path):
    """``tmp_path`` over HTTP on loopback, recording every path asked for."""
    Recorder.seen = []
    handler = lambda *a, **kw: Recorder(*a, directory=str(tmp_path), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder.seen
    server.shutdown()
    server.server_close()


class Table(HTMLParser):
    """The rows of ``#rows tbody`` as cell texts, the links in it, and every tag seen in it."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.in_body = False
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.attrs = {k: v or "" for k, v in a.items()}
        if tag == "tbody":
            self.in_body = True
        elif self.in_body:
            self.tags.add(tag)
            if tag == "tr":
                self.rows.append([])
            elif tag == "td":
                self.rows[-1].append("")
            elif tag == "a":
                self.links.append(a.get("href") or "")

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False

    def handle_data(self, data):
        if self.in_body and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def dom(url: str, profile: Path) -> Table:
    table = Table()
    table.feed(chromium("--dump-dom", "--virtual-time-budget=10000", url, profile=profile))
    return table


HOSTILE_REV = '"><img src=/pwned.png onerror=alert(1)>'
HOSTILE = AuditRow(
    reference="docker://registry.example/evil@sha256:" + "e" * 64,
    verdict="fail",
    container="shop/evil-0/main",
    concepts={
        "revision": HOSTILE_REV,
        "source": "javascript:alert(document.domain)//https://github.com/x/y",
        "version": "</script><!--<script>alert(2)</script>",
        "created": "<style>@import url(/pwned.css)</style>",
    },
    findings=(Finding("revision-not-sha", Severity.ERROR, "<iframe src=/pwned.html>", "x"),),
    kubernetes={"namespace": "shop", "workload": "Deployment/<b>evil</b>", "pod": "evil-0"},
)


def test_the_page_filters_escapes_and_fetches_nothing(tmp_path, served):
    base, seen = served
    result = fleet(40, extra=(HOSTILE,))
    page = FORMATS["html"].render(result, RenderOptions())
    (tmp_path / "fleet.html").write_text(page, encoding="utf-8")

    everything = dom(f"{base}/fleet.html", tmp_path / "p1")
    assert everything.attrs["data-shown"] == "41"
    assert len(everything.rows) == 41  # one page holds 100
    # hostile values are text: no element but rows, cells and our links in the table
    assert everything.tags <= {"tr", "td", "a"}
    texts = {cell for r in everything.rows for cell in r}
    assert HOSTILE_REV in texts and "Deployment/<b>evil</b>" in texts
    assert "</script><!--<script>alert(2)</script>" in texts
    # links: only the https repository and its commits, never the javascript: one
    assert everything.links and all(x.startswith(f"{SOURCE}") for x in everything.links)
    assert f"{SOURCE}/commit/{'1' * 40}" in everything.links

    # #workload=web&verdict=fail: rows 0, 20 of 0..39 (n % 5 == 0 and n % 4 == 0)
    web = dom(f"{base}/fleet.html#workload=web&verdict=fail", tmp_path / "p2")
    assert web.attrs["data-shown"] == "2"
    assert sorted(r[2] for r in web.rows) == ["ops/web-00020/main", "shop/web-00000/main"]
    commit = dom(f"{base}/fleet.html#commit={'3' * 12}&namespace=shop", tmp_path / "p3")
    # n % 5 == 2 and n % 3 == 0: 12, 27
    assert commit.attrs["data-shown"] == "2"
    finding_rows = dom(f"{base}/fleet.html#findings=revision-not-sha", tmp_path / "p4")
    assert [r[2] for r in finding_rows.rows] == ["shop/evil-0/main"]

    # the page asked the network for nothing but itself, whatever the labels said
    time.sleep(0.2)
    assert set(seen) == {"/fleet.html"}, seen


def test_the_strict_csp_is_enforced_and_the_page_runs_under_it(tmp_path):
    page = FORMATS["html"].render(fleet(10), RenderOptions())
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "default-src 'none'" in csp.group(1) and "unsafe" not in csp.group(1)
    good = tmp_path / "good.html"
    good.write_text(page)
    assert dom(good.as_uri(), tmp_path / "p1").attrs["data-shown"] == "10"  # from file://
    # one changed character in the script: its hash no longer matches, and nothing runs
    tampered = tmp_path / "tampered.html"
    tampered.write_text(page.replace('"use strict";', '"use strict"; '))
    assert "data-shown" not in dom(tampered.as_uri(), tmp_path / "p2").attrs


def test_a_check_report_page_lists_its_findings(tmp_path):
    findings = tuple(finding("label-required") for _ in range(3)) + (
        finding("revision-matches-head", message="<img src=x onerror=alert(1)>"),
    )
    page = render_check(report(findings=findings), RenderOptions())
    path = tmp_path / "check.html"
    path.write_text(page)
    table = dom(path.as_uri(), tmp_path / "p")
    assert table.attrs["data-shown"] == "4" and table.tags <= {"tr", "td"}
    assert "<img src=x onerror=alert(1)>" in {c for r in table.rows for c in r}
    narrowed = dom(path.as_uri() + "#check=revision", tmp_path / "p2")
    assert narrowed.attrs["data-shown"] == "1"


def test_twenty_thousand_rows_load_and_filter(tmp_path):
    n = 20_000
    started = time.perf_counter()
    page = FORMATS["html"].render(fleet(n), RenderOptions())
    rendered = time.perf_counter() - started
    path = tmp_path / "big.html"
    path.write_text(page)
    started = time.perf_counter()
    table = dom(path.as_uri() + "#workload=api&namespace=ops&verdict=fail", tmp_path / "p")
    loaded = time.perf_counter() - started
    # n % 5 == 1, n % 3 == 0, n % 4 == 0 -> n % 60 == 36
    expected = len([i for i in range(n) if i % 60 == 36])
    assert table.attrs["data-shown"] == str(expected)
    assert len(table.rows) == min(expected, 100)
    print(
        f"\n20,000 rows: page {len(page.encode()) / 1e6:.1f} MB rendered in {rendered:.2f} s; "
        f"chromium start to DOM dump {loaded:.2f} s; in the page: parse and first draw "
        f"{table.attrs['data-render-ms']} ms, one filter pass {table.attrs['data-filter-ms']} ms"
    )


def test_screenshots_of_the_summary_and_a_filtered_table(tmp_path):
    import png

    extra = (
        AuditRow(
            reference="docker://ghcr.io/acme/web:live",
            verdict="unreadable",
            container="shop/web-7f9c-pending/main",
            error="no imageID yet (ErrImagePull)",
            kubernetes={"namespace": "shop", "workload": "Deployment/web"},
        ),
    )
    page = FORMATS["html"].render(fleet(60, extra), RenderOptions())
    path = tmp_path / "fleet.html"
    path.write_text(page)
    update = os.environ.get("MB_CI_UPDATE_SCREENSHOTS") == "1"
    folder = ROOT / "docs" / "images" if update else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    shots = {
        "audit-html-summary.png": path.as_uri(),
        "audit-html-filtered.png": path.as_uri() + "#workload=web&verdict=fail",
    }
    for name, url in shots.items():
        out = folder / name
        chromium(
            f"--screenshot={out}",
            "--window-size=1280,720",
            "--hide-scrollbars",
            url,
            profile=tmp_path / f"p-{name}",
        )
        width, height, pixels, _ = png.Reader(bytes=out.read_bytes()).asRGBA8()
        assert (width, height) == (1280, 720)
        colours = {tuple(px[i : i + 3]) for px in pixels for i in range(0, len(px), 4)}
        assert len(colours) > 20, "the screenshot is blank"
    assert row(0).verdict == "fail"


def test_printed_the_page_holds_every_filtered_row(tmp_path):
    """On screen a page shows 100 rows; printed (Chromium's PDF), it holds them all."""

    def pages(n: int) -> int:
        path = tmp_path / f"fleet{n}.html"
        path.write_text(FORMATS["html"].render(fleet(n), RenderOptions()))
        out = tmp_path / f"fleet{n}.pdf"
        chromium(
            f"--print-to-pdf={out}",
            "--no-pdf-header-footer",
            path.as_uri(),
            profile=tmp_path / f"p{n}",
        )
        return len(re.findall(rb"/Type\s*/Page[^s]", out.read_bytes()))

    one_screen, four_screens = pages(100), pages(400)
    assert one_screen >= 1 and four_screens >= 3 * one_screen, (one_screen, four_screens)
