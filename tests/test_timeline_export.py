"""Timesketch JSONL and Timeline Explorer CSV exports, as a responder imports them.

Timesketch needs `message`, `datetime` (ISO 8601) and `timestamp_desc` on every line; Timeline
Explorer needs a header and times it reads as dates. Both must come out byte-identical when the
same case is exported twice (so two exports diff), and the CSV keeps the command line's CSV
hygiene against hostile evidence strings.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from logonscope.tui.app import make_app
from logonscope.tui.screens.export import ExportScreen
from logonscope.tui.screens.main import MainScreen
from tests.conftest import run_cli_inline
from tests.tui_support import EVIL_USER, async_test, crafted_case, demo_case, settle

REQUIRED = ("message", "datetime", "timestamp_desc")


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


def _run(*args: object) -> str:
    done = run_cli_inline(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _timesketch_lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed and checked against Timesketch's required fields."""
    lines = [json.loads(line) for line in text.splitlines()]
    for line in lines:
        for field in REQUIRED:
            assert isinstance(line.get(field), str) and line[field], (field, line)
        when = dt.datetime.fromisoformat(line["datetime"])
        assert when.utcoffset() == dt.timedelta(0), line["datetime"]
        assert line["timestamp"] == round(when.timestamp() * 1_000_000)
    return lines


def test_sessions_as_timesketch_jsonl_have_a_start_record_each_and_an_end_when_known(
    case: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sessions.jsonl"
    _run("sessions", "--case", case, "--all", "--format", "timesketch", "--out", out)
    lines = _timesketch_lines(out.read_text(encoding="utf-8"))
    sessions = json.loads(_run("sessions", "--case", case, "--all", "--format", "json"))
    starts = [line for line in lines if line["timestamp_desc"] != "Session end"]
    ends = [line for line in lines if line["timestamp_desc"] == "Session end"]
    assert sorted(line["session_id"] for line in starts) == sorted(
        s["session_id"] for s in sessions
    )
    ended = [s for s in sessions if s["end"] and s["outcome"] != "failure"]
    assert sorted(line["session_id"] for line in ends) == sorted(s["session_id"] for s in ended)
    failed = next(line for line in starts if line["outcome"] == "failure")
    assert failed["timestamp_desc"] == "Failed logon" and failed["user"] in failed["message"]
    times = [line["timestamp"] for line in lines]
    assert times == sorted(times)  # one timeline, oldest first


def test_one_session_as_timesketch_holds_its_sources_and_activity(
    case: Path, tmp_path: Path
) -> None:
    sessions = json.loads(_run("sessions", "--case", case, "--format", "json"))
    busy = next(s for s in sessions if s["n_activity"] > 0)
    detail = json.loads(_run("session", busy["session_id"], "--case", case, "--format", "json"))
    out = tmp_path / "session.jsonl"
    _run("session", busy["session_id"], "--case", case, "--format", "timesketch", "--out", out)
    lines = _timesketch_lines(out.read_text(encoding="utf-8"))
    kinds = [line["data_type"] for line in lines]
    assert kinds.count("logonscope:session:source") == len(detail["sources"])
    assert kinds.count("logonscope:session:activity") == len(detail["activity"]) > 0
    assert {line["session_id"] for line in lines} == {busy["session_id"]}
    logon = next(line for line in lines if line.get("event_id") == 4624)
    assert "4624" in logon["message"] and logon["target_user"]  # the event's key fields


def test_two_exports_of_the_same_case_are_byte_identical(case: Path, tmp_path: Path) -> None:
    sessions = json.loads(_run("sessions", "--case", case, "--format", "json"))
    busy = next(s for s in sessions if s["n_activity"] > 0)["session_id"]
    for fmt, what in (("timesketch", ["sessions", "--all"]), ("tle", ["session", busy])):
        first, second = tmp_path / f"{fmt}-1", tmp_path / f"{fmt}-2"
        for out in (first, second):
            _run(*what, "--case", case, "--format", fmt, "--out", out)
        assert first.read_bytes() == second.read_bytes() and first.stat().st_size > 0


def test_timeline_explorer_csv_has_dates_first_and_keeps_the_csv_hygiene(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    crafted = crafted_case(tmp_path_factory)
    text = _run("sessions", "--case", crafted, "--format", "tle")
    assert "\x1b" not in text and "\x07" not in text  # the hostile user name, made visible
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:3] == ["datetime", "timestamp_desc", "message"]
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
    assert all(stamp.match(r["datetime"]) and stamp.match(r["start"]) for r in rows)
    evil = [r for r in rows if r["user"].startswith("[red]")]
    assert evil and all("\\x1b" in r["user"] and "\\x1b" in r["message"] for r in evil)
    assert EVIL_USER not in text


def test_a_cell_that_would_start_a_formula_is_neutralised_in_the_timeline_csv() -> None:
    from logonscope.tui.output import write

    start = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.timezone.utc)
    table = pa.table(
        {
            "session_id": ["s1"],
            "start": pa.array([start], pa.timestamp("us", tz="UTC")),
            "end": pa.array([None], pa.timestamp("us", tz="UTC")),
            "user": ['=HYPERLINK("http://x","y")'],
            "host": ["-2+3"],
            "outcome": ["success"],
        }
    )
    out = io.StringIO()
    write(table, "tle", out)
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["user"].startswith("'=") and row["host"] == "'-2+3"
    assert row["message"].startswith("Logon: ")
    out = io.StringIO()
    write(table, "timesketch", out)
    assert json.loads(out.getvalue())["user"] == table["user"][0].as_py()  # JSON stays exact


def test_a_table_without_times_has_no_timeline() -> None:
    from logonscope.tui.output import write

    with pytest.raises(ValueError, match="timeline"):
        write(pa.table({"user": ["alice"], "sessions": [3]}), "timesketch", io.StringIO())


@async_test
async def test_the_export_dialog_writes_the_sessions_view_for_timesketch(
    case: Path, tmp_path: Path
) -> None:
    target = tmp_path / "sessions-timesketch.jsonl"
    app = make_app(case, label="demo", read_ahead=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("e")  # Users: no timeline to offer
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert not app.screen.query("#format-timesketch")
        await pilot.press("escape")
        await pilot.press("tab", "tab")  # Sessions of the first user
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        expected = main.pane("sessions").shaped.view
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab", "right", "right", "right", "enter")  # CSV -> ... Timesketch
        path = app.screen.query_one("#export-path")
        assert path.value.endswith(".jsonl") and path.has_focus  # suffix set, back to the path
        path.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    lines = _timesketch_lines(target.read_text(encoding="utf-8"))
    starts = {line["session_id"] for line in lines if line["timestamp_desc"] != "Session end"}
    assert starts == set(expected.column("session_id").to_pylist()) and starts


def test_csv_written_column_by_column_equals_the_per_cell_rule() -> None:
    """The CSV writer converts whole columns (times by DuckDB, strings checked by one regex);
    every cell must still be what `csv_cell(_plain(value))` makes of it."""
    from logonscope.tui.output import _plain, csv_cell, write

    utc = dt.timezone.utc
    hostile = ["=1+2", "-x", "ok", None, "\x1b[31m", "caf\u00e9", "a\u202eb", "\tz", "@a", 'a,"b\n']
    n = len(hostile)
    table = pa.table(
        {
            "text": hostile,
            "ms": pa.array(
                [dt.datetime(2020, 1, 1, tzinfo=utc)] * (n - 1) + [None],
                pa.timestamp("ms", tz="UTC"),
            ),
            "paris": pa.array(
                [dt.datetime(1601, 1, 1, tzinfo=utc)] * n, pa.timestamp("us", tz="Europe/Paris")
            ),
            "naive": pa.array([dt.datetime(2020, 1, 1, 1, 2, 3, 4500)] * n, pa.timestamp("s")),
            "number": [-1, None, *range(n - 2)],
            "flag": [True, None] * (n // 2),
            "words": [[v] if v is not None else None for v in hostile],
            "ids": [[1, None], None, *[[i] for i in range(n - 2)]],
        }
    )
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow([csv_cell(_plain(v)) for v in row.values()])
    out = io.StringIO()
    write(table, "csv", out)
    assert out.getvalue() == expected.getvalue()
    assert "\x1b" not in out.getvalue() and "'=1+2" in out.getvalue()
