"""Profile one build: the time of every DuckDB statement, by stage, planning vs execution.

    .venv/bin/python bench/build_profile.py CASE [--plan] [--top 15]

Builds CASE (forced) in this process, one task after another (`LocalExecutor(1)`), with
every connection wrapped so that each `execute` / `sql(...).to_arrow_table()` is timed and
put under the stage that issued it (a correlation step, the views, attribution, tampering,
Parquet writes, the assembly). `--plan` also turns on DuckDB's detailed profiler and splits
each statement's time into planning (binder + optimizer + physical planner) and the rest;
the profiler adds overhead of its own, so read wall figures from a run without it.
Wall and CPU seconds are both given: the 2-vCPU VM is shared, CPU seconds are the steadier.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

STAGE = ["prepare"]
ROWS: list[tuple[str, str, float, float, float]] = []  # stage, statement, wall, cpu, plan
PLAN = {"on": False, "file": ""}
OPERATORS: dict[tuple[str, str], float] = defaultdict(float)  # (stage, operator) -> seconds


def _operators(node: dict, stage: str) -> None:
    for child in node.get("children", []) + node.get("operator", []):
        name = child.get("name") or child.get("operator_name") or "?"
        OPERATORS[(stage, name)] += child.get("timing", child.get("operator_timing", 0.0))
        _operators(child, stage)


def _plan_seconds() -> float:
    if not PLAN["on"]:
        return 0.0
    try:
        d = json.loads(Path(PLAN["file"]).read_text())
    except (OSError, ValueError):
        return 0.0
    _operators(d, STAGE[0])
    return sum(
        d.get(k, {}).get("total_time", 0.0) for k in ("planner", "optimizer", "physical_planner")
    )


def _timed(what: str, fn, *args, **kwargs):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    ROWS.append(
        (
            STAGE[0],
            " ".join(what.split())[:70],
            time.perf_counter() - w,
            time.process_time() - c,
            _plan_seconds(),
        )
    )
    return out


class Rel:
    def __init__(self, rel, sql: str) -> None:
        self._rel, self._sql = rel, sql

    def to_arrow_table(self, *a, **k):
        return _timed(self._sql, self._rel.to_arrow_table, *a, **k)

    def fetchall(self):
        return _timed(self._sql, self._rel.fetchall)

    def __getattr__(self, name):
        return getattr(self._rel, name)


class Con:
    def __init__(self, con) -> None:
        self._con = con
        if PLAN["on"]:
            con.execute("SET enable_profiling='json'")
            con.execute(f"SET profiling_output='{PLAN['file']}'")
            con.execute("SET profiling_mode='detailed'")
            con.execute("SET profiling_coverage='ALL'")

    def execute(self, sql, *a, **k):
        _timed(sql, self._con.execute, sql, *a, **k)
        return self

    def fetchall(self):
        return self._con.fetchall()

    def fetchone(self):
        return self._con.fetchone()

    def sql(self, sql, *a, **k):
        return Rel(self._con.sql(sql, *a, **k), sql)

    def __getattr__(self, name):
        return getattr(self._con, name)


def _staged(module, name: str, stage) -> None:
    fn = getattr(module, name)

    def wrapper(*a, **k):
        STAGE[0] = stage(*a) if callable(stage) else stage
        return fn(*a, **k)

    setattr(module, name, wrapper)


def _around(module, name: str, stage: str) -> None:
    fn = getattr(module, name)

    def wrapper(*a, **k):
        before = STAGE[0]
        STAGE[0] = stage
        w, c = time.perf_counter(), time.process_time()
        try:
            return fn(*a, **k)
        finally:
            ROWS.append(
                (stage, f"(whole {name})", time.perf_counter() - w, time.process_time() - c, -1.0)
            )
            STAGE[0] = before

    setattr(module, name, wrapper)


def install() -> None:
    from logonscope.analysis import (
        attribution,
        build_assembly,
        build_parts,
        session_views,
        sessions,
        tampering,
        views,
    )
    from logonscope.storage import case, connection

    real = connection.connect
    connection.connect = lambda *a, **k: Con(real(*a, **k))
    _staged(sessions, "_sql", lambda name, *_: name)
    _staged(sessions, "event_rules_sql", "00_rules")
    _staged(session_views, "_sql", lambda name, *_: name)
    _staged(tampering, "flag_sql", "tampering flag")
    for name in ("attribute", "attribute_into"):
        if hasattr(attribution, name):
            _around(attribution, name, "attribution")
    _around(tampering, "signs", "tampering")
    _around(build_parts, "correlate_task", "task")
    _around(build_assembly, "assemble", "assembly")
    _around(views, "build_views", "assembly summaries")
    _around(case, "write_table_atomic", "parquet write")
    relation = case.write_relation

    def write_relation(path, *a, **k):  # one line per derived table the assembly writes
        w, c = time.perf_counter(), time.process_time()
        try:
            return relation(path, *a, **k)
        finally:
            ROWS.append(
                (
                    "assembly write",
                    f"(whole write_relation {Path(path).stem})",
                    time.perf_counter() - w,
                    time.process_time() - c,
                    -1.0,
                )
            )

    case.write_relation = write_relation
    part = case.write_part

    def write_part(con, select_sql, path, *a, **k):  # one stage per part: what each costs
        before = STAGE[0]
        STAGE[0] = "part " + Path(path).stem.split("-", 2)[-1]
        try:
            return _timed(f"(part) {select_sql}", part, con, select_sql, path, *a, **k)
        finally:
            STAGE[0] = before

    case.write_part = write_part
    _around(case, "write_derived_relation", "assembly write")
    _around(case, "write_derived", "assembly write")
    # a task starts by setting up its connection (before the first step names itself)
    start = build_parts.correlate_task

    def task(*a, **k):
        STAGE[0] = "task setup"
        return start(*a, **k)

    build_parts.correlate_task = task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", type=Path)
    parser.add_argument("--plan", action="store_true")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--task-events", type=int, default=None)
    args = parser.parse_args()
    PLAN["on"] = args.plan
    PLAN["file"] = os.path.join(tempfile.mkdtemp(prefix="build-profile-"), "p.json")
    install()
    from logonscope.analysis.build import TASK_EVENTS, build
    from logonscope.storage.executors import LocalExecutor

    w, c = time.perf_counter(), time.process_time()
    report = build(
        args.case,
        force=True,
        executor=LocalExecutor(1),
        task_events=args.task_events or TASK_EVENTS,
    )
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    print(
        f"build: {wall:.2f} s wall, {cpu:.2f} s CPU, {report.sessions:,} sessions; load {os.getloadavg()}"
    )
    stages: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for stage, what, sw, sc, sp in ROWS:
        if what.startswith("(whole"):
            continue
        s = stages[stage]
        s[0] += sw
        s[1] += sc
        s[2] += max(sp, 0.0)
        s[3] += 1
    print(f"{'stage':24} {'wall s':>8} {'CPU s':>8} {'plan s':>8} {'stmts':>6}")
    for stage, (sw, sc, sp, n) in sorted(stages.items(), key=lambda kv: -kv[1][0]):
        print(f"{stage:24} {sw:8.2f} {sc:8.2f} {sp:8.2f} {n:6d}")
    total = [sum(s[i] for s in stages.values()) for i in range(4)]
    print(f"{'(statements)':24} {total[0]:8.2f} {total[1]:8.2f} {total[2]:8.2f} {total[3]:6d}")
    wholes: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for stage, what, sw, sc, _ in ROWS:
        if what.startswith("(whole"):
            w = wholes[(stage, what)]
            w[0], w[1], w[2] = w[0] + sw, w[1] + sc, w[2] + 1
    print("whole calls (wall s, CPU s, calls):")
    for (stage, what), (sw, sc, n) in wholes.items():
        print(f"{stage:24} {sw:8.2f} {sc:8.2f} {n:6d}  {what}")
    if OPERATORS:
        print("operators (profiler seconds, all threads):")
        for (stage, op), sec in sorted(OPERATORS.items(), key=lambda kv: -kv[1])[:30]:
            print(f"{sec:7.2f} {stage:20} {op}")
    print("costliest statements, summed over tasks (wall s, CPU s, calls):")
    by_text: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for stage, what, sw, sc, _ in ROWS:
        if not what.startswith("(whole"):
            t = by_text[(stage, what)]
            t[0], t[1], t[2] = t[0] + sw, t[1] + sc, t[2] + 1
    for (stage, what), (sw, sc, n) in sorted(by_text.items(), key=lambda kv: -kv[1][1])[: args.top]:
        print(f"{sw:7.2f} {sc:7.2f} {n:4d} {stage:18} {what}")


if __name__ == "__main__":
    main()
