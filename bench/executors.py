"""Benchmark: the build on the local executor and on Dask, many small hosts, 1 -> 2 workers.

    .venv/bin/python bench/executors.py --hosts 1000 --events 20000
    .venv/bin/python bench/executors.py --hosts 8 --events 200000 --task-events 25000

Generates a case (`logonscope generate --hosts H --events N`, ingested; not timed), then builds
it (force) with each executor and worker count. `--task-events 1` puts every host in a task of
its own, so `per task` is the cost of one host partition (connection, reads, three Parquet
parts); the default groups hosts into tasks of that many events. Figures per build: wall time,
the parallel phase (tasks), the case-wide step (assembly: the derived tables and summaries
over every host's parts), and wall / hosts. The 2-vCPU machine is shared: read the load.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def _build(case: Path, executor, task_events: int) -> dict:
    from logonscope.analysis.build import build

    marks: list[tuple[float, str]] = []
    started = time.perf_counter()
    report = build(
        case,
        lambda msg: marks.append((time.perf_counter(), msg)),
        force=True,
        executor=executor,
        task_events=task_events,
    )
    wall = time.perf_counter() - started
    assembly = next(t for t, msg in marks if msg.startswith("summarising"))
    correlate = next(t for t, msg in marks if msg.startswith("correlating"))
    return {
        "wall_s": round(wall, 2),
        "tasks_s": round(assembly - correlate, 2),
        "case_wide_s": round(started + wall - assembly, 2),
        "sessions": report.sessions,
        "failed": report.failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--task-events", type=int, default=1, help="1: one host per task")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()

    from logonscope.storage.executors import DaskExecutor, LocalExecutor
    from logonscope.storage.ingest import ingest
    from logonscope.storage.scenarios import generate

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-exec-"))
    case = work / "case"
    if not case.exists():
        t = time.perf_counter()
        generate(work / "gen", ["bulk"], hosts=args.hosts, events=args.events, seed=1)
        ingest([work / "gen"], case)
        print(f"generated and ingested in {time.perf_counter() - t:.1f} s -> {case}", flush=True)
    rows = []
    for n in [int(x) for x in args.workers.split(",")]:
        kinds = [("local", lambda n=n: LocalExecutor(n))]
        if not args.no_dask:
            kinds.append(("dask", lambda n=n: DaskExecutor(workers=n)))
        for kind, make in kinds:
            t = time.perf_counter()
            executor = make()
            start_s = time.perf_counter() - t
            try:
                row = {"executor": kind, "workers": n, "start_s": round(start_s, 2)}
                row.update(_build(case, executor, args.task_events))
            finally:
                executor.close()
            row["per_host_ms"] = round(1000 * row["wall_s"] / args.hosts, 1)
            row["load"] = round(os.getloadavg()[0], 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
    for kind in {r["executor"] for r in rows}:
        by_n = {r["workers"]: r["wall_s"] for r in rows if r["executor"] == kind}
        if 1 in by_n and 2 in by_n:
            print(f"{kind}: 1 -> 2 workers speed-up {by_n[1] / by_n[2]:.2f}x", flush=True)


if __name__ == "__main__":
    main()
