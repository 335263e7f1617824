#!/usr/bin/env python3
"""Ingest throughput against the bare `evtx` loop, on the same files and cores (DESIGN 4).

    .venv/bin/python bench/ingest.py [PATH...] [--jobs 1 2] [--baseline REF...] [--rounds N]
                                     [--cores N | --cores-per-job]

Prints records/s for: the bare loop (`records_json` + `json.loads`, one thread, one process
per job), `logonscope ingest --jobs N` end to end into a fresh case, their ratio, the peak
RSS of any one process, its CPU seconds (user + system, workers included), and case bytes /
EVTX bytes. Each figure comes from a fresh process. `--baseline REF...` also times the ingest of
each git revision REF on the same files in the same run (before/after on a shared machine);
`--rounds N` repeats every measure N times, interleaved, and keeps the fastest. `--cores N`
pins every measure (and its workers) to the first N cores: `--jobs 1 --cores 1` is the ingest
against the bare loop on one core, where one job's normalise thread cannot borrow a second.
`--cores-per-job` pins each measure of `--jobs N` to the first N cores: the scaling line is
then per core (two jobs on two cores against one job on one), which a job that keeps more
than one core busy does not cap at 2 / (the cores one job uses).
The load average is printed before and after (the machine may be shared).
Default input: ../shared/evidence, or a generated set with --generate N (needs the writer).
Not a test: it prints figures, it does not assert them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revisions import code_at  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parent.parent


def _evtx_files(paths: list[Path]) -> list[Path]:
    from logonscope.storage.discover import discover

    with tempfile.TemporaryDirectory() as tmp:
        found, _ = discover(paths, Path(tmp))
        return [c.path for c in found]


def _bare_one(path: str) -> int:
    import evtx

    count = 0
    records = evtx.PyEvtxParser(path, number_of_threads=1).records_json()
    while True:
        try:
            record = next(records)
        except StopIteration:
            return count
        except RuntimeError:  # a corrupt chunk or record: the parser goes on with the next
            continue
        json.loads(record["data"])
        count += 1


def measure_bare(files: list[str], jobs: int) -> dict:
    """The reference: parse and decode every record, nothing else."""
    started = time.perf_counter()
    if jobs == 1:
        records = sum(_bare_one(f) for f in files)
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            records = sum(pool.map(_bare_one, files, chunksize=1))
    seconds = time.perf_counter() - started
    return {"records": records, "seconds": seconds}


def measure_ingest(files: list[str], jobs: int, keep: str | None = None) -> dict:
    """Ingest into a fresh case (kept at `keep` when given, for the later stages)."""
    from logonscope.storage.ingest import ingest

    scratch = Path(tempfile.mkdtemp(prefix="bench-case-"))
    case = Path(keep) if keep else scratch / "c"
    try:
        started = time.perf_counter()
        report = ingest(files, case, jobs=jobs)
        seconds = time.perf_counter() - started
        case_bytes = sum(p.stat().st_size for p in case.rglob("*.parquet"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"records": report.records, "seconds": seconds, "case_bytes": case_bytes}


def _in_fresh_process(
    kind: str,
    files: list[str],
    jobs: int,
    keep: str | None = None,
    code: Path | None = None,
    cores: int = 0,
) -> dict:
    """Run one measurement in a new interpreter (importing logonscope from `code` when
    given); add the peak RSS and CPU seconds of it and its workers."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--_measure",
            kind,
            "--jobs",
            str(jobs),
            "--_files",
            json.dumps(files),
            *(["--_keep", keep] if keep else []),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        preexec_fn=(lambda: os.sched_setaffinity(0, range(cores))) if cores else None,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _measure_here(kind: str, files: list[str], jobs: int, keep: str | None) -> None:
    result = measure_bare(files, jobs) if kind == "bare" else measure_ingest(files, jobs, keep)
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["peak_rss_mb"] = max(own.ru_maxrss, children.ru_maxrss) / 1024
    result["cpu_seconds"] = sum(u.ru_utime + u.ru_stime for u in (own, children))
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--generate",
        type=int,
        default=0,
        metavar="N",
        help="benchmark on a generated bulk set of about N events instead",
    )
    parser.add_argument(
        "--baseline", nargs="*", default=[], metavar="REF", help="also time the ingest of git REF"
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat, keep the fastest")
    parser.add_argument("--cores", type=int, default=0, help="pin every measure to N cores")
    parser.add_argument(
        "--cores-per-job", action="store_true", help="pin the measures of --jobs N to N cores"
    )
    parser.add_argument("--_measure", help=argparse.SUPPRESS)
    parser.add_argument("--_files", help=argparse.SUPPRESS)
    parser.add_argument("--_keep", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._measure:
        _measure_here(args._measure, json.loads(args._files), args.jobs[0], args._keep)
        return

    workdir = None
    if args.generate:
        workdir = Path(tempfile.mkdtemp(prefix="bench-evtx-"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "logonscope.tui.cli",
                "generate",
                "--out",
                str(workdir),
                "--scenario",
                "bulk",
                "--events",
                str(args.generate),
            ],
            check=True,
            cwd=ROOT,
        )
        paths = [workdir]
    else:
        paths = args.paths or [ROOT.parent / "shared" / "evidence"]
    files = [str(f) for f in _evtx_files(paths)]
    evtx_bytes = sum(os.path.getsize(f) for f in files)
    cores = f"{args.cores} of {os.cpu_count()} (pinned)" if args.cores else os.cpu_count()
    if args.cores_per_job:
        cores = f"as many as jobs, of {os.cpu_count()} (pinned)"
    print(f"input: {len(files)} EVTX files, {evtx_bytes / 1e6:.1f} MB; cores: {cores}")
    print(f"load average before: {_load()}")
    print(
        f"{'measure':<22}{'jobs':>5}{'records':>12}{'seconds':>9}{'records/s':>12}"
        f"{'vs bare':>9}{'peak MB':>9}{'CPU s':>8}"
    )
    trees = {
        ref: code_at(ref, Path(tempfile.mkdtemp(prefix="bench-base-"))) for ref in args.baseline
    }
    kinds = [("bare", None), *(("ingest", ref) for ref in trees), ("ingest", None)]
    best: dict[tuple[int, int], dict] = {}
    for _ in range(args.rounds):  # interleaved (jobs too), so a busy minute hits every measure
        for jobs in args.jobs:
            for number, (kind, ref) in enumerate(kinds):
                got = _in_fresh_process(
                    kind,
                    files,
                    jobs,
                    code=trees.get(ref or ""),
                    cores=jobs if args.cores_per_job else args.cores,
                )
                if (jobs, number) not in best or got["seconds"] < best[jobs, number]["seconds"]:
                    best[jobs, number] = got
    rates: dict[tuple[int, int], float] = {}
    for jobs in args.jobs:
        bare_rate = best[jobs, 0]["records"] / best[jobs, 0]["seconds"]
        for number, (kind, ref) in enumerate(kinds):
            run = best[jobs, number]
            rate = rates[jobs, number] = run["records"] / run["seconds"]
            name = "bare evtx loop" if kind == "bare" else "logonscope ingest"
            if ref is not None:
                name = f"ingest @ {ref}"[:21]
            ratio = "" if kind == "bare" else f"{rate / bare_rate:.2f}"
            print(
                f"{name:<22}{jobs:>5}{run['records']:>12,}{run['seconds']:>9.2f}"
                f"{rate:>12,.0f}{ratio:>9}{run['peak_rss_mb']:>9.0f}{run['cpu_seconds']:>8.1f}"
            )
        print(
            f"{'case bytes / EVTX':<22}{jobs:>5}{'':>12}{'':>9}{run['case_bytes'] / evtx_bytes:>12.1%}"
        )
    if 1 in args.jobs and 2 in args.jobs:
        for number, (kind, ref) in enumerate(kinds):
            name = "bare loop" if kind == "bare" else f"ingest @ {ref}" if ref else "ingest"
            scaling = rates[2, number] / rates[1, number]
            print(f"scaling, 2 jobs / 1 job, {name}: {scaling:.2f}x")
    print(f"load average after: {_load()}")
    for tree in trees.values():
        shutil.rmtree(tree, ignore_errors=True)
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
