"""The worker's per-host split: a part of normalised rows (several files, unsorted) sorted by
host and time in memory and written as one zstd Parquet file per host_key, the shape the case
stores, so that the commit of a host whose records overlap nothing is a rename. Part of the
ingest's worker side (storage.convert); evidence is not read here.

The rows are held as the normaliser made them (Arrow), not staged to disk and read back: a
Parquet round trip and a DuckDB sort of the whole rows cost twice what sorting two narrow
columns and gathering the rows in that order does.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from logonscope.storage import connection
from logonscope.storage.schema import EVENTS_SCHEMA

ROW_GROUP = 100_000  # rows per row group of a stored events file
# an events row held in memory (Arrow; generated logs ~740 B). Up to three parts are held at
# once (one filling, one waiting for the split thread, one being split, held twice while it is
# gathered into sorted order), beside the batches in flight: a part gets an eighth of the
# worker's share of the budget (a quarter took two 10 M workers to 690 MB each, and the
# ingest to 1.48 GB). Small parts also keep the split left after the last record short; a
# host cut by a part boundary gets two files.
PART_ROW_BYTES = 1024
_ORDER = [("host_key", "ascending"), ("time", "ascending")]
# columns whose values nearly all differ: a dictionary for them is built, overflows and is
# dropped for every page (12 % of the write's CPU, and larger files)
_UNIQUE = {
    "data",
    "record_id",
    "time",
    "process_id",
    "thread_id",
    "activity_id",
    "subject_logon_id",
    "target_logon_id",
    "linked_logon_id",
    "port",
}
_DICTIONARY = [name for name in EVENTS_SCHEMA.names if name not in _UNIQUE]
# footer key of a staged file: its (host, channel, evidence) record-id ranges, which the
# commit needs to decide whether anything can be a duplicate (storage.commit)
RANGES_KEY = b"logonscope.ranges"
_RANGE_KEYS = ["host_key", "host", "channel", "evidence_sha256"]


def part_rows(threads: int) -> int:
    """Rows of a part: what the per-host split holds and sorts within the worker's share."""
    inline = multiprocessing.parent_process() is None
    share = 1 if inline else max(1, (os.cpu_count() or 1) // threads)
    return max(ROW_GROUP, connection.memory_budget() // (8 * share) // PART_ROW_BYTES)


def split_by_host(tables: list[pa.Table], path: Path, threads: int = 1) -> list[str]:
    """The rows of `tables` (emptied here, so their memory goes as soon as it is copied) as
    one time-sorted, compressed file per host_key beside `path` (named after it): one sort of
    (host_key, time), then each host's rows gathered in that order, a row group at a time.
    Hosts are written by `threads` threads (Arrow and Parquet release the GIL): the split of
    the last part is what an ingest waits for after its last record is read."""
    part = pa.concat_tables(tables).combine_chunks()  # one contiguous copy: a cheap gather
    tables.clear()
    if not part.num_rows:
        return []
    order = pc.sort_indices(part.select(["host_key", "time"]), sort_keys=_ORDER)
    ends = pc.run_end_encode(part.column("host_key").take(order)).chunk(0).run_ends.to_pylist()
    hosts = list(enumerate(zip([0, *ends[:-1]], ends, strict=True)))
    ranges = _ranges(part)

    def write(host: tuple[int, tuple[int, int]]) -> str:
        number, (start, end) = host
        target = path.with_name(f"{path.stem}-host-{number}.parquet")
        key = part.column("host_key")[order[start].as_py()].as_py()
        footer = json.dumps({"host_key": key, "groups": ranges.get(key, [])})
        schema = EVENTS_SCHEMA.with_metadata({RANGES_KEY: footer})
        with pq.ParquetWriter(
            target, schema, compression="zstd", use_dictionary=_DICTIONARY
        ) as writer:
            for low in range(start, end, ROW_GROUP):
                rows = part.take(order.slice(low, min(end, low + ROW_GROUP) - low))
                writer.write_table(rows, row_group_size=ROW_GROUP)
        return str(target)

    if threads > 1 and len(hosts) > 1:
        with ThreadPoolExecutor(threads, thread_name_prefix="split") as pool:
            return list(pool.map(write, hosts))
    return [write(host) for host in hosts]


def _ranges(part: pa.Table) -> dict[str | None, list[list[object]]]:
    """Per host_key, its (host, channel, evidence) groups: [host, channel, sha256, first and
    last record id, whether the ids are unique and present, rows]. Counted here from the
    rows in memory, so the commit does not read every staged row back to learn them."""
    groups = part.group_by(_RANGE_KEYS, use_threads=False).aggregate(
        [
            ("record_id", "min"),
            ("record_id", "max"),
            ("record_id", "count_distinct"),
            ([], "count_all"),
        ]
    )
    out: dict[str | None, list[list[object]]] = {}
    for row in groups.to_pylist():
        rows = row["count_all"]
        unique = row["record_id_count_distinct"] == rows  # no id repeated, none missing
        out.setdefault(row["host_key"], []).append(
            [
                row["host"],
                row["channel"],
                row["evidence_sha256"],
                row["record_id_min"],
                row["record_id_max"],
                unique,
                rows,
            ]
        )
    return out
