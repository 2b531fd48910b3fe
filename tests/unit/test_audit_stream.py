"""``--format jsonl``: the line format, and a stream that holds neither all rows nor all futures."""

from __future__ import annotations

import gc
import json
import threading
import weakref
from collections.abc import Iterator

from mb_ci.audit import FORMATS, report_jsonl
from mb_ci.audit import model as audit
from mb_ci.audit.model import AuditResult, AuditRow, Summary
from mb_ci.models import ImageFacts, PlatformFacts
from mb_ci.output import OutputOptions, stream_audit
from mb_ci.report import RenderOptions


def _rows() -> tuple[AuditRow, ...]:
    return (
        AuditRow("app:1", "pass", labels={"note": "line\u2028break\nand ünïcode"}),
        AuditRow("app:2", "fail"),
        AuditRow("app:3", "unreadable", error="app:3: gone"),
    )


def test_jsonl_is_one_image_a_line_then_the_envelope_head():
    rows = _rows()
    text = FORMATS["jsonl"].render(AuditResult(rows, Summary.of(rows)), RenderOptions())
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 5 and text.isascii()
    images = [json.loads(line) for line in lines[:3]]
    assert [i["reference"] for i in images] == ["app:1", "app:2", "app:3"]
    assert images[0]["labels"]["note"] == "line\u2028break\nand ünïcode"
    assert all("schema" not in i for i in images)
    head = json.loads(lines[3])
    assert head["schema"] == "mb-ci/audit" and head["version"] == 1 and "images" not in head
    assert head["result"] == "fail" and head["summary"]["shown"] == 3
    assert head["summary"]["failed"] == 1 and head["summary"]["unreadable"] == 1
    whole = json.loads(FORMATS["json"].render(AuditResult(rows, Summary.of(rows)), RenderOptions()))
    assert images == whole["images"]


def test_stream_writes_shown_rows_as_they_come_and_keeps_none(capsys):
    alive: list[weakref.ref[AuditRow]] = []
    most = [0]

    def rows() -> Iterator[AuditRow]:
        for n in range(500):
            gc.collect()
            most[0] = max(most[0], sum(r() is not None for r in alive))
            row = AuditRow(f"app:{n:03}", "fail" if n % 7 == 0 else "pass")
            alive.append(weakref.ref(row))
            yield row

    head = AuditResult((), Summary(), shard=(2, 8), filters=("failing",))
    result, shown = stream_audit(rows(), lambda r: r.verdict == "fail", head, OutputOptions())
    assert most[0] <= 1  # the row before is written and dropped when the next is asked for
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [i["reference"] for i in lines[:-1]] == [f"app:{n:03}" for n in range(0, 500, 7)]
    assert lines[-1]["summary"]["audited"] == 500 and lines[-1]["summary"]["shown"] == 72
    assert lines[-1]["shard"] == "2/8" and lines[-1]["filters"] == ["failing"]
    assert result.summary.audited == 500 and result.rows == ()
    assert audit.exit_code(shown) == 1 and audit.exit_code(shown, report_only=True) == 0
    assert "500 images audited" in out.err


def test_stream_to_output_and_reports_in_other_formats(tmp_path):
    out = OutputOptions(
        format="jsonl",
        output=str(tmp_path / "a.jsonl"),
        reports=(("json", str(tmp_path / "a.json")), ("jsonl", str(tmp_path / "b.jsonl"))),
    )
    rows = _rows()
    stream_audit(iter(rows), lambda r: True, AuditResult((), Summary()), out)
    streamed = (tmp_path / "a.jsonl").read_text()
    assert streamed == (tmp_path / "b.jsonl").read_text()
    whole = json.loads((tmp_path / "a.json").read_text())
    assert [json.loads(line) for line in streamed.splitlines()[:-1]] == whole["images"]


def test_each_submits_at_most_twice_jobs_ahead_of_the_consumer():
    started, lock = [0], threading.Lock()

    def inspect(target: audit.Target) -> ImageFacts:
        with lock:
            started[0] += 1
        return ImageFacts(target.reference, "docker-daemon", (PlatformFacts(None, {}),))

    def decide(target: audit.Target, image: ImageFacts) -> AuditRow:
        return AuditRow(target.reference, "pass")

    targets = [audit.Target(f"img{n:04}") for n in range(2000)]
    taken = 0
    for _ in audit.each(targets, inspect, decide, jobs=4):
        taken += 1
        assert started[0] <= taken + 2 * 4
    assert taken == 2000 and started[0] == 2000
    assert report_jsonl.line({"a": "\u2028"}) == '{"a":"\\u2028"}\n'
