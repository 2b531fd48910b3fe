"""The audit's pure parts: filters, shards, merging, reporters and progress, without an engine."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from mb_ci.audit import filters as audit_filters
from mb_ci.audit import merge as audit_merge
from mb_ci.audit import model as audit
from mb_ci.audit import report_csv as audit_csv
from mb_ci.audit import report_json as audit_json
from mb_ci.audit import report_text as audit_text
from mb_ci.audit.filters import Filters, matches
from mb_ci.audit.model import AuditResult, AuditRow, Summary
from mb_ci.commands.audit import Progress
from mb_ci.errors import UsageError
from mb_ci.models import Finding, Severity
from mb_ci.report import RenderOptions

SHA = "0123456789abcdef0123456789abcdef01234567"
UTC = dt.timezone.utc


def row(ref: str, verdict: str = "pass", **concepts: str | None) -> AuditRow:
    findings: tuple[Finding, ...] = ()
    if verdict == "fail":
        findings = (
            Finding("label-required", Severity.ERROR, "org.opencontainers.image.source missing"),
        )
    return AuditRow(
        reference=ref,
        verdict=verdict,
        concepts={c: concepts.get(c) for c in audit.SHOWN_CONCEPTS},
        findings=findings,
    )


# --- --where -------------------------------------------------------------------------------


@pytest.mark.parametrize("wanted", [SHA, SHA[:7], SHA[:12].upper(), SHA + "-dirty"])
def test_revision_matches_any_abbreviation_in_any_case(wanted):
    assert audit_filters.same_revision(wanted, SHA)
    assert audit_filters.same_revision(wanted, SHA[:9])  # the label itself may be abbreviated


@pytest.mark.parametrize("wanted", [SHA[:6], "1123456789", SHA[:8] + "x"])
def test_revision_rejects_other_commits_and_short_prefixes(wanted):
    assert not audit_filters.same_revision(wanted, SHA)


def test_where_revision_needs_a_sha():
    with pytest.raises(UsageError, match="not a commit SHA"):
        audit_filters.parse_where("revision=main")
    with pytest.raises(UsageError, match="unknown key"):
        audit_filters.parse_where("colour=blue")
    with pytest.raises(UsageError, match="KEY=VALUE"):
        audit_filters.parse_where("revision")
    assert audit_filters.parse_where("Revision=ABCDEF1") == ("revision", "ABCDEF1")


def test_where_source_compares_normalised_urls():
    r = row("a", source="git@github.com:Acme/Widget.git")
    assert matches(r, Filters(where=(("source", "https://github.com/acme/widget"),)))
    assert not matches(r, Filters(where=(("source", "https://github.com/acme/other"),)))
    assert not matches(row("b"), Filters(where=(("source", "https://github.com/a/b"),)))


def test_where_full_label_key_and_several_conditions_all_hold():
    r = AuditRow("a", "pass", labels={"com.example.team": "core"}, concepts={"version": "1.2"})
    assert matches(r, Filters(where=(("com.example.team", "core"), ("version", "1.2"))))
    assert not matches(r, Filters(where=(("com.example.team", "core"), ("version", "1"))))


def test_since_until_and_failing():
    old = row("old", created="2024-01-01T00:00:00Z")
    new = row("new", "fail", created="2024-06-01T12:00:00+02:00")
    none = row("none")
    since = Filters(since=audit_filters.parse_when("2024-03-01", "--since"))
    assert [r.reference for r in (old, new, none) if matches(r, since)] == ["new"]
    until = Filters(until=audit_filters.parse_when("2024-03-01T00:00:00Z", "--until"))
    assert [r.reference for r in (old, new, none) if matches(r, until)] == ["old"]
    assert [r.reference for r in (old, new) if matches(r, Filters(failing=True))] == ["new"]


def test_when_takes_durations_and_refuses_nonsense():
    now = dt.datetime(2024, 5, 10, tzinfo=UTC)
    assert audit_filters.parse_when("7d", "--since", now) == dt.datetime(2024, 5, 3, tzinfo=UTC)
    with pytest.raises(UsageError, match="--since yesterday: not a time"):
        audit_filters.parse_when("yesterday", "--since", now)


# --- shards and merging ----------------------------------------------------------------------


def test_shards_partition_the_references():
    refs = [f"registry.example/app:{n}" for n in range(300)]
    owners = [[n for n in range(1, 5) if audit_filters.in_shard(r, (n, 4))] for r in refs]
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(o == [n] for o in owners) for n in range(1, 5)]
    assert min(sizes) > 40  # roughly balanced, not all in one shard


@pytest.mark.parametrize("spec", ["0/3", "4/3", "2", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(spec):
    with pytest.raises(UsageError, match="N/M"):
        audit_filters.parse_shard(spec)


def _doc(rows: list[AuditRow], shard: tuple[int, int] | None) -> dict:
    rows = sorted(rows, key=AuditRow.key)  # as audit.run returns them
    result = AuditResult(tuple(rows), Summary.of(rows), shard=shard)
    return json.loads(audit_json.render(result, RenderOptions()))


def test_merge_round_trips_and_checks_every_shard_is_there():
    rows = [row(f"app:{n}", "fail" if n % 3 == 0 else "pass", revision=SHA) for n in range(20)]
    single = _doc(rows, None)
    shards = [[r for r in rows if audit_filters.in_shard(r.reference, (n, 3))] for n in (1, 2, 3)]
    docs = [(f"s{n}.json", _doc(s, (n, 3))) for n, s in enumerate(shards, 1)]
    merged = json.loads(audit_json.render(audit_merge.merge(docs), RenderOptions()))
    assert merged.pop("shards") == ["1/3", "2/3", "3/3"]
    single.pop("shards")
    assert merged == single
    with pytest.raises(UsageError, match="shard 2/3 missing"):
        audit_merge.merge([docs[0], docs[2]])
    with pytest.raises(UsageError, match=r"more than once|also in"):
        audit_merge.merge([docs[0], docs[0], docs[1], docs[2]])


def test_merge_refuses_other_json(tmp_path):
    path = tmp_path / "report.json"
    path.write_text('{"schema": "mb-ci/report", "version": 1}')
    with pytest.raises(UsageError, match="not an mb-ci audit report"):
        audit_merge.load(str(path))
    path.write_text("{")
    with pytest.raises(UsageError, match="not JSON"):
        audit_merge.load(str(path))


def test_merge_reads_jsonl_reports_as_their_json_twins(tmp_path):
    from mb_ci.audit import report_jsonl

    rows = [row(f"app:{n}", "fail" if n % 3 == 0 else "pass", revision=SHA) for n in range(6)]
    result = AuditResult(tuple(sorted(rows, key=AuditRow.key)), Summary.of(rows), shard=(1, 1))
    path = tmp_path / "s1.jsonl"
    path.write_text(report_jsonl.render(result, RenderOptions()))
    assert audit_merge.load(str(path)) == json.loads(audit_json.render(result, RenderOptions()))
    broken = path.read_text().splitlines()
    broken[2] = broken[2][:-1]  # a line cut short
    path.write_text("\n".join(broken) + "\n")
    with pytest.raises(UsageError, match=r"s1\.jsonl:3: not a JSON line"):
        audit_merge.load(str(path))
    path.write_text('{"reference": "a"}\n{"reference": "b"}\n')  # no envelope last
    with pytest.raises(UsageError, match="not an mb-ci audit report"):
        audit_merge.load(str(path))


# --- reporters -------------------------------------------------------------------------------

HOSTILE = "=cmd|' /C calc'!A0\x1b[31m"


def _result() -> AuditResult:
    rows = (
        row("app:1", revision=SHA, source="https://github.com/acme/widget", version="1.0"),
        row("app:2", "fail", created="2024-01-01T00:00:00Z"),
        AuditRow("app:3", "unreadable", error="app:3: no such image in the Docker engine"),
        AuditRow("evil", "pass", concepts={"revision": "x", "source": HOSTILE}),
    )
    return AuditResult(rows, Summary.of(rows))


def test_text_report_golden():
    assert audit_text.render(_result(), RenderOptions()) == (
        "IMAGE  REVISION      SOURCE                          VERSION  CREATED"
        "               VERDICT     NOTES\n"
        "app:1  0123456789ab  https://github.com/acme/widget  1.0      -"
        "                     pass\n"
        "app:2  -             -                               -        2024-01-01T00:00:00Z"
        "  fail        no origin labels\n"
        "app:3  -             -                               -        -"
        "                     unreadable\n"
        "evil   x             =cmd|' /C calc'!A0\\x1b[31m      -        -"
        "                     pass\n"
        "\n"
        "app:2:\n"
        "  error [label-required] org.opencontainers.image.source missing\n"
        "app:3:\n"
        "  could not inspect: app:3: no such image in the Docker engine\n"
        "\n"
        "4 images audited: 2 passed, 1 failed, 1 unreadable; 1 without origin labels\n"
    )


def test_csv_report_escapes_formulas_and_control_characters():
    text = audit_csv.render(_result(), RenderOptions())
    lines = text.splitlines()
    assert lines[0].startswith("container,reference,verdict,image_id,digest,revision,source")
    assert len(lines) == 5
    evil = lines[4]
    assert "'=cmd|" in evil and "\x1b" not in evil and "\\x1b[31m" in evil
    assert ",fail," in lines[2] and "label-required" in lines[2]


def test_json_report_envelope():
    data = json.loads(audit_json.render(_result(), RenderOptions()))
    assert data["schema"] == "mb-ci/audit" and data["version"] == 1
    assert data["result"] == "fail"
    assert data["summary"] == {
        "audited": 4,
        "passed": 2,
        "failed": 1,
        "unreadable": 1,
        "dangling": 0,
        "no_origin": 1,
        "shown": 4,
    }
    assert data["images"][1]["findings"][0]["check"] == "label-required"


def test_exit_codes():
    rows = (row("a"), row("b", "fail"))
    assert AuditResult(rows, Summary.of(rows)).exit_code() == 1
    assert AuditResult(rows, Summary.of(rows)).exit_code(report_only=True) == 0
    unread = (row("a"), AuditRow("b", "unreadable", error="gone"))
    assert AuditResult(unread, Summary.of(unread)).exit_code() == 3


# --- progress ------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_tty_and_plain_lines_elsewhere():
    plain = io.StringIO()
    progress = Progress(plain)
    progress(1, 2, row("app:\x1b]0;pwned\x07"))
    progress(2, 2, row("app:2", "fail"))
    progress.close()
    assert plain.getvalue() == (
        "mb-ci audit: 1/2 app:\\x1b]0;pwned\\x07: pass\nmb-ci audit: 2/2 app:2: fail\n"
    )
    tty = _Tty()
    bar = Progress(tty)
    bar(1, 4, row("a"))
    bar(4, 4, row("b", "fail"))
    bar.close()
    out = tty.getvalue()
    assert "\r" in out and "[" + "#" * 30 + "] 4/4, 1 not passing" in out and "\n" not in out


def test_run_bounds_concurrency_and_turns_errors_into_rows():
    import threading
    import time

    from mb_ci.errors import ImageError
    from mb_ci.models import ImageFacts, PlatformFacts

    live, peak, lock = [0], [0], threading.Lock()

    def inspect(target: audit.Target) -> ImageFacts:
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.01)
        with lock:
            live[0] -= 1
        if target.reference == "bad":
            raise ImageError("bad: no such image")
        return ImageFacts(target.reference, "docker-daemon", (PlatformFacts(None, {}),))

    def decide(target: audit.Target, image: ImageFacts) -> AuditRow:
        return AuditRow(target.reference, "pass")

    targets = [audit.Target(f"img{n:02}") for n in range(20)] + [audit.Target("bad")]
    rows = audit.run(targets, inspect, decide, jobs=3)
    assert peak[0] <= 3
    assert [r.reference for r in rows] == sorted(t.reference for t in targets)
    assert rows[0].verdict == "unreadable" and "no such image" in (rows[0].error or "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--where", "revision=main", "img"), "--where revision=main: not a commit SHA"),
        (("--shard", "3/2", "img"), "--shard 3/2: expected N/M"),
        (("--since", "soon", "img"), "--since soon: not a time"),
        (("img", "--merge", "a.json"), "--merge combines reports"),
        (("docker://127.0.0.1:1/app:1", "--all-tags"), "names a tag or digest"),
        (("--report", "xml=out.xml", "img"), "--report xml=out.xml"),
        (("--jobs", "0", "img"), "--jobs 0"),
        (("bad ref",), "is not an image reference"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args, message, mbci, tmp_path):
    result = mbci("audit", "--no-git", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
