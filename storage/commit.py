"""The commit of an ingest (main process, under the case lock): deduplicate the staged rows
within the run and against the case, write one time-sorted events file per host for this run,
then evidence.parquet, whose atomic replacement is the commit point (storage.case).

A record already stored from another copy of the same log is a duplicate, keyed on host,
channel, EventRecordID, TimeCreated and EventID.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from logonscope.storage import case as case_folder
from logonscope.storage import connection
from logonscope.storage.outcomes import FileResult
from logonscope.storage.schema import EVIDENCE_SCHEMA

DEDUP_KEY = ("host", "channel", "record_id", "time", "event_id")


def commit(root: Path, evidence: pa.Table, new: list[FileResult], staged: list[str]) -> None:
    """Store the staged rows of the `new` files, then record them as evidence."""
    _write_events(root, new, staged)
    _write_evidence(root, evidence, new)


def _write_events(root: Path, new: list[FileResult], staged: list[str]) -> None:
    run = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    if not staged:  # only empty logs: nothing to store, but they are evidence all the same
        return
    # Bounded memory whatever the input: DuckDB spills the sort to the staging folder.
    con = connection.connect(root)
    order = pa.table(
        {"evidence_sha256": [r.sha256 for r in new], "file_order": list(range(len(new)))}
    )
    con.register("_order", order)
    con.read_parquet(staged).create_view("_staged")
    existing = case_folder.event_files(root)
    key = ", ".join(DEDUP_KEY)
    same = " AND ".join(f"n.{k} IS NOT DISTINCT FROM e.{k}" for k in DEDUP_KEY)
    if existing:
        con.read_parquet(existing).select(*DEDUP_KEY).create_view("_existing")
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
    stored: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    host_keys = [row[0] for row in con.execute("SELECT DISTINCT host_key FROM _new").fetchall()]
    for hk in sorted(host_keys, key=lambda h: (h is None, h or "")):
        relative = f"{case_folder.EVENTS}/{case_folder.partition_name(hk)}/{run}.parquet"
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        rows = con.table("_new").filter(
            duckdb.ColumnExpression("host_key").isnull()
            if hk is None
            else duckdb.ColumnExpression("host_key") == duckdb.ConstantExpression(hk)
        )
        # _new is stored in (host_key, time) order and scans keep insertion order
        rows.write_parquet(str(target), compression="zstd", row_group_size=100_000)
        for sha, count in rows.aggregate("evidence_sha256, count(*)").fetchall():
            stored[sha] = stored.get(sha, 0) + count
            files.setdefault(sha, []).append(relative)
    connection.close(con)
    for result in new:
        result.stored = stored.get(result.sha256, 0)
        result.duplicates = result.records - result.stored
        result.event_files = files.get(result.sha256, [])


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
