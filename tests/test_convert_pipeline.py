"""The normalise thread: records spread over several batches all arrive, and a failure in
that thread stops the ingest with the case untouched instead of hanging or losing rows."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from logonscope.storage import convert
from logonscope.storage.case import CaseIOError, connect
from logonscope.storage.ingest import ingest
from tests.hostile_files import logons


def test_records_over_many_batches_are_all_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(convert, "BATCH_ROWS", 7)  # 3 files x 40 records: 18 batches
    files = [logons(tmp_path / f"s{i}.evtx", 40, host=f"H{i}") for i in range(3)]
    report = ingest(files, tmp_path / "c", jobs=1)
    assert report.records == 120
    rows = connect(tmp_path / "c").execute(
        "select host, count(*), count(distinct record_id) from events group by host order by host"
    )
    assert rows.fetchall() == [("H0", 40, 40), ("H1", 40, 40), ("H2", 40, 40)]


def test_a_failure_in_the_normalise_thread_stops_the_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(convert._Stager, "_write", lambda self, *batch: disk_full())
    files = [logons(tmp_path / f"s{i}.evtx", 30, host=f"H{i}") for i in range(2)]
    with pytest.raises(CaseIOError, match="No space left"):
        ingest(files, tmp_path / "c", jobs=1)
    assert not [t for t in threading.enumerate() if t.name == "normalise"]
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [".lock", "case.json"]


def test_a_failure_splitting_a_full_part_stops_the_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full parts are split by their own thread: its failure reaches the caller too."""

    split = convert.split_by_host

    def disk_full(*args: Any) -> list[str]:
        if threading.current_thread().name == "split":
            raise OSError(28, "No space left on device")
        return split(*args)  # the last part, split by the caller at the end

    monkeypatch.setattr(convert, "BATCH_ROWS", 7)
    monkeypatch.setattr(convert, "part_rows", lambda threads: 30)  # 80 rows: 2 full parts
    monkeypatch.setattr(convert, "split_by_host", disk_full)
    files = [logons(tmp_path / f"s{i}.evtx", 40, host=f"H{i}") for i in range(2)]
    with pytest.raises(CaseIOError, match="No space left"):
        ingest(files, tmp_path / "c", jobs=1)
    assert not [t for t in threading.enumerate() if t.name in ("normalise", "split")]
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [".lock", "case.json"]


def test_staged_rows_cut_into_parts_store_the_same_rows_time_sorted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [logons(tmp_path / f"s{i}.evtx", 40, host=f"H{i}") for i in range(3)]
    ingest(files, tmp_path / "whole", jobs=1)
    monkeypatch.setattr(convert, "TICK_RECORDS", 10)  # the parser's runs: 10 records
    monkeypatch.setattr(convert, "BATCH_ROWS", 7)
    monkeypatch.setattr(convert, "part_rows", lambda threads: 30)  # 120 rows: 4 parts
    report = ingest(files, tmp_path / "parts", jobs=1)
    assert report.records == 120
    query = "select * exclude (evidence_sha256) from events order by all"
    whole = connect(tmp_path / "whole").execute(query).fetchall()
    parts = connect(tmp_path / "parts").execute(query).fetchall()
    assert len(parts) == 120 and parts == whole
    stored = sorted((tmp_path / "parts" / "events").rglob("*.parquet"))
    assert len(stored) > 3  # a host cut by a part boundary has two files
    for path in stored:
        times = connect(tmp_path / "parts").execute("select time from read_parquet(?)", [str(path)])
        column = [t for (t,) in times.fetchall()]
        assert column == sorted(column)


def _record(number: int, user: str) -> str:
    system = (
        '{"Computer":"H1","Channel":"Security","EventID":4624,'
        f'"EventRecordID":{number},'
        '"TimeCreated":{"#attributes":{"SystemTime":"2025-01-01T09:00:00.000000Z"}}}'
    )
    return f'{{"Event":{{"System":{system},"EventData":{{"TargetUserName":"{user}"}}}}}}'


def test_a_run_arrow_refuses_is_still_stored(tmp_path: Path) -> None:
    """A record text with a lone surrogate cannot become an Arrow string: its run stays
    Python strings and the batch is salvaged record by record, nothing lost."""
    import pyarrow.parquet as pq

    stager = convert._Stager(tmp_path / "part.parquet", 1)
    try:
        stager.extend([_record(1, "alice")], [None], "sha")
        stager.extend([_record(2, "b\udc80b")], [None], "sha")
        files = stager.close(1)
    finally:
        stager.stop()
    rows = sorted(
        (r["record_id"], r["target_user"])
        for f in files
        for r in pq.read_table(f, columns=["record_id", "target_user"]).to_pylist()
    )
    assert [r[0] for r in rows] == [1, 2] and rows[0][1] == "alice"
    dropped, notes = stager.normalise.notes("sha")
    assert dropped == 0 and len(notes) == 1 and notes[0].startswith("1 records with malformed")


def test_the_record_id_ranges_in_a_staged_files_footer_are_what_its_rows_say(
    tmp_path: Path,
) -> None:
    """The commit learns each staged file's (host, channel, evidence) record-id ranges from
    its footer; they must equal what reading the rows gives (a repeated id included)."""
    import pyarrow.parquet as pq

    from logonscope.storage import commit
    from logonscope.storage.discover import Candidate

    files = [
        logons(tmp_path / "a.evtx", 30, host="H0"),
        logons(tmp_path / "b.evtx", 20, host="H1", first_id=500),
    ]
    work = [Candidate(str(f), f, f.stat().st_size, 0.0) for f in files]
    work.append(work[0])  # the same log twice in one part: its ids repeat
    _, staged = convert.convert_files(work, {}, tmp_path / "part.parquet", "auto")
    lazy = commit._Lazy(tmp_path)
    footers = commit._ranges(lazy, staged)
    for path in staged:  # the same files without the footer: the rows are read instead
        pq.write_table(pq.read_table(path).replace_schema_metadata(None), path)
    read = commit._ranges(lazy, staged)
    lazy.close()
    assert sorted(footers, key=str) == sorted(read, key=str)
    assert sorted((r[0], r[5], r[6], r[7], r[8]) for r in footers) == [
        ("h0", 1, 30, False, 60),
        ("h1", 500, 519, True, 20),
    ]
