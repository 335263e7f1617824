"""Ingest evidence into a case: discover, hash, parse, normalise, stage, deduplicate, commit.

Parallel over files (`jobs` worker processes), streaming in bounded batches, incremental (a
file whose SHA-256 the case already holds is skipped; a record already stored from another
copy of the same log is counted as a duplicate, keyed on host, channel, EventRecordID,
TimeCreated and EventID), atomic (see storage.case) and accountable: every file ends as
stored, known or rejected with a reason, and every record as stored, duplicate or skipped.
Evidence is only ever opened for reading. Progress goes to a callback; no printing here.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from storage import case as case_folder
from storage.discover import Candidate, Rejection, discover
from storage.normalise import Normaliser
from storage.parse import ReadReport, read_records
from storage.schema import EVENTS_SCHEMA

BATCH_ROWS = 50_000
DEDUP_KEY = ("host", "channel", "record_id", "time", "event_id")


@dataclass
class FileResult:
    """What became of one evidence file."""

    source: str
    status: str  # "stored" | "known" | "rejected"
    reason: str = ""
    sha256: str = ""
    size: int = 0
    mtime: float = 0.0
    parser: str = ""
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    event_files: list[str] = field(default_factory=list)
    staged: str = ""


@dataclass
class IngestReport:
    files: list[FileResult]
    seconds: float

    def of(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def records(self) -> int:
        return sum(f.records for f in self.of("stored"))

    @property
    def stored(self) -> int:
        return sum(f.stored for f in self.of("stored"))

    @property
    def usable(self) -> bool:
        """Some evidence was stored now or is already in the case."""
        return bool(self.of("stored") or self.of("known"))


@dataclass(frozen=True)
class Progress:
    files_done: int
    files_total: int
    records: int
    bytes_done: int
    bytes_total: int
    seconds: float


ProgressCallback = Callable[[Progress], None]


def ingest(
    inputs: Sequence[str | Path],
    case_dir: str | Path,
    jobs: int | None = None,
    parser: str = "auto",
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Add the evidence under `inputs` to the case at `case_dir` (created if new)."""
    started = time.monotonic()
    root = case_folder.create_or_open(Path(case_dir))
    with case_folder.locked(root):
        case_folder.sweep(root)
        staging = case_folder.staging_dir(root)
        staging.mkdir()
        candidates, rejections = discover(inputs, staging)
        evidence = case_folder.read_evidence(root)
        known = dict(zip(evidence.column("sha256").to_pylist(), evidence.column("path").to_pylist()))
        results = _convert_all(candidates, known, staging, parser, jobs, progress, started)
        results = _drop_repeats(results)
        new = [r for r in results if r.status == "stored"]
        if new:
            _commit(root, evidence, new)
        case_folder.sweep(root)
    rejected = [FileResult(r.source, "rejected", r.reason) for r in rejections]
    return IngestReport(rejected + results, time.monotonic() - started)


# --- conversion (runs in worker processes) -------------------------------------------------

_counter: Any = None


def _init_worker(counter: Any) -> None:
    global _counter
    _counter = counter


def convert_file(
    candidate: Candidate, known: dict[str, str], staging: Path, parser: str, threads: int = 1
) -> FileResult:
    """Hash one file and, when new, stage its records as Parquet (unsorted, not deduplicated)."""
    result = FileResult(candidate.source, "stored", size=candidate.size, mtime=candidate.mtime)
    try:
        result.sha256 = sha256_of(candidate.path)
    except OSError as exc:
        result.status, result.reason = "rejected", f"unreadable ({exc.strerror or exc})"
        return result
    if result.sha256 in known:
        result.status, result.reason = "known", f"already in the case as {known[result.sha256]}"
        return result
    report = ReadReport()
    staged = staging / f"{result.sha256}.parquet"
    hosts: set[str] = set()
    normaliser = _normaliser(threads)
    writer = pq.ParquetWriter(staged, EVENTS_SCHEMA, compression="lz4")
    records: list[str] = []
    header_times: list[str | None] = []

    def flush() -> None:
        if records:
            table = normaliser.batch(records, header_times, result.sha256)
            writer.write_table(table)
            hosts.update(h for h in table.column("host").unique().to_pylist() if h)
            result.records += len(records)
            _count(len(records))
            records.clear()
            header_times.clear()

    try:
        for raw in read_records(candidate.path, report, parser, threads):
            records.append(raw.json)
            header_times.append(raw.header_time)
            if len(records) >= BATCH_ROWS:
                flush()
    except OSError as exc:
        report.errors.append(f"read error after {result.records + len(records)} records ({exc})")
    finally:
        flush()
        writer.close()
    result.parser, result.skipped, result.errors = report.parser, report.skipped, report.errors
    result.hosts, result.staged = sorted(hosts), str(staged)
    if result.records == 0 and result.errors:
        result.status, result.reason = "rejected", "no readable records: " + result.errors[0]
    return result


_normalisers: dict[int, Normaliser] = {}


def _normaliser(threads: int) -> Normaliser:
    """One per process, reused across files: setting up DuckDB costs ~20 ms."""
    if threads not in _normalisers:
        _normalisers[threads] = Normaliser(threads)
    return _normalisers[threads]


def _count(records: int) -> None:
    if _counter is not None:
        with _counter.get_lock():
            _counter.value += records


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _convert_all(
    candidates: list[Candidate],
    known: dict[str, str],
    staging: Path,
    parser: str,
    jobs: int | None,
    progress: ProgressCallback | None,
    started: float,
) -> list[FileResult]:
    cores = max(1, jobs or os.cpu_count() or 1)
    jobs = max(1, min(cores, len(candidates) or 1))
    threads = max(1, cores // jobs)  # fewer files than cores: each file gets several threads
    counter = multiprocessing.get_context("spawn").Value("q", 0)
    total_bytes = sum(c.size for c in candidates)
    results: dict[int, FileResult] = {}

    def report() -> None:
        if progress is not None:
            done = sum(candidates[i].size for i in results)
            progress(Progress(len(results), len(candidates), counter.value, done, total_bytes,
                              time.monotonic() - started))

    report()
    if jobs == 1:
        _init_worker(counter)
        try:
            for index, candidate in enumerate(candidates):
                results[index] = convert_file(candidate, known, staging, parser, threads)
                report()
        finally:
            _init_worker(None)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                 initargs=(counter,)) as pool:
            pending: dict[Future[FileResult], int] = {
                pool.submit(convert_file, c, known, staging, parser, threads): i
                for i, c in enumerate(candidates)
            }
            while pending:
                done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in done:
                    results[pending.pop(future)] = future.result()
                report()
    return [results[i] for i in range(len(candidates))]


def _drop_repeats(results: Iterable[FileResult]) -> list[FileResult]:
    """Two inputs with the same content in one run: keep the first, the others are known."""
    first: dict[str, str] = {}
    out = []
    for result in results:
        if result.status == "stored" and result.sha256 in first:
            result.status, result.reason = "known", f"same content as {first[result.sha256]}"
            Path(result.staged).unlink(missing_ok=True)
        elif result.status == "stored":
            first[result.sha256] = result.source
        out.append(result)
    return out


# --- commit (main process) -----------------------------------------------------------------

def _commit(root: Path, evidence: pa.Table, new: list[FileResult]) -> None:
    """Write the final, deduplicated, time-sorted event files, then evidence.parquet."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    by_partition: dict[str, list[str]] = {}
    for files in evidence.column("event_files").to_pylist():
        for name in files or ():
            by_partition.setdefault(Path(name).parent.name, []).append(str(root / name))
    for result in new:
        staged = con.read_parquet(result.staged)
        host_keys = [row[0] for row in staged.select("host_key").distinct().fetchall()]
        for hk in sorted(host_keys, key=lambda h: (h is None, h or "")):
            partition = case_folder.partition_name(hk)
            part = staged.filter(
                duckdb.ColumnExpression("host_key").isnull() if hk is None
                else duckdb.ColumnExpression("host_key") == duckdb.ConstantExpression(hk)
            )
            existing = by_partition.get(partition, [])
            if existing:
                keys = con.read_parquet(existing).select(*DEDUP_KEY).set_alias("e")
                condition = " AND ".join(f"s.{k} IS NOT DISTINCT FROM e.{k}" for k in DEDUP_KEY)
                part = part.set_alias("s").join(keys, condition, how="anti")
            relative = f"{case_folder.EVENTS}/{partition}/{result.sha256}.parquet"
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            part.order("time").write_parquet(str(target), compression="zstd",
                                             row_group_size=100_000)
            count = pq.ParquetFile(target).metadata.num_rows
            if count == 0:
                target.unlink()
                continue
            result.stored += count
            result.event_files.append(relative)
            by_partition.setdefault(partition, []).append(str(target))
        result.duplicates = result.records - result.stored
    con.close()
    now = datetime.now(timezone.utc)
    rows = pa.Table.from_pylist(
        [
            {
                "path": r.source, "sha256": r.sha256, "size": r.size,
                "mtime": datetime.fromtimestamp(r.mtime, timezone.utc), "parser": r.parser,
                "records": r.records, "stored": r.stored, "duplicates": r.duplicates,
                "skipped": r.skipped, "errors": r.errors, "hosts": r.hosts,
                "event_files": r.event_files, "ingested_at": now,
            }
            for r in new
        ],
        schema=case_folder.EVIDENCE_SCHEMA,
    )
    case_folder.write_evidence(root, pa.concat_tables([evidence, rows]))

