"""Benchmark: warm forced builds of a small case by two (or more) trees, paired.

    .venv/bin/python bench/build_duel.py CASE --tree old=/path/to/checkout --tree new=. [-n 16]

One long-lived process per tree (imported through the same shim as bench/tiny.py) builds its
own copy of CASE once to warm up, then builds again each time it is asked, alternately (old,
new, new, old, ...); each reports the CPU seconds of its process and its DuckDB threads for
that build (`resource.getrusage`). Pairs taken under the same load are steadier on this
shared VM than separate processes are: read the per-pair ratio. `LocalExecutor(1)`: what a
test pays per build of a tiny case. Not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tiny import _shim  # bench/ is the script folder, on sys.path

_WORKER = """
import resource, sys
from logonscope.analysis.build import build
from logonscope.storage.executors import LocalExecutor
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
build(sys.argv[1], force=True, executor=LocalExecutor(1))
print("ready", flush=True)
for _line in sys.stdin:
    c = cpu()
    build(sys.argv[1], force=True, executor=LocalExecutor(1))
    print(cpu() - c, flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", type=Path)
    parser.add_argument("--tree", action="append", default=[], help="NAME=PATH (repeatable)")
    parser.add_argument("-n", type=int, default=16)
    args = parser.parse_args()
    trees = dict(t.split("=", 1) for t in args.tree) or {"this": "."}
    work = Path(tempfile.mkdtemp(prefix="build-duel-"))
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        for name, path in trees.items():
            shim = _shim(Path(path).resolve(), work / f"shim-{name}")
            case = work / f"case-{name}"
            shutil.copytree(args.case, case, ignore=shutil.ignore_patterns(".spill", ".lock"))
            env = {**os.environ, "PYTHONPATH": str(shim)}
            procs[name] = subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(case)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert procs[name].stdout is not None
            if procs[name].stdout.readline().strip() != "ready":
                raise SystemExit(f"{name}: the worker did not start")
        runs: dict[str, list[float]] = {name: [] for name in trees}
        for k in range(args.n):
            order = list(trees) if k % 2 == 0 else list(trees)[::-1]
            for name in order:
                proc = procs[name]
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
                runs[name].append(float(proc.stdout.readline()))
        print(f"{args.case.name}: {args.n} paired warm builds, load {os.getloadavg()}")
        for name, values in runs.items():
            v = sorted(values)
            print(
                f"  {name:8} CPU s median {statistics.median(v):.3f}"
                f" (min {v[0]:.3f}, max {v[-1]:.3f})"
            )
        names = list(trees)
        for other in names[1:]:
            ratios = sorted(b / a for a, b in zip(runs[names[0]], runs[other], strict=True))
            q = len(ratios) // 4
            print(
                f"  {other}/{names[0]} per pair: median {statistics.median(ratios):.3f}"
                f" (p25 {ratios[q]:.3f}, p75 {ratios[-1 - q]:.3f})"
            )
    finally:
        for proc in procs.values():
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
