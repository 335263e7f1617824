"""Benchmark: the fixed cost of a tiny build and of one CLI call, old tree against new.

    .venv/bin/python bench/tiny.py CASE [--tree old=/path/to/checkout] [--tree new=.] [-n 7]

CASE is a small built case (the demo: `logonscope demo --no-tui --case CASE`); it is copied
once per tree, never written. For each tree, in turns (old, new, old, new, ...), it measures
in a fresh process: `build(copy, force=True)` on one task (`LocalExecutor(1)`), the same
build a second time in that process (imports and caches warm: what a test suite pays per
build), a build of an empty case, a CLI call in that process (`sessions`, as a table
and as CSV: warm, what an in-process test pays), and `logonscope sessions --case copy` in a
process of its own (a CLI call on a built case, imports included). CPU seconds are the process's own plus its threads' (DuckDB's), from
`resource.getrusage`; wall times on the shared VM are noisy, CPU seconds the steadier.

A tree is any checkout of the project: it is imported through a small shim folder put
first on PYTHONPATH (`logonscope` -> its api/, storage/, analysis/, tui/), so two trees run
with one virtualenv.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_BUILD = """
import json, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
from logonscope.analysis.build import build
from logonscope.storage.executors import LocalExecutor
from logonscope.storage import case as case_folder
out = {"import": cpu()}
c = cpu(); build(sys.argv[1], force=True, executor=LocalExecutor(1)); out["build"] = cpu() - c
c = cpu(); build(sys.argv[1], force=True, executor=LocalExecutor(1)); out["again"] = cpu() - c
case_folder.create_or_open(sys.argv[2])
c = cpu(); build(sys.argv[2], force=True, executor=LocalExecutor(1)); out["empty"] = cpu() - c
import contextlib, io
from logonscope.tui.cli import main
for key, extra in (("cli csv warm", ["--format", "csv"]), ("cli table warm", [])):
    with contextlib.redirect_stdout(io.StringIO()):
        main(["sessions", "--case", sys.argv[1], *extra])  # warm: imports, caches
        c = cpu(); main(["sessions", "--case", sys.argv[1], *extra]); out[key] = cpu() - c
out["process"] = cpu()
print(json.dumps(out))
"""


def _shim(tree: Path, folder: Path) -> Path:
    pkg = folder / "logonscope"
    pkg.mkdir(parents=True)
    for item in (tree / "api").iterdir():
        if item.suffix == ".py":
            (pkg / item.name).symlink_to(item)
    for sub in ("storage", "analysis", "tui"):
        (pkg / sub).symlink_to(tree / sub)
    return folder


def _child_cpu(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", type=Path)
    parser.add_argument("--tree", action="append", default=[], help="NAME=PATH (repeatable)")
    parser.add_argument("-n", type=int, default=7)
    args = parser.parse_args()
    trees = dict(t.split("=", 1) for t in args.tree) or {"this": "."}
    work = Path(tempfile.mkdtemp(prefix="tiny-bench-"))
    runs: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    setups = {}
    try:
        for name, path in trees.items():
            shim = _shim(Path(path).resolve(), work / f"shim-{name}")
            env = {**os.environ, "PYTHONPATH": str(shim), "LOGONSCOPE_MEMORY": str(1 << 30)}
            built = work / f"case-{name}"
            shutil.copytree(args.case, built, ignore=shutil.ignore_patterns(".spill", ".lock"))
            setups[name] = (env, built)
        for k in range(args.n):
            for name, (env, built) in setups.items():
                empty = work / f"empty-{name}-{k}"
                _, out = _child_cpu([sys.executable, "-c", _BUILD, str(built), str(empty)], env)
                for key, value in json.loads(out.strip().splitlines()[-1]).items():
                    runs[name].setdefault(key, []).append(value)
                cli = [sys.executable, "-m", "logonscope.tui.cli", "sessions", "--case", str(built)]
                cpu, _ = _child_cpu(cli, env)
                runs[name].setdefault("cli sessions", []).append(cpu)
                shutil.rmtree(empty, ignore_errors=True)
        keys = list(next(iter(runs.values())))
        print(f"load {os.getloadavg()}; {args.n} samples each, CPU seconds, median (min-max)")
        print(f"{'':14}" + "".join(f"{name:>22}" for name in trees))
        for key in keys:
            cells = []
            for name in trees:
                v = runs[name][key]
                cells.append(f"{statistics.median(v):8.3f} ({min(v):.2f}-{max(v):.2f})")
            print(f"{key:14}" + "".join(f"{c:>22}" for c in cells))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
