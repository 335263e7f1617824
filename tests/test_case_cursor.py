"""A cursor of a case connection is a case connection: the same views and evidence, its own
temp tables and settings; and a connection made after the case changed sees the change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from logonscope.storage import case as case_folder
from logonscope.storage.connection import close
from tests.tui_support import demo_case


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


def test_a_cursor_sees_the_case_and_keeps_its_own_temp_tables(case: Path) -> None:
    con = case_folder.connect(case)
    first, second = case_folder.cursor(con), case_folder.cursor(con)
    try:
        for query in (
            "SELECT count(*) FROM sessions",
            "SELECT count(*) FROM evidence",
            "SELECT count(*) FROM events",
        ):
            expected = con.execute(query).fetchall()
            assert expected[0][0] > 0
            assert first.execute(query).fetchall() == expected
            assert second.execute(query).fetchall() == expected
        first.execute("CREATE TEMP TABLE _ls_q AS SELECT 1 AS x")
        with pytest.raises(Exception, match="_ls_q"):
            second.execute("SELECT * FROM _ls_q")
        assert first.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]
    finally:
        close(first)
        close(second)
        close(con)


def test_a_connection_after_the_evidence_changed_reads_the_new_evidence(
    case: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "case"
    shutil.copytree(case, copy, ignore=shutil.ignore_patterns(".spill", ".lock"))
    before = case_folder.connect(copy)
    rows = before.execute("SELECT count(*) FROM evidence").fetchall()[0][0]
    close(before)
    evidence = case_folder.read_evidence(copy)
    case_folder.write_evidence(copy, evidence.slice(0, 1))
    after = case_folder.connect(copy)
    try:
        assert rows > 1
        assert after.execute("SELECT count(*) FROM evidence").fetchall() == [(1,)]
        files = {
            f for group in evidence.slice(0, 1).column("event_files").to_pylist() for f in group
        }
        stored = sum(pq.ParquetFile(copy / f).metadata.num_rows for f in files)
        assert after.execute("SELECT count(*) FROM events").fetchall() == [(stored,)]
    finally:
        close(after)


def test_a_case_opened_through_a_relative_symlink_then_by_its_own_path_reads_its_events(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another spelling of the same case (relative, through a symlink, from another folder)
    must not leave paths that only resolve from that folder."""
    copy = tmp_path / "case"  # a case this process has not opened yet
    shutil.copytree(case, copy, ignore=shutil.ignore_patterns(".spill", ".lock"))
    (tmp_path / "linked").symlink_to(copy, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    via_link = case_folder.connect(Path("linked"))
    expected = via_link.execute("SELECT count(*) FROM events").fetchall()
    close(via_link)
    monkeypatch.chdir(case.parent)
    direct = case_folder.connect(copy)
    try:
        assert expected[0][0] > 0
        assert direct.execute("SELECT count(*) FROM events").fetchall() == expected
    finally:
        close(direct)
