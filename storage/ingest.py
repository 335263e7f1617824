"""Ingest evidence into a case: discover, hash, parse, normalise, stage, deduplicate, commit.

Parallel over files (`jobs` worker processes, storage.ingest_local; or a cluster,
storage.ingest_cluster), streaming in bounded batches (storage.convert), incremental (a file
whose SHA-256 the case already holds is skipped; a record already stored from another copy of
the same log is counted as a duplicate), atomic (storage.commit, storage.case) and
accountable: every file ends as stored, known or rejected with a reason, and every record as
stored, duplicate or skipped. Evidence is only ever opened for reading. Progress goes to a
callback, several times a second while files are read; no printing here.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from logonscope.storage import case as case_folder
from logonscope.storage.commit import DEDUP_KEY, commit
from logonscope.storage.convert import BATCH_ROWS, convert_files, sha256_of
from logonscope.storage.discover import Rejection, discover
from logonscope.storage.ingest_local import convert_all
from logonscope.storage.outcomes import (
    FileProgress,
    FileResult,
    IngestReport,
    Progress,
    ProgressCallback,
)

PULSE_SECONDS = 0.25

__all__ = [
    "BATCH_ROWS",
    "DEDUP_KEY",
    "FileProgress",
    "FileResult",
    "IngestReport",
    "Progress",
    "ProgressCallback",
    "convert_files",
    "ingest",
    "sha256_of",
]


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
    candidates, rejections = discover(
        inputs, staging, password, cancelled=_discovery_pulse(progress, started)
    )
    evidence = case_folder.read_evidence(root)
    known = dict(
        zip(
            evidence.column("sha256").to_pylist(),
            evidence.column("path").to_pylist(),
            strict=True,
        )
    )
    results, staged = convert_all(candidates, known, staging, parser, jobs, progress, started)
    results = _drop_repeats(results)
    new = [r for r in results if r.status == "stored"]
    if new:
        if progress is not None:
            size = sum(c.size for c in candidates)
            read = sum(r.records for r in new)
            seconds = time.monotonic() - started
            progress(
                Progress(len(candidates), len(candidates), read, size, size, seconds, (), "commit")
            )
        commit(root, evidence, new, staged)
    case_folder.sweep(root)
    return rejections, results


def _discovery_pulse(
    progress: ProgressCallback | None, started: float
) -> Callable[[], bool] | None:
    """A poll for the folder walk that reports a `discover` stage a few times a second: a long
    walk shows life, and a callback that raises to cancel (the app's Esc) stops the walk too."""
    if progress is None:
        return None
    last = 0.0

    def pulse() -> bool:
        nonlocal last
        now = time.monotonic()
        if now - last >= PULSE_SECONDS:
            last = now
            progress(Progress(0, 0, 0, 0, 0, now - started, (), "discover"))
        return False

    return pulse


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
