"""Ingest as a user watches it: counts that move while files are read, and records stored
once however the copies of a log overlap."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from logonscope.storage import convert, ingest_local
from logonscope.storage.case import event_files
from logonscope.storage.ingest import Progress, ingest
from tests.evtx_cases import write_rdp_logons


def _logons(n: int, host: str = "WS01") -> list[tuple[str, str, str]]:
    return [(host, f"user{i % 7}", f"10.0.{i // 250 % 250}.{i % 250}") for i in range(n)]


def _stored_keys(case: Path) -> list[tuple]:
    files = event_files(case)
    if not files:
        return []
    con = duckdb.connect()
    rows = con.execute(
        "SELECT host, channel, record_id, time, event_id FROM read_parquet(?)", [files]
    ).fetchall()
    con.close()
    return rows


def test_progress_reports_increasing_counts_before_the_ingest_ends(tmp_path, monkeypatch) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_rdp_logons(logs / "Security.evtx", _logons(6000))
    # report on every clock check: the file is small, the test must not wait for seconds
    monkeypatch.setattr(convert, "TICK_SECONDS", 0.0)
    monkeypatch.setattr(convert, "TICK_RECORDS", 500)
    monkeypatch.setattr(ingest_local, "REPORT_SECONDS", 0.0)
    seen: list[Progress] = []
    report = ingest([logs], tmp_path / "case", jobs=1, progress=seen.append)
    assert report.records == 6000
    reading = [p for p in seen if p.stage == "read" and p.files_done == 0 and p.records]
    counts = [p.records for p in reading]
    assert len(counts) >= 5, counts
    assert counts == sorted(counts) and len(set(counts)) == len(counts) and counts[0] < 6000
    # per file: the file being read, how far through it is, and the ETA of the rest
    assert all(len(p.current) == 1 and p.current[0].records == p.records for p in reading)
    fractions = [p.current[0].fraction for p in reading]
    assert fractions == sorted(fractions) and 0 < fractions[0] < fractions[-1] <= 0.99
    assert all(p.eta is not None for p in reading[1:])
    assert seen[-1].stage == "commit" and seen[-1].records == 6000


def test_overlapping_copies_store_each_record_once(tmp_path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    short = write_rdp_logons(logs / "Security.evtx", _logons(300))
    shutil.copy(short, logs / "Security-copy.evtx")  # the same log twice
    longer = tmp_path / "later" / "Security.evtx"  # the same log collected later, longer
    longer.parent.mkdir()
    write_rdp_logons(longer, _logons(450))
    other = tmp_path / "other" / "Security.evtx"  # another host: nothing overlaps it
    other.parent.mkdir()
    write_rdp_logons(other, _logons(200, host="SRV02"))

    case = tmp_path / "case"
    first = ingest([logs, other.parent], case, jobs=1)
    assert first.stored == 500 and len(first.of("known")) == 1
    keys = _stored_keys(case)
    assert len(keys) == 500 == len(set(keys))

    second = ingest([longer.parent], case, jobs=1)
    assert second.records == 450 and second.stored == 150
    assert second.of("stored")[0].duplicates == 300
    keys = _stored_keys(case)
    assert len(keys) == 650 == len(set(keys))

    together = tmp_path / "together"
    both = ingest([short, longer], together, jobs=2)
    assert both.records == 750 and both.stored == 450
    assert sum(f.duplicates for f in both.of("stored")) == 300
    keys = _stored_keys(together)
    assert len(keys) == 450 == len(set(keys))


@pytest.mark.parametrize("jobs", [1, 2])
def test_disjoint_logs_are_stored_whole(tmp_path, jobs) -> None:
    logs = tmp_path / "logs"
    for n, host in enumerate(("WS01", "WS02", "SRV01")):
        (logs / host).mkdir(parents=True)
        write_rdp_logons(logs / host / "Security.evtx", _logons(100 + 50 * n, host=host))
    report = ingest([logs], tmp_path / "case", jobs=jobs)
    assert report.stored == report.records == 450
    assert len(set(_stored_keys(tmp_path / "case"))) == 450
