"""Hostile and broken evidence at the storage layer: one bad record, chunk, member or path
never costs the rest, never hangs, and the counts say what was recovered and skipped."""

from __future__ import annotations

from pathlib import Path

from logonscope.storage.case import connect
from logonscope.storage.ingest import ingest
from tests.conftest import run_cli
from tests.hostile_files import logons, planted_date, quoted_user_data


def _count(case: Path, sql: str = "select count(*) from events") -> int:
    return connect(case).execute(sql).fetchone()[0]


def test_a_record_with_malformed_json_costs_only_itself(tmp_path: Path) -> None:
    quoted = quoted_user_data(tmp_path / "quoted.evtx")
    others = [logons(tmp_path / f"s{i}.evtx", 50, host=f"H{i}") for i in range(3)]
    result = run_cli("ingest", quoted, *others, "--case", tmp_path / "c", "--quiet", "--no-build")
    assert result.returncode == 0, result.stderr
    assert _count(tmp_path / "c") == 160
    row = (
        connect(tmp_path / "c")
        .execute(
            "select host, channel, event_id, record_id, data from events where channel = 'Application'"
        )
        .fetchone()
    )
    assert row[:4] == ("HOST2", "Application", 1, 6)
    assert 'Ev\\"il' in row[4]  # the raw text is kept for the analyst
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning")]
    assert warning == [
        f"warning {quoted}: 0 records skipped; 1 records with malformed JSON from evtx stored "
        "with their System fields and raw text (data.unparsed_json)"
    ]
    assert not (tmp_path / "c" / ".staging").exists()


def test_a_planted_out_of_range_date_hides_nothing(tmp_path: Path) -> None:
    planted = planted_date(tmp_path / "planted.evtx")
    report = ingest([planted], tmp_path / "c", jobs=1)
    (result,) = report.files
    assert (result.records, result.stored, result.skipped) == (100, 100, 0)
    assert result.parser == "evtx+python-evtx"
    assert "chunk 0: evtx read 0 of 100 records; python-evtx recovered 100, 0 unreadable" in (
        result.errors
    )
    assert _count(tmp_path / "c", "select count(distinct target_user) from events") == 100
