"""The worker side of an ingest: hash each evidence file, read its records, normalise them in
batches and stage them as time-sorted Parquet files per host (storage.host_split), reporting
counts as it goes.

Runs in worker processes (local pool or cluster) or inline. Nothing here touches the case's
committed files: staged rows are not yet deduplicated (storage.commit does that).
Evidence is only ever opened for reading.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa

from logonscope.storage.chunk_view import Span
from logonscope.storage.chunks import scan_chunks
from logonscope.storage.discover import Candidate
from logonscope.storage.host_split import part_rows, split_by_host
from logonscope.storage.normalise import Normaliser
from logonscope.storage.outcomes import FileResult
from logonscope.storage.parse import ReadReport, read_batches
from logonscope.storage.pieces import Piece, label
from logonscope.storage.salvage import Isolating

BATCH_ROWS = 50_000  # planning the statement costs 30-45 ms, so fewer and larger batches
# ... but the first batches are smaller (doubling up to BATCH_ROWS), so the normalise thread
# starts while the parser is still reading: an ingest of a few small logs, all one batch
# otherwise, would parse everything and only then normalise it
FIRST_BATCH_SHARE = 16
TICK_RECORDS = 1024  # records per run from the parser: how often the read loop looks at the clock
TICK_SECONDS = 0.2  # how often a worker reports its counts

# A file's progress as a worker reports it: (source, records read, fraction of the file, done).
Tick = tuple[str, int, float, bool]
_sink: Callable[[Tick], None] | None = None


def init_worker(sink: Any) -> None:
    """Pool initializer: `sink` is a multiprocessing queue (or None: no progress)."""
    set_sink(sink.put if sink is not None else None)


def set_sink(sink: Callable[[Tick], None] | None) -> None:
    """Where this process's workers send their counts (inline: a function of the caller's)."""
    global _sink
    _sink = sink


class _Stager:
    """Collects the records of several files into shared batches (one DuckDB statement per
    BATCH_ROWS records, however small the files) and holds the normalised rows of a part.

    Batches are normalised and written by a second thread while the caller goes on parsing:
    DuckDB and Parquet release the GIL, so the normalise costs little more than the parse.
    A batch is handed over only once the previous one is written: two batches in memory at
    most (one being filled, one being normalised).

    The rows are cut into parts that each sort within the memory share (`part_rows`). A full
    part is split by host by a third thread, so neither the parse nor the normalise stops for
    a part's sort and write (in either, it left the other idle for a second or so per part);
    one full part waits at most. A host whose rows fall in two parts gets two time-sorted
    files, as a host read by two workers does."""

    def __init__(self, path: Path, threads: int) -> None:
        self.path = path
        self.threads = threads
        self.part_rows = part_rows(threads)
        self._part: list[pa.Table] = []  # normalised rows of the part being filled
        self._full: queue.Queue[list[pa.Table] | None] = queue.Queue(maxsize=1)  # to split
        self._splitter: threading.Thread | None = None
        self._part_count = 0
        self._part_rows_written = 0
        self.split: list[str] = []  # the per-host files of the parts done
        self.normalise = Isolating(self._batch)
        self._records: list[pa.Array | list[str]] = []  # runs of record JSON
        self._times: list[pa.Array | list[str | None]] = []
        self._shas: list[str] = []
        self.hosts: dict[str, set[str]] = {}
        self._queue: queue.Queue[tuple[Texts, Texts, list[str]] | None] = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._limit = max(1, BATCH_ROWS // FIRST_BATCH_SHARE)  # records of the next batch

    def extend(self, records: list[str], times: list[str | None], sha256: str) -> None:
        """A run of records of one file: one call per run, not per record. The run's texts
        become one Arrow string array here, so its Python strings are freed at once: a batch
        waiting to be normalised is held once, compactly, not as 50k objects and a copy."""
        self._records.append(_utf8(records))
        self._times.append(_utf8(times))
        self._shas += [sha256] * len(records)
        if len(self._shas) >= self._limit:
            self.flush()

    def start(self) -> None:
        """Start the normalise and split threads (DuckDB starts in the first): called when a
        file is about to be read, so DuckDB's ~0.1 s start overlaps the first batch's parse
        rather than following it, and an ingest of known files never starts it."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="normalise", daemon=True)
            self._thread.start()
            self._splitter = threading.Thread(target=self._split_full, name="split", daemon=True)
            self._splitter.start()

    def flush(self) -> None:
        if not self._shas:
            return
        self.start()
        self._queue.join()  # the previous batch is written: two batches in memory at most
        self._raise_failure()
        self._queue.put((self._records, self._times, self._shas))
        self._records, self._times, self._shas = [], [], []
        self._limit = min(BATCH_ROWS, 2 * self._limit)

    def _batch(self, records: Texts, times: Texts, shas: list[str]) -> pa.Table:
        return _normaliser(self.threads).batch(records, times, shas)

    def _drain(self) -> None:
        try:  # DuckDB starts here, while the caller parses the first records
            _normaliser(self.threads)
        except BaseException as exc:  # raised again in the caller's thread
            self._failure = exc
        while (batch := self._queue.get()) is not None:
            if self._failure is None:  # after a failure, only empty the queue
                try:
                    self._write(*batch)
                    del batch  # its texts are freed before a part's sort, not during it
                    if self._part_rows_written >= self.part_rows:
                        self._full.put(self._part)
                        self._part, self._part_rows_written = [], 0
                except BaseException as exc:  # raised again in the caller's thread
                    self._failure = exc
            self._queue.task_done()
        self._queue.task_done()

    def _write(self, records: Texts, times: Texts, shas: list[str]) -> None:
        table = self.normalise(*_joined(records, times), shas)
        self._part.append(table)
        self._part_rows_written += table.num_rows
        pairs = (
            table.select(["evidence_sha256", "host"])
            .group_by(["evidence_sha256", "host"])
            .aggregate([])
        )
        for row in pairs.to_pylist():
            if row["host"]:
                self.hosts.setdefault(row["evidence_sha256"], set()).add(row["host"])

    def _split_full(self) -> None:
        """Split the parts the normalise thread filled, in order (the split thread)."""
        while (part := self._full.get()) is not None:
            if self._failure is None:  # after a failure, only empty the queue
                try:
                    self._split(part, self.threads)
                except BaseException as exc:  # raised again in the caller's thread
                    self._failure = exc
            del part

    def _split(self, part: list[pa.Table], threads: int = 1) -> None:
        path = self.path.with_name(f"{self.path.stem}.{self._part_count}.parquet")
        self.split += split_by_host(part, path, threads)
        self._part_count += 1

    def _end_part(self) -> None:
        if self._part:
            # the last part: nothing else runs now, so two threads write its hosts
            self._split(self._part, max(2, self.threads))
            self._part, self._part_rows_written = [], 0

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        """Wait for the batches handed over (the DuckDB connection is reused afterwards)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._splitter is not None:
            self._full.put(None)
            self._splitter.join()
            self._splitter = None

    def close(self, threads: int) -> list[str]:
        self.flush()
        self.stop()
        self._raise_failure()
        self._end_part()
        return self.split


Texts = list[pa.Array | list[str]] | list[pa.Array | list[str | None]]


def _utf8(texts: list[str] | list[str | None]) -> pa.Array | list[str] | list[str | None]:
    """`texts` as an Arrow string array; as they are when Arrow refuses one (a lone
    surrogate): the normaliser's salvage then sees that batch record by record."""
    try:
        return pa.array(texts, pa.string())
    except (pa.ArrowException, UnicodeError):
        return texts


def _joined(records: Texts, times: Texts) -> tuple[Any, Any]:
    """A batch's runs as one chunked Arrow column each, or as Python lists when a run could
    not be made Arrow."""
    if all(isinstance(run, pa.Array) for run in records + times):
        return pa.chunked_array(records, pa.string()), pa.chunked_array(times, pa.string())
    return _listed(records), _listed(times)


def _listed(runs: Texts) -> list[Any]:
    out: list[Any] = []
    for run in runs:
        out += run.to_pylist() if isinstance(run, pa.Array) else run
    return out


def convert_files(
    candidates: list[Candidate], known: dict[str, str], staged: Path, parser: str, threads: int = 1
) -> tuple[list[FileResult], list[str]]:
    """Hash each file and, when new, stage its records (not yet deduplicated) beside `staged`,
    one time-sorted Parquet file per host_key. Returns a result per file and the staged
    files."""
    stager = _Stager(staged, threads)
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="hash") as hashing:
            results = _convert_each(candidates, known, parser, threads, stager, hashing)
        paths = stager.close(threads)
    finally:
        stager.stop()
    noted: set[str] = set()
    for result in results:
        result.hosts = (
            sorted(stager.hosts.get(result.sha256, ())) if result.status == "stored" else []
        )
        if result.status == "stored" and result.sha256 not in noted:  # ranges of one file: once
            noted.add(result.sha256)
            dropped, notes = stager.normalise.notes(result.sha256)
            result.records -= dropped
            result.skipped += dropped
            result.errors.extend(notes)
    return results, paths


def _convert_each(
    candidates: list[Candidate],
    known: dict[str, str],
    parser: str,
    threads: int,
    stager: _Stager,
    hashing: ThreadPoolExecutor,
) -> list[FileResult]:
    """Each file in turn, the next one's SHA-256 computed meanwhile by `hashing` (hashlib
    releases the GIL): the hash of a file is off the parse's path, and one file ahead, so
    the parser finds its bytes in the page cache."""
    ahead: dict[int, Future[str]] = {}

    def hash_ahead(index: int) -> None:
        if index < len(candidates) and not isinstance(candidates[index], Piece):
            ahead[index] = hashing.submit(sha256_of, candidates[index].path)

    hash_ahead(0)
    results = []
    for index, candidate in enumerate(candidates):
        hash_ahead(index + 1)
        results.append(
            _convert_one(candidate, known, parser, threads, stager, ahead.pop(index, None))
        )
    return results


def _convert_one(
    candidate: Candidate,
    known: dict[str, str],
    parser: str,
    threads: int,
    stager: _Stager,
    sha256: Future[str] | None = None,
) -> FileResult:
    result = FileResult(
        candidate.source,
        "stored",
        size=candidate.size,
        mtime=candidate.mtime,
        collected_from=candidate.collected_from,
    )
    name = label(candidate)
    _tell(name, 0, 0.0, False)
    try:
        if isinstance(candidate, Piece):
            result.sha256 = candidate.sha256
        else:
            result.sha256 = sha256.result() if sha256 else sha256_of(candidate.path)
    except OSError as exc:
        result.status, result.reason = "rejected", f"unreadable ({exc.strerror or exc})"
    else:
        if result.sha256 in known and not isinstance(candidate, Piece):
            result.status, result.reason = "known", f"already in the case as {known[result.sha256]}"
        else:
            _read_one(candidate, parser, threads, stager, result)
    _tell(name, result.records, 1.0, True)
    return result


def _read_one(
    candidate: Candidate, parser: str, threads: int, stager: _Stager, result: FileResult
) -> None:
    report = ReadReport()
    stager.start()
    span = candidate.span if isinstance(candidate, Piece) else None
    expected = _expected_records(candidate.path, span)
    last = time.monotonic()
    extend, sha, name = stager.extend, result.sha256, label(candidate)
    batches = read_batches(candidate.path, report, parser, threads, TICK_RECORDS, span)
    try:
        for texts, times in batches:
            extend(texts, times, sha)
            result.records += len(texts)
            if _sink is not None:
                now = time.monotonic()
                if now - last >= TICK_SECONDS:
                    last = now
                    fraction = min(result.records / expected, 0.99) if expected else 0.0
                    _tell(name, result.records, fraction, False)
    except OSError as exc:
        report.errors.append(f"read error after {result.records} records ({exc})")
    result.parser, result.skipped, result.errors = report.parser, report.skipped, report.errors
    if result.records == 0 and result.errors:
        result.status, result.reason = "rejected", "no readable records: " + result.errors[0]


def _tell(source: str, records: int, fraction: float, done: bool) -> None:
    if _sink is not None:
        _sink((source, records, fraction, done))


def _expected_records(path: Path, span: Span | None) -> int:
    """Records the chunk headers declare: only to say how far through a file the read is."""
    first, stop = (0, None) if span is None else (span.first, None if span.to_end else span.stop)
    try:
        return sum(c.declared for c in scan_chunks(path, first, stop))
    except OSError:
        return 0


_normalisers: dict[int, Normaliser] = {}


def _normaliser(threads: int) -> Normaliser:
    """One per process, reused across files: setting up DuckDB costs ~20 ms."""
    if threads not in _normalisers:
        _normalisers[threads] = Normaliser(threads)
    return _normalisers[threads]


def sha256_of(path: Path, pulse: Callable[[], None] | None = None) -> str:
    """The file's SHA-256; `pulse` is called every 64 MiB (progress while a big file hashes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        count = 0
        while block := handle.read(1 << 20):
            digest.update(block)
            count += 1
            if pulse is not None and count % 64 == 0:
                pulse()
    return digest.hexdigest()
