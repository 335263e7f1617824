"""The worker's per-host split: a staged part (unsorted rows of several files) sorted by host
and time in DuckDB and streamed into one zstd Parquet file per host_key, the shape the case
stores, so that the commit of a host whose records overlap nothing is a rename. Part of the
ingest's worker side (storage.convert); evidence is not read here.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from logonscope.storage import connection
from logonscope.storage.schema import EVENTS_SCHEMA

ROW_GROUP = 100_000  # rows per row group of a stored events file
# rows per batch DuckDB hands the per-host split: its Arrow export holds a few batches at once
# (~180 MB at 100k rows, ~50 MB at 20k), outside its memory limit
SPLIT_BATCH = 20_480
SORT_ROW_BYTES = 512  # an events row in memory while it is sorted (generated logs: ~430 B)


def part_rows(threads: int) -> int:
    """Staged rows that the per-host split sorts within its memory (see `split_by_host`)."""
    inline = multiprocessing.parent_process() is None
    share = 1 if inline else max(1, (os.cpu_count() or 1) // threads)
    return max(ROW_GROUP, connection.memory_budget() // (2 * share) // SORT_ROW_BYTES)


def split_by_host(path: Path, threads: int, con: duckdb.DuckDBPyConnection) -> list[str]:
    """The staged rows as one time-sorted, compressed file per host_key (what the case stores),
    so that the commit of a host whose records overlap nothing is a rename. One sorted pass
    streamed into per-host writers: a host costs a file, not a scan of every row. `con`: the
    worker's DuckDB (its normaliser's, set up already: no second start-up)."""
    inline = multiprocessing.parent_process() is None  # no other worker: use every core
    cores = os.cpu_count() or 1
    share = 1 if inline else max(1, cores // threads)
    # half the share for the sort: the batches handed over and the row group being written
    # are Arrow memory outside DuckDB's budget
    connection.limit(con, 2 * share, cores if inline else threads)
    out: list[str] = []
    writer = _HostWriter(path)
    try:
        rows = con.read_parquet(str(path), hive_partitioning=False)
        # DuckDB sorts (spilling beyond its budget), then hands the rows over in order
        for batch in rows.order("host_key, time").to_arrow_reader(SPLIT_BATCH):
            if not batch.num_rows:
                continue
            table = pa.Table.from_batches([batch]).cast(EVENTS_SCHEMA)
            runs = pc.run_end_encode(table.column("host_key")).chunk(0)
            start = 0
            for end, hk in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
                writer.write(hk, table.slice(start, end - start))
                start = end
        out = writer.close()
    finally:
        writer.close()
        connection.limit(con, max(1, cores // threads), threads)  # as the normaliser had it
    path.unlink()
    return out


class _HostWriter:
    """Zstd Parquet files beside `path`, one per host_key, rows appended in the order given;
    row groups of ROW_GROUP rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: list[str] = []
        self._writer: pq.ParquetWriter | None = None
        self._key: object = ()  # no host yet (None is a host_key: records without Computer)
        self._rows: list[pa.Table] = []
        self._count = 0

    def write(self, host_key: str | None, rows: pa.Table) -> None:
        if host_key != self._key or self._writer is None:
            self._finish()
            target = self.path.with_name(f"{self.path.stem}-host-{len(self.files)}.parquet")
            self._writer = pq.ParquetWriter(target, EVENTS_SCHEMA, compression="zstd")
            self.files.append(str(target))
            self._key = host_key
        self._rows.append(rows)
        self._count += rows.num_rows
        if self._count >= ROW_GROUP:  # a full row group out, the rest kept for the next
            held = pa.concat_tables(self._rows)
            self._rows, self._count = [held.slice(ROW_GROUP)], held.num_rows - ROW_GROUP
            self._write(held.slice(0, ROW_GROUP))

    def _write(self, rows: pa.Table) -> None:
        if rows.num_rows and self._writer is not None:
            self._writer.write_table(rows, row_group_size=ROW_GROUP)

    def _flush(self) -> None:
        if self._rows:
            self._write(pa.concat_tables(self._rows))
        self._rows, self._count = [], 0

    def _finish(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self) -> list[str]:
        self._finish()
        return list(self.files)
