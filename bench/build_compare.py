"""Benchmark: one build (forced) of the same case by two versions of the code, alternated.

    .venv/bin/python bench/build_compare.py CASE --baseline 2ef5762 --runs 3

CASE is copied twice under a temporary folder (next to CASE unless `--work`); each run builds
one copy with the working tree's code and the other with `--baseline`'s (`git archive` of
storage/, analysis/ and tui/, first on PYTHONPATH), alternating which goes first. Each build
is a fresh process (`logonscope.analysis.build.build(force=True)` on the default local
executor); its wall time and the CPU seconds of it and its workers (rusage of the waited-for
children) are printed per run, then medians and new/old ratios. The shared 2-vCPU VM is noisy:
read the ratios of one run, and the CPU seconds. With `--check`, the two copies' derived tables
are compared row for row afterwards (bench/derived_equal.py). Not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revisions import code_at  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parents[1]
BUILD = (
    "import sys; from logonscope.analysis.build import build; "
    "r = build(sys.argv[1], force=True); print(r.sessions, r.sources)"
)


def _run(case: Path, code: Path | None) -> tuple[float, float, str]:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", BUILD, str(case)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # the last line printed (DuckDB's progress bar may have drawn before it)
    out = [x for x in out.replace("\r", "\n").splitlines() if x.strip()][-1].strip()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", type=Path)
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument(
        "--new-code", type=Path, default=None, help="a folder holding logonscope/ to run as new"
    )
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the two copies")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="build-compare-", dir=args.work or args.case.parent))
    try:
        code = code_at(args.baseline, work / "code")
        cases = {"old": work / "old", "new": work / "new"}
        for case in cases.values():
            shutil.copytree(args.case, case)
        seen: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
        for n in range(args.runs):
            order = ["old", "new"] if n % 2 == 0 else ["new", "old"]
            for which in order:
                wall, cpu, out = _run(cases[which], code if which == "old" else args.new_code)
                seen[which].append((wall, cpu))
                print(
                    f"run {n + 1} {which}: {wall:6.2f} s wall {cpu:6.2f} CPU s  ({out}); "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        med = {w: [statistics.median(x[i] for x in seen[w]) for i in (0, 1)] for w in seen}
        print(
            f"median old: {med['old'][0]:.2f} s wall, {med['old'][1]:.2f} CPU s; "
            f"new: {med['new'][0]:.2f} s wall, {med['new'][1]:.2f} CPU s; new/old: wall "
            f"{med['new'][0] / med['old'][0]:.2f}x, CPU {med['new'][1] / med['old'][1]:.2f}x"
        )
        if args.check:
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "derived_equal.py"),
                    *map(str, cases.values()),
                ],
                check=False,
            )
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
