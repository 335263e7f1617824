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
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from logonscope.storage import case as case_folder
from logonscope.storage import connection, executors
from logonscope.storage.discover import Candidate, Rejection, discover
from logonscope.storage.lifeline import start_worker
from logonscope.storage.normalise import Normaliser
from logonscope.storage.parse import ReadReport, read_records
from logonscope.storage.salvage import Isolating
from logonscope.storage.schema import EVENTS_SCHEMA, EVIDENCE_SCHEMA

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
    collected_from: str | None = None


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
    password: str | None = None,
) -> IngestReport:
    """Add the evidence under `inputs` to the case at `case_dir` (created if new).
    `password` opens encrypted zip members (CyLR collections)."""
    started = time.monotonic()
    try:
        root = case_folder.create_or_open(Path(case_dir))
        with case_folder.locked(root):
            try:
                rejections, results = _ingest_locked(
                    root, inputs, jobs, parser, progress, password, started
                )
            finally:
                shutil.rmtree(case_folder.staging_dir(root), ignore_errors=True)
    except (OSError, duckdb.IOException, pa.ArrowIOError) as exc:
        raise case_folder.CaseIOError(case_folder.describe_io_error(exc, Path(case_dir))) from None
    rejected = [FileResult(r.source, "rejected", r.reason) for r in rejections]
    return IngestReport(rejected + results, time.monotonic() - started)


def _ingest_locked(
    root: Path,
    inputs: Sequence[str | Path],
    jobs: int | None,
    parser: str,
    progress: ProgressCallback | None,
    password: str | None,
    started: float,
) -> tuple[list[Rejection], list[FileResult]]:
    case_folder.sweep(root)
    staging = case_folder.staging_dir(root)
    staging.mkdir()
    candidates, rejections = discover(inputs, staging, password)
    evidence = case_folder.read_evidence(root)
    known = dict(
        zip(
            evidence.column("sha256").to_pylist(),
            evidence.column("path").to_pylist(),
            strict=True,
        )
    )
    results, staged = _convert_all(candidates, known, staging, parser, jobs, progress, started)
    results = _drop_repeats(results)
    new = [r for r in results if r.status == "stored"]
    if new:
        _commit(root, evidence, new, staged)
    case_folder.sweep(root)
    return rejections, results


# --- conversion (runs in worker processes) -------------------------------------------------

_counters: tuple[Any, Any] | None = None  # (records, files) shared with the main process


def _init_worker(counters: tuple[Any, Any] | None) -> None:
    global _counters
    _counters = counters


def _add(index: int, amount: int) -> None:
    if _counters is not None:
        with _counters[index].get_lock():
            _counters[index].value += amount


class _Stager:
    """Collects the records of several files into shared batches (one DuckDB statement per
    ~50,000 records, however small the files) and appends them to one staging Parquet."""

    def __init__(self, path: Path, threads: int) -> None:
        self.path = path
        self.normalise = Isolating(_normaliser(threads).batch)
        self._writer: pq.ParquetWriter | None = None
        self._records: list[str] = []
        self._times: list[str | None] = []
        self._shas: list[str] = []
        self.hosts: dict[str, set[str]] = {}

    def add(self, json_text: str, header_time: str | None, sha256: str) -> None:
        self._records.append(json_text)
        self._times.append(header_time)
        self._shas.append(sha256)
        if len(self._records) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._records:
            return
        table = self.normalise(self._records, self._times, self._shas)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, EVENTS_SCHEMA, compression="lz4")
        self._writer.write_table(table)
        pairs = (
            table.select(["evidence_sha256", "host"])
            .group_by(["evidence_sha256", "host"])
            .aggregate([])
        )
        for row in pairs.to_pylist():
            if row["host"]:
                self.hosts.setdefault(row["evidence_sha256"], set()).add(row["host"])
        _add(0, len(self._records))
        self._records, self._times, self._shas = [], [], []

    def close(self) -> str | None:
        self.flush()
        if self._writer is None:
            return None
        self._writer.close()
        return str(self.path)


def convert_files(
    candidates: list[Candidate], known: dict[str, str], staged: Path, parser: str, threads: int = 1
) -> tuple[list[FileResult], str | None]:
    """Hash each file and, when new, stage its records (unsorted, not yet deduplicated) into
    the one Parquet file `staged`. Returns a result per file and the staged path (None if
    nothing was staged)."""
    stager = _Stager(staged, threads)
    results = [_convert_one(c, known, parser, threads, stager) for c in candidates]
    path = stager.close()
    for result in results:
        result.hosts = (
            sorted(stager.hosts.get(result.sha256, ())) if result.status == "stored" else []
        )
        if result.status == "stored":
            dropped, notes = stager.normalise.notes(result.sha256)
            result.records -= dropped
            result.skipped += dropped
            result.errors.extend(notes)
    return results, path


def _convert_one(
    candidate: Candidate, known: dict[str, str], parser: str, threads: int, stager: _Stager
) -> FileResult:
    result = FileResult(
        candidate.source,
        "stored",
        size=candidate.size,
        mtime=candidate.mtime,
        collected_from=candidate.collected_from,
    )
    try:
        result.sha256 = sha256_of(candidate.path)
    except OSError as exc:
        result.status, result.reason = "rejected", f"unreadable ({exc.strerror or exc})"
    else:
        if result.sha256 in known:
            result.status, result.reason = "known", f"already in the case as {known[result.sha256]}"
        else:
            report = ReadReport()
            try:
                for raw in read_records(candidate.path, report, parser, threads):
                    stager.add(raw.json, raw.header_time, result.sha256)
                    result.records += 1
            except OSError as exc:
                report.errors.append(f"read error after {result.records} records ({exc})")
            result.parser, result.skipped, result.errors = (
                report.parser,
                report.skipped,
                report.errors,
            )
            if result.records == 0 and result.errors:
                result.status, result.reason = (
                    "rejected",
                    "no readable records: " + result.errors[0],
                )
    _add(1, 1)
    return result


_normalisers: dict[int, Normaliser] = {}


def _normaliser(threads: int) -> Normaliser:
    """One per process, reused across files: setting up DuckDB costs ~20 ms."""
    if threads not in _normalisers:
        _normalisers[threads] = Normaliser(threads)
    return _normalisers[threads]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _groups(candidates: list[Candidate], workers: int) -> list[list[int]]:
    """Candidate indexes split into `workers` groups of similar total size (largest first)."""
    groups: list[list[int]] = [[] for _ in range(workers)]
    sizes = [0] * workers
    for index in sorted(range(len(candidates)), key=lambda i: -candidates[i].size):
        smallest = sizes.index(min(sizes))
        groups[smallest].append(index)
        sizes[smallest] += candidates[index].size
    return [sorted(g) for g in groups if g]


def _convert_all(
    candidates: list[Candidate],
    known: dict[str, str],
    staging: Path,
    parser: str,
    jobs: int | None,
    progress: ProgressCallback | None,
    started: float,
) -> tuple[list[FileResult], list[str]]:
    executor = executors.configured(jobs)
    if executor.kind != "local":  # a cluster: no shared counters, progress per group
        from logonscope.storage.ingest_cluster import convert_on

        return convert_on(executor, candidates, known, staging, parser, progress, started)
    cores = max(1, jobs or os.cpu_count() or 1)
    workers = max(1, min(cores, len(candidates) or 1))
    threads = max(1, cores // workers)  # fewer files than cores: each file gets several threads
    context = multiprocessing.get_context("spawn")
    counters = (context.Value("q", 0), context.Value("q", 0))
    total_bytes = sum(c.size for c in candidates)
    results: dict[int, FileResult] = {}
    staged: list[str] = []

    def report() -> None:
        if progress is not None:
            done = sum(candidates[i].size for i in results)
            progress(
                Progress(
                    counters[1].value,
                    len(candidates),
                    counters[0].value,
                    done,
                    total_bytes,
                    time.monotonic() - started,
                )
            )

    def collect(indexes: list[int], outcome: tuple[list[FileResult], str | None]) -> None:
        for index, result in zip(indexes, outcome[0], strict=True):
            results[index] = result
        if outcome[1]:
            staged.append(outcome[1])

    groups = _groups(candidates, workers)
    report()
    if workers == 1:
        _init_worker(counters)
        try:
            for number, group in enumerate(groups):
                collect(
                    group,
                    convert_files(
                        [candidates[i] for i in group],
                        known,
                        staging / f"part-{number}.parquet",
                        parser,
                        threads,
                    ),
                )
        finally:
            _init_worker(None)
        report()
    else:
        pool_args = (workers, context, counters)
        jobs_ = [(group, staging / f"part-{n}.parquet") for n, group in enumerate(groups)]
        broken = _run_pool(jobs_, candidates, known, parser, threads, pool_args, collect, report)
        # A worker died (the native parser crashed): the files of its unfinished groups are
        # retried one per process, so only the file that crashes it is lost, and said so.
        for index in sorted(i for group in broken for i in group):
            alone = [([index], staging / f"part-retry-{index}.parquet")]
            if _run_pool(
                alone, candidates, known, parser, threads, (1,) + pool_args[1:], collect, report
            ):
                results[index] = FileResult(
                    candidates[index].source,
                    "rejected",
                    "the parser crashed on this file (its worker process died); nothing stored",
                    size=candidates[index].size,
                )
    return [results[i] for i in range(len(candidates))], staged


def _run_pool(
    jobs: list[tuple[list[int], Path]],
    candidates: list[Candidate],
    known: dict[str, str],
    parser: str,
    threads: int,
    pool_args: tuple[int, Any, tuple[Any, Any]],
    collect: Callable[[list[int], tuple[list[FileResult], str | None]], None],
    report: Callable[[], None],
) -> list[list[int]]:
    """Convert each (group, staged file) in a pool; the groups left when a worker died."""
    workers, context, counters = pool_args
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=start_worker,  # workers die with this process (storage.lifeline)
        initargs=(os.getpid(), f"{__name__}:_init_worker", counters),
    ) as pool:
        pending: dict[Future[tuple[list[FileResult], str | None]], list[int]] = {
            pool.submit(
                convert_files, [candidates[i] for i in group], known, staged, parser, threads
            ): group
            for group, staged in jobs
        }
        while pending:
            done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in done:
                group = pending.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    return [group, *pending.values()]
                collect(group, outcome)
            report()
    return []


def _drop_repeats(results: Iterable[FileResult]) -> list[FileResult]:
    """Two inputs with the same content in one run: keep the first, the others are known
    (their staged rows are left out at commit)."""
    first: dict[str, str] = {}
    out = []
    for result in results:
        if result.status == "stored" and result.sha256 in first:
            result.status, result.reason = "known", f"same content as {first[result.sha256]}"
        elif result.status == "stored":
            first[result.sha256] = result.source
        out.append(result)
    return out


# --- commit (main process) -----------------------------------------------------------------


def _commit(root: Path, evidence: pa.Table, new: list[FileResult], staged: list[str]) -> None:
    """Deduplicate the staged rows (within this run and against the case), write one
    time-sorted file per host for this run, then evidence.parquet (the commit point)."""
    _write_events(root, evidence, new, staged)
    _write_evidence(root, evidence, new)


def _write_events(root: Path, evidence: pa.Table, new: list[FileResult], staged: list[str]) -> None:
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
