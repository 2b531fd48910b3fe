"""One self-contained HTML page: a summary, badges, and a sortable, filterable, paged table.

Nothing is fetched: the style and the script are inline and allowed by their SHA-256 hashes in
a Content-Security-Policy ``<meta>`` (``default-src 'none'``), badges are ``data:`` SVG images,
and the rows travel as a JSON data block that the script draws with ``textContent``, never as
markup. So the page works from ``file://``, on GitHub Pages and as a CI artifact, a label value
can neither run script nor load anything, and 20,000 rows cost one JSON parse, not 20,000 table
rows in the document. A link is drawn only when its URL is ``http:`` or ``https:``.

``render`` is the ``check`` report; ``page`` is what the audit's page is built from too.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mb_ci import __version__
from mb_ci.models import Report
from mb_ci.report import RenderOptions
from mb_ci.safety import redact, safe

PAGE_SIZE = 100
_WEB = re.compile(r"^https?://[^\s\"'<>\\]+$", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    filter: bool = False  # a text box under the heading
    choices: tuple[str, ...] = ()  # a drop-down of exact values instead


Cell = str | tuple[str, str | None] | None  # text, or (text, link)


def web_url(url: str | None) -> str | None:
    """``url`` when it is an ``http(s)`` URL without credentials or spaces, else ``None``."""
    if not url or len(url) > 2048 or not _WEB.match(url) or redact(url) != url:
        return None
    return url


def _cell(value: Cell) -> Any:
    if isinstance(value, tuple):
        text, link = value
        url = web_url(link)
        return [safe(text, 500), url] if url else safe(text, 500)
    return "" if value is None else safe(value, 2000)


def data_block(data: object) -> str:
    """JSON that stays inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``
    (so no ``</script>`` or ``<!--``), and no line separators, as ``\\uXXXX`` escapes."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def badge_img(label: str, message: str, color: str) -> str:
    from mb_ci.badges.svg import render as svg

    data = base64.b64encode(svg(label, message, color).encode()).decode()
    alt = html.escape(f"{label}: {message}", quote=True)
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{alt}">'


def page(
    title: str,
    summary: Sequence[tuple[str, str]],
    badges: Sequence[tuple[str, str, str]],
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    notes: Sequence[str] = (),
) -> str:
    """The page. ``summary``: (term, value) pairs; ``badges``: (label, message, colour)."""
    esc = html.escape
    data = {
        "columns": [
            {"key": c.key, "title": c.title, "filter": c.filter, "choices": list(c.choices)}
            for c in columns
        ],
        "rows": [[_cell(v) for v in row] for row in rows],
        "pageSize": PAGE_SIZE,
    }
    csp = (
        f"default-src 'none'; script-src {_hash(SCRIPT)}; style-src {_hash(STYLE)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    terms = "".join(
        f"<div><dt>{esc(safe(k, 80))}</dt><dd>{esc(safe(v, 300))}</dd></div>" for k, v in summary
    )
    shields = " ".join(badge_img(safe(a, 40), safe(b, 40), c) for a, b, c in badges)
    heads = "".join(
        f'<th scope="col" data-col="{n}"><button type="button">{esc(c.title)}</button></th>'
        for n, c in enumerate(columns)
    )
    filters = "".join(f"<td>{_filter(n, c)}</td>" for n, c in enumerate(columns))
    extra = "".join(f"<p class=note>{esc(safe(n, 500))}</p>" for n in notes)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp, quote=False)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(safe(title, 200))}</title>\n"
        f"<style>{STYLE}</style></head>\n"
        f'<body><header><h1>{esc(safe(title, 200))}</h1><p class="badges">{shields}</p>'
        f"<dl class=summary>{terms}</dl>{extra}</header>\n"
        '<main><div class="controls"><label>Search all columns '
        '<input id="q" type="search" autocomplete="off"></label> '
        '<span id="status" role="status"></span> '
        '<button type="button" id="prev">&larr; previous</button> '
        '<button type="button" id="next">next &rarr;</button></div>\n'
        "<noscript><p class=note>Sorting, filtering and the rows need JavaScript; the same "
        "report is available with --format json or csv.</p></noscript>\n"
        f'<table id="rows"><thead><tr>{heads}</tr><tr class="filters">{filters}</tr></thead>'
        "<tbody></tbody></table></main>\n"
        f"<footer>mb-ci {esc(__version__)}</footer>\n"
        f'<script type="application/json" id="mb-ci-data">{data_block(data)}</script>\n'
        f"<script>{SCRIPT}</script>\n"
        "</body></html>\n"
    )


def _filter(n: int, column: Column) -> str:
    label = html.escape(f"filter {column.title}", quote=True)
    if column.choices:
        options = "".join(
            f'<option value="{html.escape(c, quote=True)}">{html.escape(c)}</option>'
            for c in column.choices
        )
        return (
            f'<select data-col="{n}" aria-label="{label}">'
            f'<option value="">all</option>{options}</select>'
        )
    if column.filter:
        return f'<input type="search" data-col="{n}" aria-label="{label}" autocomplete="off">'
    return ""


# --- the check report ------------------------------------------------------------------------

CHECK_COLUMNS = (
    Column("severity", "Severity", choices=("error", "warning", "info")),
    Column("check", "Check", filter=True),
    Column("label", "Label", filter=True),
    Column("platform", "Platform", filter=True),
    Column("message", "Finding", filter=True),
    Column("expected", "Expected"),
    Column("actual", "Actual"),
)


def render(report: Report, options: RenderOptions) -> str:
    passed = report.passed(options.strict)
    summary: list[tuple[str, str]] = [
        ("image", report.subject),
        ("verdict", "passed" if passed else "failed"),
        ("errors", str(report.errors)),
        ("warnings", str(report.warnings)),
    ]
    if report.image is not None and (report.image.digest or report.image.image_id):
        summary.append(("digest", report.image.digest or report.image.image_id or ""))
    if report.git is not None:
        summary.append(("HEAD", report.git.head))
    rows = [
        [
            f.severity.value,
            f.check,
            f.label,
            f.platform,
            f.message,
            f.expected,
            f.actual,
        ]
        for f in report.findings
    ]
    badges = [
        ("mb-ci", "passed" if passed else "failed", "44cc11" if passed else "e05d44"),
        ("findings", str(len(report.findings)), "007ec6"),
    ]
    return page(f"mb-ci {report.command}: {report.subject}", summary, badges, CHECK_COLUMNS, rows)


STYLE = """
:root{color-scheme:light;--fail:#b60205;--pass:#22863a;--warn:#9a6700;--line:#d0d7de}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
background:#fff}
header,main,footer{padding:12px 20px}
h1{font-size:20px;margin:0 0 8px}
.badges img{margin-right:4px;vertical-align:middle}
dl.summary{display:flex;flex-wrap:wrap;gap:8px 24px;margin:10px 0}
dl.summary div{border:1px solid var(--line);border-radius:6px;padding:6px 12px;min-width:90px}
dt{font-size:12px;color:#59636e}dd{margin:0;font-size:18px;font-weight:600;word-break:break-all}
.note{color:#59636e}
.controls{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin-bottom:8px}
table{border-collapse:collapse;width:100%;table-layout:auto}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;
word-break:break-word;max-width:28em}
th button{font:inherit;font-weight:600;border:0;background:none;padding:0;cursor:pointer}
th[aria-sort=ascending] button::after{content:" \\25b2"}
th[aria-sort=descending] button::after{content:" \\25bc"}
.filters input,.filters select{width:100%;box-sizing:border-box;font:inherit}
tr.v-fail td[data-col=verdict]{color:var(--fail);font-weight:600}
tr.v-pass td[data-col=verdict]{color:var(--pass)}
tr.v-unreadable td[data-col=verdict]{color:var(--warn);font-weight:600}
tr.s-error td[data-col=severity]{color:var(--fail);font-weight:600}
td[data-col=commit],td[data-col=image],td[data-col=digest]{max-width:12em;overflow:hidden;
text-overflow:ellipsis;white-space:nowrap}
footer{color:#59636e;font-size:12px}
@media print{.controls,.filters,noscript{display:none}body{font-size:10px}
a{color:inherit;text-decoration:none}th,td{max-width:none}
dl.summary div{border-color:#999}}
"""

SCRIPT = """
(function () {
  "use strict";
  var t0 = performance.now();
  var data = JSON.parse(document.getElementById("mb-ci-data").textContent);
  var cols = data.columns, rows = data.rows, size = data.pageSize;
  var body = document.querySelector("#rows tbody");
  var status = document.getElementById("status");
  var q = document.getElementById("q");
  var filters = {}, exact = {}, sortCol = -1, sortDir = 1, page = 0, shown = [];
  function text(c) { return Array.isArray(c) ? c[0] : String(c); }
  function lower(c) { return text(c).toLowerCase(); }
  var hay = rows.map(function (r) { return r.map(lower); });
  function apply() {
    var t = performance.now();
    var needle = q.value.trim().toLowerCase();
    var keys = Object.keys(filters).filter(function (k) { return filters[k]; });
    var picks = Object.keys(exact).filter(function (k) { return exact[k]; });
    shown = [];
    for (var i = 0; i < rows.length; i++) {
      var h = hay[i], ok = true, k;
      for (k = 0; ok && k < keys.length; k++) ok = h[keys[k]].indexOf(filters[keys[k]]) >= 0;
      for (k = 0; ok && k < picks.length; k++) ok = h[picks[k]] === exact[picks[k]];
      if (ok && needle) ok = h.some(function (x) { return x.indexOf(needle) >= 0; });
      if (ok) shown.push(i);
    }
    sort();
    page = 0;
    draw();
    document.body.setAttribute("data-filter-ms", String(Math.round(performance.now() - t)));
  }
  function sort() {
    if (sortCol < 0) return;
    shown.sort(function (a, b) {
      var x = hay[a][sortCol], y = hay[b][sortCol];
      return x < y ? -sortDir : x > y ? sortDir : a - b;
    });
  }
  function draw() {
    var frag = document.createDocumentFragment();
    var start = page * size, end = Math.min(shown.length, start + size);
    for (var n = start; n < end; n++) {
      var row = rows[shown[n]], tr = document.createElement("tr");
      for (var k = 0; k < row.length; k++) {
        var c = row[k], td = document.createElement("td"), key = cols[k].key;
        td.setAttribute("data-col", key);
        td.title = text(c);
        if (Array.isArray(c) && /^https?:\\/\\//i.test(c[1])) {
          var a = document.createElement("a");
          a.href = c[1];
          a.rel = "noopener noreferrer nofollow";
          a.textContent = c[0];
          td.appendChild(a);
        } else {
          td.textContent = text(c);
        }
        if (key === "verdict") tr.className = "v-" + text(c).replace(/[^a-z]/g, "");
        if (key === "severity") tr.className = "s-" + text(c).replace(/[^a-z]/g, "");
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
    var pages = Math.max(1, Math.ceil(shown.length / size));
    status.textContent = shown.length + " of " + rows.length + " rows" +
      (pages > 1 ? ", page " + (page + 1) + " of " + pages : "");
    document.getElementById("prev").disabled = page === 0;
    document.getElementById("next").disabled = page + 1 >= pages;
    document.body.setAttribute("data-shown", String(shown.length));
  }
  function set(col, value) {
    var c = cols[col];
    if (c.choices.length) exact[col] = value.toLowerCase();
    else filters[col] = value.trim().toLowerCase();
  }
  document.querySelectorAll(".filters [data-col]").forEach(function (el) {
    el.addEventListener("input", function () {
      set(+el.getAttribute("data-col"), el.value);
      apply();
    });
  });
  q.addEventListener("input", apply);
  document.querySelectorAll("th[data-col] button").forEach(function (b) {
    b.addEventListener("click", function () {
      var th = b.parentNode, col = +th.getAttribute("data-col");
      sortDir = sortCol === col ? -sortDir : 1;
      sortCol = col;
      document.querySelectorAll("th[aria-sort]").forEach(function (x) {
        x.removeAttribute("aria-sort");
      });
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      sort(); page = 0; draw();
    });
  });
  // printed, the page holds every row the filters leave, not only the page on screen
  var screenSize = size;
  window.addEventListener("beforeprint", function () {
    size = Math.max(1, shown.length); page = 0; draw();
  });
  window.addEventListener("afterprint", function () { size = screenSize; page = 0; draw(); });
  document.getElementById("prev").addEventListener("click", function () { page--; draw(); });
  document.getElementById("next").addEventListener("click", function () { page++; draw(); });
  // #workload=web&verdict=fail&q=text&sort=-created: a filtered view to link to
  var params = new URLSearchParams(location.hash.slice(1));
  params.forEach(function (value, key) {
    if (key === "q") { q.value = value; return; }
    if (key === "sort") {
      var desc = value.charAt(0) === "-", name = desc ? value.slice(1) : value;
      cols.forEach(function (c, i) {
        if (c.key === name) { sortCol = i; sortDir = desc ? -1 : 1; }
      });
      return;
    }
    cols.forEach(function (c, i) {
      if (c.key !== key) return;
      var el = document.querySelector('.filters [data-col="' + i + '"]');
      if (el) el.value = value;
      set(i, value);
    });
  });
  apply();
  document.body.setAttribute("data-render-ms", String(Math.round(performance.now() - t0)));
})();
"""
