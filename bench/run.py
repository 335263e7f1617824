#!/usr/bin/env python3
"""One benchmark of the whole pipeline at growing sizes, against DESIGN 4's targets.

    .venv/bin/python bench/run.py --quick            # small sets, < 3 minutes (CI-sized)
    .venv/bin/python bench/run.py                    # 1 M, 2 M, 5 M, 10 M events
    .venv/bin/python bench/run.py --events 1000000 3000000 --out bench/out/run.json

For each size a `bulk` set is generated (storage.scenarios, not timed), then every figure is
measured in a fresh process: the bare `evtx` loop (records_json + json.loads) with 1 and 2
processes, `ingest` with --jobs 1 and 2 (records/s, ratio to the bare loop, peak RSS of any
one process, case bytes / EVTX bytes), the analysis build (sessions + views + attribution,
seconds), `logonscope sessions --format json` wall time, and, when bench/tui.py is present,
the app's first paint and p95 of drill-down / filter / sort. `python-evtx` records/s on a
20,000-record sample is measured once. Prints one table and writes JSON. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent

import ingest as ingest_bench  # noqa: E402  (bench/ is the script folder, on sys.path)

QUICK = [100_000, 200_000]
FULL = [1_000_000, 2_000_000, 5_000_000, 10_000_000]


def _python(*args: str, timeout: float = 7200) -> str:
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def _timed_build(case: Path) -> dict:
    code = (
        "import json, time, resource; from logonscope.analysis.build import build; "
        "t = time.perf_counter(); r = build(%r, force=True); s = time.perf_counter() - t; "
        "print(json.dumps({'seconds': s, 'sessions': r.sessions, 'events': r.events, "
        "'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    ).replace("%r", repr(str(case)))
    return json.loads(_python("-c", code).strip().splitlines()[-1])


def _sessions_json_seconds(case: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "logonscope.tui.cli",
            "sessions",
            "--case",
            str(case),
            "--all",
            "--format",
            "json",
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _tui(case: Path) -> dict | None:
    """bench/tui.py over the case: first paint, and the worst p95 of the pane actions."""
    script = BENCH / "tui.py"
    if not script.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "tui.json"
        _python(str(script), "--case", str(case), "--runs", "20", "--json", str(figures))
        actions = json.loads(figures.read_text())["actions"]
    startup = ("first paint", "every pane loaded")
    paint = [a["median_ms"] for name, a in actions.items() if name.startswith("first paint")]
    other = {name: a["p95_ms"] for name, a in actions.items() if not name.startswith(startup)}
    worst = max(other, key=other.get) if other else None
    return {
        "first_paint_s": (max(paint) / 1000) if paint else None,
        "p95_ms": other.get(worst),
        "p95_worst_action": worst,
    }


def _python_evtx_rate(files: list[str], sample: int = 20_000) -> dict:
    code = f"""
import json, time
from pathlib import Path
from logonscope.storage.parse import ReadReport, read_records
files, n, t = {files!r}, 0, time.perf_counter()
for f in files:
    for _ in read_records(Path(f), ReadReport(), parser="python-evtx"):
        n += 1
        if n >= {sample}:
            break
    if n >= {sample}:
        break
print(json.dumps({{"records": n, "seconds": time.perf_counter() - t}}))
"""
    return json.loads(_python("-c", code).strip().splitlines()[-1])


def measure(events: int, work: Path, keep: bool = False, tui: bool = True) -> dict:
    gen, case = work / f"evtx-{events}", work / f"case-{events}"
    started = time.perf_counter()
    _python(
        "-m",
        "logonscope.tui.cli",
        "generate",
        "--out",
        str(gen),
        "--scenario",
        "bulk",
        "--hosts",
        str(max(4, events // 100_000)),
        "--events",
        str(events),
        "--seed",
        "1",
    )
    generate_s = time.perf_counter() - started
    files = [str(f) for f in ingest_bench._evtx_files([gen])]
    evtx_bytes = sum(os.path.getsize(f) for f in files)
    row: dict = {
        "events": events,
        "files": len(files),
        "evtx_mb": evtx_bytes / 1e6,
        "generate_s": generate_s,
    }
    for jobs in (1, 2):
        bare = ingest_bench._in_fresh_process("bare", files, jobs)
        # the jobs-2 case is kept: the later stages read it
        run = ingest_bench._in_fresh_process(
            "ingest", files, jobs, str(case) if jobs == 2 else None
        )
        row[f"bare_{jobs}_rps"] = bare["records"] / bare["seconds"]
        row[f"ingest_{jobs}_rps"] = run["records"] / run["seconds"]
        row[f"ingest_{jobs}_s"] = run["seconds"]
        row[f"ingest_{jobs}_rss_mb"] = run["peak_rss_mb"]
        row["records"] = run["records"]
        row["case_ratio"] = run["case_bytes"] / evtx_bytes
    build = _timed_build(case)
    row.update(
        build_s=build["seconds"], sessions=build["sessions"], build_rss_mb=build["peak_rss_mb"]
    )
    row["sessions_json_s"] = _sessions_json_seconds(case)
    figures = _tui(case) if tui else None
    if figures:
        row.update({f"tui_{k}": v for k, v in figures.items()})
    shutil.rmtree(gen, ignore_errors=True)
    if not keep:
        shutil.rmtree(case, ignore_errors=True)
    return row


COLUMNS = [
    ("events", "records", "{:,}"),
    ("evtx_mb", "EVTX MB", "{:.0f}"),
    ("bare_1_rps", "bare rec/s", "{:,.0f}"),
    ("ingest_1_rps", "ingest j1", "{:,.0f}"),
    ("ratio_1", "j1/bare", "{:.2f}"),
    ("ingest_2_rps", "ingest j2", "{:,.0f}"),
    ("scale_2", "j2/j1", "{:.2f}"),
    ("ingest_1_rss_mb", "RSS MB", "{:.0f}"),
    ("case_ratio", "case/EVTX", "{:.1%}"),
    ("us_per_event", "µs/event j1", "{:.1f}"),
    ("build_s", "build s", "{:.1f}"),
    ("sessions", "sessions", "{:,}"),
    ("sessions_json_s", "json s", "{:.1f}"),
    ("tui_first_paint_s", "paint s", "{:.2f}"),
    ("tui_p95_ms", "p95 ms", "{:.0f}"),
]


def table(rows: list[dict]) -> str:
    for r in rows:
        r["ratio_1"] = r["ingest_1_rps"] / r["bare_1_rps"]
        r["scale_2"] = r["ingest_2_rps"] / r["ingest_1_rps"]
        r["us_per_event"] = 1e6 / r["ingest_1_rps"]
    lines = ["| " + " | ".join(h for _, h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = [fmt.format(r[k]) if r.get(k) is not None else "-" for k, _, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK} (CI-sized)")
    parser.add_argument("--events", type=int, nargs="+", help="sizes to run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "run.json")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temp folder)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the cases (in --work) for later runs"
    )
    parser.add_argument("--no-tui", action="store_true", help="skip the TUI measurement")
    args = parser.parse_args()
    sizes = args.events or (QUICK if args.quick else FULL)
    work = args.work or Path(tempfile.mkdtemp(prefix="logonscope-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = []
    for events in sizes:
        print(f"… {events:,} events", file=sys.stderr, flush=True)
        rows.append(measure(events, work, keep=args.keep, tui=not args.no_tui))
    sample_gen = work / "python-evtx-sample"
    _python(
        "-m",
        "logonscope.tui.cli",
        "generate",
        "--out",
        str(sample_gen),
        "--scenario",
        "bulk",
        "--events",
        "25000",
        "--seed",
        "2",
    )
    sample = 2_000 if args.quick else 20_000
    pyevtx = _python_evtx_rate([str(f) for f in ingest_bench._evtx_files([sample_gen])], sample)
    shutil.rmtree(sample_gen, ignore_errors=True)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    import duckdb
    import evtx

    meta = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "versions": {"evtx": getattr(evtx, "__version__", "?"), "duckdb": duckdb.__version__},
        "python_evtx_rps": pyevtx["records"] / pyevtx["seconds"],
        "seconds": time.perf_counter() - started,
    }
    print(table(rows))
    print(
        f"python-evtx: {meta['python_evtx_rps']:,.0f} records/s on a {pyevtx['records']:,}-record sample "
        f"(bare evtx loop: {rows[0]['bare_1_rps']:,.0f}); whole run {meta['seconds']:.0f} s"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"JSON: {args.out}")


if __name__ == "__main__":
    main()
