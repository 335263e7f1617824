#!/usr/bin/env python3
"""Peak memory of the whole process tree, and wall time, of ingest, build and the app.

    .venv/bin/python bench/memory.py --evidence EV --case C [--memory 1GB] [--stages ...]

Stages, each a fresh `logonscope` (or bench/tui.py) process:
- ingest: `logonscope ingest EV --case C` (the case is removed first; ingest + build);
- build:  `derived/` removed, then `logonscope users --case C` (the build alone);
- app:    `bench/tui.py --case C --runs 5` (the app under Pilot: first paint, drill-downs,
          filters, sorts over the built case).

Two figures per stage:
- tree peak: the largest sum of resident memory (VmRSS) over the process and all its
  descendants, sampled from /proc every 50 ms (what the machine has to give at once);
- max one process: `ru_maxrss` of the waited-for tree, the figure GNU `time -v` prints as
  "Maximum resident set size" (the largest single process, children included).
CPU seconds (user + system, the whole tree) are printed too: unlike wall time they do not
depend on what else runs. Linux only. Prints one table; `--json` writes the figures too. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGONSCOPE = [sys.executable, "-m", "logonscope.tui.cli"]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root: int) -> int:
    """Resident memory of `root` and every descendant, now."""
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kb(pid)
        todo.extend(tree.get(pid, ()))
    return total


def measure(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `command`; its wall time, exit code, tree peak and max one process (MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = [0]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=poll, daemon=True)
    sampler.start()
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    return {
        "command": " ".join(command[2:] if command[:2] == LOGONSCOPE[:2] else command),
        "exit": proc.returncode,
        "wall_s": round(time.perf_counter() - started, 1),
        "tree_peak_mb": round(peak[0] / 1024),
        "max_one_process_mb": round(usage.ru_maxrss / 1024),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "stderr_tail": err.decode(errors="replace").strip().splitlines()[-2:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evidence", help="EVTX folder (for the ingest stage)")
    parser.add_argument("--case", required=True, help="case folder (replaced by ingest)")
    parser.add_argument("--memory", help="the --memory setting (default: the product's)")
    parser.add_argument(
        "--stages",
        nargs="+",
        default=["ingest", "build", "app"],
        choices=["ingest", "build", "app"],
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    case = Path(args.case)
    memory = ["--memory", args.memory] if args.memory else []
    results = []
    for stage in args.stages:
        if stage == "ingest":
            if not args.evidence:
                parser.error("the ingest stage needs --evidence")
            shutil.rmtree(case, ignore_errors=True)
            command = [*LOGONSCOPE, "ingest", args.evidence, "--case", str(case), "--quiet"]
        elif stage == "build":
            shutil.rmtree(case / "derived", ignore_errors=True)
            command = [*LOGONSCOPE, "users", "--case", str(case)]
        else:
            command = [sys.executable, str(ROOT / "bench" / "tui.py"), "--case", str(case)]
            command += ["--runs", "5"]
        env = dict(os.environ)
        if args.memory:
            from logonscope.storage.connection import ENV, parse_size

            env[ENV] = str(parse_size(args.memory))
            command += memory if stage != "app" else []
        result = {"stage": stage, **measure(command, env)}
        results.append(result)
        print(
            f"{stage:7} exit {result['exit']}  wall {result['wall_s']:>7.1f} s  "
            f"tree peak {result['tree_peak_mb']:>6,} MB  "
            f"max one process {result['max_one_process_mb']:>6,} MB  "
            f"cpu {result['cpu_s']:>7.1f} s",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0 if all(r["exit"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
