"""The commit of an ingest (main process, under the case lock): move the workers' sorted,
compressed per-host files into the case (deduplicating the hosts whose record ranges overlap),
then write evidence.parquet, whose atomic replacement is the commit point (storage.case).

A record already stored from another copy of the same log is a duplicate, keyed on host,
channel, EventRecordID, TimeCreated and EventID; it can only be one when the (host, channel)
record-id ranges of two files overlap, so the dedup window runs only then.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from logonscope.storage import case as case_folder
from logonscope.storage import connection
from logonscope.storage.host_split import RANGES_KEY, ROW_GROUP
from logonscope.storage.outcomes import FileResult
from logonscope.storage.schema import EVIDENCE_SCHEMA

DEDUP_KEY = ("host", "channel", "record_id", "time", "event_id")


def commit(root: Path, evidence: pa.Table, new: list[FileResult], staged: list[str]) -> None:
    """Store the staged rows of the `new` files, then record them as evidence."""
    _write_events(root, new, staged)
    _write_evidence(root, evidence, new)


def _write_events(root: Path, new: list[FileResult], staged: list[str]) -> None:
    """Each host's events of this run: the workers' time-sorted files moved into place when
    nothing overlaps (a host read by two workers gets two files, as two runs would), else
    deduplicated into one file in time order."""
    run = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    if not staged:  # only empty logs: nothing to store, but they are evidence all the same
        return
    # Bounded memory whatever the input: DuckDB spills the sort to the staging folder. It is
    # started only when needed: a first ingest whose logs overlap nothing is renames.
    lazy = _Lazy(root)
    ranges = _ranges(lazy, staged)
    overlapping = _overlapping_hosts(lazy, root, ranges)
    shas = {r.sha256 for r in new}
    by_host: dict[str | None, list[str]] = {}
    for row in ranges:
        if row[4] in shas and row[0] not in overlapping:
            host_files = by_host.setdefault(row[0], [])
            host_files += [] if row[3] in host_files else [row[3]]
    stored: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    used: set[str] = set()

    def target(hk: str | None) -> tuple[str, Path]:
        folder = f"{case_folder.EVENTS}/{case_folder.partition_name(hk)}"
        relative, number = f"{folder}/{run}.parquet", 1
        while relative in used:  # two host_keys, one folder name
            number += 1
            relative = f"{folder}/{run}-{number}.parquet"
        used.add(relative)
        (root / folder).mkdir(parents=True, exist_ok=True)
        return relative, root / relative

    def note(relative: str, counts: list[tuple[str, int]]) -> None:
        for sha, count in counts:
            stored[sha] = stored.get(sha, 0) + count
            files.setdefault(sha, []).append(relative)

    for hk, paths in sorted(by_host.items(), key=lambda h: (h[0] is None, h[0] or "")):
        for staged_file in paths:  # each time-sorted: stored as is, like a later run's file
            relative, path = target(hk)
            os.replace(staged_file, path)
            counts: dict[str, int] = {}
            for row in ranges:
                if row[0] == hk and row[3] == staged_file:
                    counts[row[4]] = counts.get(row[4], 0) + row[8]
            note(relative, sorted(counts.items()))
    if overlapping:
        _write_deduplicated(lazy.con(), root, new, ranges, overlapping, target, note)
    lazy.close()
    for result in new:
        result.stored = stored.get(result.sha256, 0)
        result.duplicates = result.records - result.stored
        result.event_files = files.get(result.sha256, [])


def _write_deduplicated(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    new: list[FileResult],
    ranges: list[tuple[Any, ...]],
    overlapping: set[str | None],
    target: Callable[[str | None], tuple[str, Path]],
    note: Callable[[str, list[tuple[str, int]]], None],
) -> None:
    """The hosts whose record ranges overlap: the first copy of each record (in input order)
    that the case does not hold yet."""
    order = pa.table(
        {"evidence_sha256": [r.sha256 for r in new], "file_order": list(range(len(new)))}
    )
    con.register("_order", order)
    paths = sorted({r[3] for r in ranges if r[0] in overlapping})
    con.read_parquet(paths, hive_partitioning=False).create_view("_staged")
    key = ", ".join(DEDUP_KEY)
    same = " AND ".join(f"n.{k} IS NOT DISTINCT FROM e.{k}" for k in DEDUP_KEY)
    existing = _partition_files(root, overlapping)
    if existing:
        # the folder name (host=...) must not stand in for the host column
        rel = con.read_parquet(existing, hive_partitioning=False)
        rel.select(*DEDUP_KEY).create_view("_existing")
        against_case = f"WHERE NOT EXISTS (SELECT 1 FROM _existing e WHERE {same})"
    else:
        against_case = ""
    con.execute(f"""
        CREATE TEMP TABLE _new AS
        SELECT n.* FROM (
            SELECT s.* FROM _staged s JOIN _order o USING (evidence_sha256)
            QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY o.file_order) = 1
        ) n {against_case}
        ORDER BY host_key, time
    """)
    host_keys = [row[0] for row in con.execute("SELECT DISTINCT host_key FROM _new").fetchall()]
    for hk in sorted(host_keys, key=lambda h: (h is None, h or "")):
        relative, path = target(hk)
        rows = con.table("_new").filter(
            duckdb.ColumnExpression("host_key").isnull()
            if hk is None
            else duckdb.ColumnExpression("host_key") == duckdb.ConstantExpression(hk)
        )
        # _new is stored in (host_key, time) order and scans keep insertion order
        rows.write_parquet(str(path), compression="zstd", row_group_size=ROW_GROUP)
        note(relative, rows.aggregate("evidence_sha256, count(*)").fetchall())


class _Lazy:
    """The commit's DuckDB connection, opened on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._con: duckdb.DuckDBPyConnection | None = None

    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = connection.connect(self.root)
        return self._con

    def close(self) -> None:
        if self._con is not None:
            connection.close(self._con)


def _ranges(lazy: _Lazy, staged: list[str]) -> list[tuple[Any, ...]]:
    """Per staged file, host and channel: (host_key, host, channel, file, sha256, first and
    last record id, whether the ids are unique and present, rows). The worker's split wrote
    them in each file's footer (storage.host_split); a file without them is read whole."""
    out: list[tuple[Any, ...]] = []
    unread = []
    for path in staged:
        metadata = pq.read_schema(path).metadata or {}
        if RANGES_KEY not in metadata:
            unread.append(path)
            continue
        footer = json.loads(metadata[RANGES_KEY])
        for host, channel, sha, lo, hi, unique, rows in footer["groups"]:
            out.append((footer["host_key"], host, channel, path, sha, lo, hi, unique, rows))
    if unread:
        out += (
            lazy.con()
            .execute(
                """
            SELECT host_key, host, channel, filename, evidence_sha256, min(record_id),
                   max(record_id), count(*) = count(DISTINCT record_id), count(*)
            FROM read_parquet(?, filename = true, hive_partitioning = false) GROUP BY ALL
            """,
                [unread],
            )
            .fetchall()
        )
    return out


def _overlapping_hosts(lazy: _Lazy, root: Path, ranges: list[tuple[Any, ...]]) -> set[str | None]:
    """host_keys whose new records may repeat a record: a staged file's (host, channel)
    record-id range overlaps another's (two copies, a log and its longer copy, one log given
    twice) or one already in the case, or repeats or lacks ids within itself. Only their rows
    go through the dedup window: a duplicate has the same host, channel and record id."""
    flagged = {r[0] for r in ranges if not r[7] or r[5] is None}
    spans: dict[
        tuple[Any, ...], list[tuple[int, int, bool]]
    ] = {}  # (host, channel) -> (lo, hi, new)
    keys: dict[tuple[Any, ...], str | None] = {}
    for hk, host, channel, _, _, lo, hi, _, _ in ranges:
        if lo is not None:
            spans.setdefault((host, channel), []).append((lo, hi, True))
            keys[(host, channel)] = hk
    existing = _partition_files(root, {r[0] for r in ranges})
    if existing:
        rows = (
            lazy.con()
            .execute(
                """
            SELECT host, channel, min(record_id), max(record_id), count(record_id) < count(*)
            FROM read_parquet(?, hive_partitioning = false)
            GROUP BY host, channel, evidence_sha256
            """,
                [existing],
            )
            .fetchall()
        )
        for host, channel, lo, hi, nulls in rows:
            if (host, channel) in spans:
                whole = nulls or lo is None
                spans[(host, channel)].append((-1, 1 << 62, False) if whole else (lo, hi, False))
    for group, intervals in spans.items():
        # overlap with a new range: any range that starts before the farthest end so far
        intervals.sort()
        reach_all: int | None = None
        reach_new: int | None = None
        for lo, hi, is_new in intervals:
            reach = reach_all if is_new else reach_new
            if reach is not None and lo <= reach:
                flagged.add(keys[group])
                break
            reach_all = hi if reach_all is None else max(reach_all, hi)
            if is_new:
                reach_new = hi if reach_new is None else max(reach_new, hi)
    return flagged


def _partition_files(root: Path, host_keys: set[str | None]) -> list[str]:
    """The case's events files in the partitions of `host_keys`."""
    folders = {case_folder.partition_name(hk) for hk in host_keys}
    return [f for f in case_folder.event_files(root) if Path(f).parent.name in folders]


def _write_evidence(root: Path, evidence: pa.Table, new: list[FileResult]) -> None:
    now = datetime.now(timezone.utc)
    rows = pa.Table.from_pylist(
        [
            {
                "path": r.source,
                "sha256": r.sha256,
                "size": r.size,
                "mtime": datetime.fromtimestamp(r.mtime, timezone.utc),
                "parser": r.parser,
                "records": r.records,
                "stored": r.stored,
                "duplicates": r.duplicates,
                "skipped": r.skipped,
                "errors": r.errors,
                "hosts": r.hosts,
                "event_files": r.event_files,
                "ingested_at": now,
                "collected_from": r.collected_from,
            }
            for r in new
        ],
        schema=EVIDENCE_SCHEMA,
    )
    case_folder.write_evidence(root, pa.concat_tables([evidence, rows]))
