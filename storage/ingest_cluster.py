"""Ingest's conversion on a cluster (`storage.executors`): groups of evidence files are
hashed, parsed and staged by the cluster's workers into the case's staging folder, which every
worker reaches at the same path; the commit stays with `storage.ingest`.
"""

from __future__ import annotations

import time
from pathlib import Path

from logonscope.storage import executors
from logonscope.storage.convert import convert_files
from logonscope.storage.discover import Candidate
from logonscope.storage.outcomes import FileResult, Progress, ProgressCallback
from logonscope.storage.pieces import groups


def convert_on(
    executor: executors.Executor,
    candidates: list[Candidate],
    known: dict[str, str],
    staging: Path,
    parser: str,
    progress: ProgressCallback | None,
    started: float,
) -> tuple[list[FileResult], list[str]]:
    """Groups of files on a cluster's workers, staged into the case (a shared folder); a
    group that fails twice leaves its files rejected with the reason."""
    parts = groups(candidates, max(1, min(len(candidates), 2 * executor.slots())))
    tasks = [
        executors.Task(
            f"files {number}",
            convert_files,
            (
                [candidates[i] for i in group],
                known,
                staging / f"part-{number}.parquet",
                parser,
                executor.threads or 1,
            ),
        )
        for number, group in enumerate(parts)
    ]
    total = sum(c.size for c in candidates)

    def report(files: int, records: int, done: int) -> None:
        if progress is not None:
            progress(
                Progress(files, len(candidates), records, done, total, time.monotonic() - started)
            )

    report(0, 0, 0)
    outcome = executor.run(tasks)
    results: dict[int, FileResult] = {}
    staged: list[str] = []
    for task, group in zip(tasks, parts, strict=True):
        if task.name in outcome.results:
            converted, paths = outcome.results[task.name]
            results.update(zip(group, converted, strict=True))
            staged += paths
        else:
            for i in group:
                reason = f"failed twice on the cluster ({outcome.failed[task.name]})"
                results[i] = FileResult(candidates[i].source, "rejected", reason)
    report(len(candidates), sum(r.records for r in results.values()), total)
    return [results[i] for i in range(len(candidates))], staged
