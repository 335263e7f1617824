"""One big log read by two workers, each a range of its chunks: the case must hold exactly what
one worker reading the whole file stores, row for row, a damaged chunk included."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from logonscope.storage import pieces
from logonscope.storage.case import event_files, read_evidence
from logonscope.storage.chunks import CHUNK_SIZE, HEADER_SIZE, scan_chunks
from logonscope.storage.ingest import ingest
from tests.evtx_cases import write_rdp_logons


def _rows(case: Path) -> list[tuple]:
    con = duckdb.connect()
    rows = con.execute(
        "SELECT * EXCLUDE (evidence_sha256) FROM read_parquet(?) ORDER BY record_id",
        [event_files(case)],
    ).fetchall()
    con.close()
    return rows


def _evidence(case: Path) -> dict:
    row = read_evidence(case).to_pylist()[0]
    return {k: row[k] for k in ("sha256", "records", "stored", "duplicates", "skipped")} | {
        "errors": sorted(row["errors"])
    }


@pytest.fixture
def big_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A log of several chunks, cut into ranges of at least two chunks."""
    monkeypatch.setattr(pieces, "MIN_CHUNKS", 2)
    logons = [("WS01", f"user{i % 7}", f"10.0.0.{i % 250}") for i in range(1500)]
    path = write_rdp_logons(tmp_path / "logs" / "Security.evtx", logons)
    assert len(scan_chunks(path)) >= 4
    return path


def _split_and_whole(tmp_path: Path, source: Path) -> tuple[Path, Path]:
    whole = tmp_path / "whole"
    assert ingest([source], whole, jobs=1).records
    split = tmp_path / "split"
    ingest([source], split, jobs=2)
    # two workers, two ranges: one time-sorted events file each
    assert len(event_files(split)) == 2 and len(event_files(whole)) == 1
    return whole, split


def test_a_log_read_in_ranges_stores_what_one_reader_stores(tmp_path, big_log) -> None:
    whole, split = _split_and_whole(tmp_path, big_log)
    assert _evidence(split) == _evidence(whole)
    assert _evidence(split)["stored"] == 1500
    assert _rows(split) == _rows(whole)


def test_a_damaged_chunk_in_one_range_is_counted(tmp_path, big_log) -> None:
    damaged = tmp_path / "damaged" / "Security.evtx"
    damaged.parent.mkdir()
    data = bytearray(big_log.read_bytes())
    chunk = len(scan_chunks(big_log)) - 2  # in the second range
    base = HEADER_SIZE + chunk * CHUNK_SIZE
    at = base + 512
    for _ in range(10):
        at = data.index(b"**\x00\x00", at + 4)
    data[at + 4 : at + 8] = b"\xff\xff\x00\x00"  # a record's size points past the chunk
    damaged.write_bytes(bytes(data))
    whole, split = _split_and_whole(tmp_path, damaged)
    assert _evidence(split) == _evidence(whole)
    evidence = _evidence(split)
    assert 0 < evidence["skipped"] and evidence["stored"] + evidence["skipped"] == 1500
    assert any(e.startswith(f"chunk {chunk}: evtx read") for e in evidence["errors"])
    assert _rows(split) == _rows(whole)


def test_a_file_larger_than_a_workers_share_is_cut_into_disjoint_ranges(tmp_path) -> None:
    from logonscope.storage.discover import Candidate

    chunks = 4 * pieces.MIN_CHUNKS + 3
    big = Candidate("big.evtx", tmp_path / "big.evtx", HEADER_SIZE + chunks * CHUNK_SIZE, 0.0)
    small = Candidate("small.evtx", tmp_path / "small.evtx", HEADER_SIZE + CHUNK_SIZE, 0.0)
    work, owner, decided = pieces.split([small, big], 4, {}, lambda path: "f" * 64)
    assert not decided and work[0] is small and owner == [0] + [1] * (len(work) - 1)
    ranges = [w.span for w in work[1:] if isinstance(w, pieces.Piece)]
    assert len(ranges) == 4 == len(work) - 1
    covered = [n for span in ranges for n in range(span.first, span.stop)]
    assert covered == list(range(chunks)) and [s.to_end for s in ranges] == [0, 0, 0, 1]
    assert sum(w.size for w in work[1:]) == big.size
    # one that the case holds already is not read at all
    work, owner, decided = pieces.split([big], 2, {"f" * 64: "earlier.evtx"}, lambda p: "f" * 64)
    assert work == [] and decided[0].status == "known"
