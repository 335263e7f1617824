"""Ingest's conversion on this machine: groups of evidence files converted by a pool of
worker processes (or inline for one worker), with their counts gathered into progress reports
at least a few times a second. The cluster variant is storage.ingest_cluster.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from logonscope.storage import convert, executors, pieces
from logonscope.storage.convert import Tick, convert_files, sha256_of
from logonscope.storage.discover import Candidate
from logonscope.storage.lifeline import start_worker
from logonscope.storage.outcomes import FileProgress, FileResult, Progress, ProgressCallback
from logonscope.storage.pieces import Piece, groups, label

REPORT_SECONDS = 0.25
Converted = tuple[list[FileResult], list[str]]


class Tracker:
    """The workers' counts, per file (or range of a file's chunks), turned into `Progress`
    for the caller's callback."""

    def __init__(
        self, candidates: list[Candidate], progress: ProgressCallback | None, started: float
    ) -> None:
        self.sizes = {c.source: c.size for c in candidates}
        self.total_files, self.total_bytes = len(candidates), sum(self.sizes.values())
        self.ranges: dict[str, str] = {}  # a range's label -> its file, for files read in ranges
        self.progress, self.started = progress, started
        self.files: dict[str, tuple[int, float, bool, float]] = {}  # records, fraction, done, t0
        self._last = 0.0

    def tick(self, tick: Tick) -> None:
        source, records, fraction, done = tick
        before = self.files.get(source, (0, 0.0, False, time.monotonic()))
        if not before[2]:  # a count that arrives after its file finished is stale
            self.files[source] = (records, fraction, done, before[3])

    def split(self, work: list[Candidate]) -> None:
        """Progress per range for the files read in ranges."""
        for piece in work:
            if isinstance(piece, Piece):
                self.sizes.pop(piece.source, None)
                self.sizes[label(piece)] = piece.size
                self.ranges[label(piece)] = piece.source

    def finish(self, source: str) -> None:
        """A file or range whose group is done (its worker may have died before saying so)."""
        records, _, _, began = self.files.get(source, (0, 0.0, False, time.monotonic()))
        self.files[source] = (records, 1.0, True, began)

    def decided(self, source: str) -> None:
        """A file settled without reading it (in the case already, or unreadable)."""
        self.sizes[source] = self.sizes.get(source, 0)
        self.finish(source)

    def report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress is None or (not force and now - self._last < REPORT_SECONDS):
            return
        self._last = now
        done = [s for s, f in self.files.items() if f[2]]
        current = tuple(
            FileProgress(s, f[0], f[1], now - f[3]) for s, f in self.files.items() if not f[2]
        )
        read = sum(self.sizes.get(s, 0) * f[1] for s, f in self.files.items())
        self.progress(
            Progress(
                self._files_done(done),
                self.total_files,
                sum(f[0] for f in self.files.values()),
                int(read),
                self.total_bytes,
                now - self.started,
                current,
            )
        )

    def _files_done(self, done: list[str]) -> int:
        """Whole files done, and files read in ranges whose every range is done."""
        if not self.ranges:
            return len(done)
        left = {self.ranges[s] for s in self.ranges if s not in done}
        split = {self.ranges[s] for s in done if s in self.ranges}
        return sum(s not in self.ranges for s in done) + len(split - left)


def convert_all(
    candidates: list[Candidate],
    known: dict[str, str],
    staging: Path,
    parser: str,
    jobs: int | None,
    progress: ProgressCallback | None,
    started: float,
) -> tuple[list[FileResult], list[str]]:
    executor = executors.configured(jobs)
    if executor.kind != "local":  # a cluster: no shared queue, progress per group
        from logonscope.storage.ingest_cluster import convert_on

        return convert_on(executor, candidates, known, staging, parser, progress, started)
    cores = max(1, jobs or os.cpu_count() or 1)
    tracker = Tracker(candidates, progress, started)
    tracker.report(force=True)
    # a file bigger than a worker's share is read in ranges of chunks, by several workers
    work, owner, decided = pieces.split(
        candidates, cores, known, lambda path: sha256_of(path, tracker.report)
    )
    for index in decided:
        tracker.decided(candidates[index].source)
    tracker.split(work)
    workers = max(1, min(cores, len(work) or 1))
    threads = max(1, cores // workers)  # fewer files than cores: each file gets several threads
    results: dict[int, FileResult] = {}
    staged: list[str] = []

    def collect(indexes: list[int], outcome: Converted) -> None:
        for index, result in zip(indexes, outcome[0], strict=True):
            results[index] = result
            tracker.finish(label(work[index]))
        staged.extend(outcome[1])

    parts = groups(work, workers)
    if workers == 1:

        def inline(tick: Tick) -> None:  # the callback runs here, so it may stop the ingest
            tracker.tick(tick)
            tracker.report()

        convert.set_sink(inline if progress is not None else None)
        try:
            for number, group in enumerate(parts):
                outcome = convert_files(
                    [work[i] for i in group],
                    known,
                    staging / f"part-{number}.parquet",
                    parser,
                    threads,
                )
                collect(group, outcome)
        finally:
            convert.set_sink(None)
    else:
        context = multiprocessing.get_context("spawn")
        ticks = context.Queue() if progress is not None else None
        pool = _Pool(work, known, parser, threads, context, ticks, tracker)
        jobs_ = [(group, staging / f"part-{n}.parquet") for n, group in enumerate(parts)]
        broken = pool.run(jobs_, workers, collect)
        # A worker died (the native parser crashed): the files of its unfinished groups are
        # retried one per process, so only the file that crashes it is lost, and said so.
        for index in sorted(i for group in broken for i in group):
            if pool.run([([index], staging / f"part-retry-{index}.parquet")], 1, collect):
                results[index] = FileResult(
                    work[index].source,
                    "rejected",
                    "the parser crashed on this file (its worker process died); nothing stored",
                    size=work[index].size,
                )
                tracker.finish(label(work[index]))
    tracker.report(force=True)
    return _per_file(candidates, work, owner, decided, results), staged


def _per_file(
    candidates: list[Candidate],
    work: list[Candidate],
    owner: list[int],
    decided: dict[int, FileResult],
    results: dict[int, FileResult],
) -> list[FileResult]:
    """One result per candidate, in order: the ranges of a file read in ranges merged."""
    parts: dict[int, list[int]] = {}
    for number, index in enumerate(owner):
        parts.setdefault(index, []).append(number)
    out = []
    for index, candidate in enumerate(candidates):
        if index in decided:
            out.append(decided[index])
            continue
        mine = parts[index]
        ranges = [w for w in (work[n] for n in mine) if isinstance(w, Piece)]
        if ranges:
            out.append(pieces.merge(candidate, ranges, [results[n] for n in mine]))
        else:
            out.append(results[mine[0]])
    return out


class _Pool:
    def __init__(
        self,
        candidates: list[Candidate],
        known: dict[str, str],
        parser: str,
        threads: int,
        context: Any,
        ticks: Any,
        tracker: Tracker,
    ) -> None:
        self.candidates, self.known, self.parser, self.threads = candidates, known, parser, threads
        self.context, self.ticks, self.tracker = context, ticks, tracker

    def run(
        self,
        jobs: list[tuple[list[int], Path]],
        workers: int,
        collect: Callable[[list[int], Converted], None],
    ) -> list[list[int]]:
        """Convert each (group, staged file); the groups left when a worker died."""
        with ProcessPoolExecutor(
            workers,
            mp_context=self.context,
            initializer=start_worker,  # workers die with this process (storage.lifeline)
            initargs=(os.getpid(), "logonscope.storage.convert:init_worker", self.ticks),
        ) as pool:
            pending: dict[Future[Converted], list[int]] = {
                pool.submit(
                    convert_files,
                    [self.candidates[i] for i in group],
                    self.known,
                    staged,
                    self.parser,
                    self.threads,
                ): group
                for group, staged in jobs
            }
            while pending:
                done, _ = wait(pending, timeout=REPORT_SECONDS, return_when=FIRST_COMPLETED)
                self._drain()
                for future in done:
                    group = pending.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        return [group, *pending.values()]
                    collect(group, outcome)
                self.tracker.report()
        return []

    def _drain(self) -> None:
        while self.ticks is not None:
            try:
                self.tracker.tick(self.ticks.get_nowait())
            except queue.Empty:
                return
