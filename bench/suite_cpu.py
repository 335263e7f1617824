"""Benchmark: where the test suite's CPU goes, per test and per file, under xdist.

    PYTHONPATH=bench SUITE_CPU_DIR=/tmp/cpu .venv/bin/python -m pytest -p suite_cpu -n 2
    .venv/bin/python bench/suite_cpu.py /tmp/cpu [N]

As a pytest plugin (`-p suite_cpu`, with bench/ on PYTHONPATH) it records, for every test,
the CPU seconds of the worker (all its threads: DuckDB's too), of the child processes it
waited for (spawned ingest or build workers, a Dask cluster, a real CLI process), and the
wall time, plus the CPU spent inside `ingest`, `build`, `build_once` (the shared generated
cases), `storage.connection.connect` (every DuckDB connection the product opens; with
`<name>_calls`, how many calls; `case_connect`: those to a case, with its views) and Textual's `App.run_test` (Pilot apps), the wall the event loop sat idle (`idle_timer`: woken
by a timer or a sleep; `idle_wait`: woken by a thread or a pipe), and per test its start time
and the main thread's run-queue wait (`queued`: runnable but without a core, the machine's
load): one JSON file per xdist worker. Run as a
script it sums them. CPU seconds, not wall: the 2-core machine is shared, and CPU is what
two busy workers divide between them.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_rows: list[dict[str, Any]] = []
_inside: dict[str, float] = {}


def _queued() -> float:
    """Seconds the main thread has waited for a core while runnable (the machine's load)."""
    try:
        fields = Path(f"/proc/self/task/{os.getpid()}/schedstat").read_text().split()
    except OSError:
        return 0.0
    return int(fields[1]) / 1e9


def _cpu() -> tuple[float, float]:
    t = os.times()
    return t.user + t.system, t.children_user + t.children_system


def _count(module: str, name: str, key: str) -> None:
    """Add the CPU spent inside `module.name` to `_inside[key]` (outermost calls only)."""
    owner = importlib.import_module(module)
    fn: Callable[..., Any] = getattr(owner, name)
    depth = [0]

    @functools.wraps(fn)
    def counted(*args: Any, **kwargs: Any) -> Any:
        depth[0] += 1
        start = _cpu()[0]
        try:
            return fn(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                _inside[key] = _inside.get(key, 0.0) + _cpu()[0] - start
                _inside[f"{key}_calls"] = _inside.get(f"{key}_calls", 0) + 1

    setattr(owner, name, counted)


def pytest_configure(config: pytest.Config) -> None:
    _count("logonscope.storage.ingest", "ingest", "ingest")
    _count("logonscope.analysis.build", "build", "build")
    _count("tests.cases", "build_once", "build_once")
    _count("logonscope.storage.connection", "connect", "connect")  # every DuckDB connection
    _count("logonscope.storage.case", "connect", "case_connect")  # ... to a case, its views
    import textual.app

    run_test = textual.app.App.run_test

    @contextlib.asynccontextmanager
    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = _cpu()[0]
        try:
            async with run_test(self, *args, **kwargs) as pilot:
                yield pilot
        finally:
            _inside["run_test"] = _inside.get("run_test", 0.0) + _cpu()[0] - start
            _inside["apps"] = _inside.get("apps", 0) + 1

    textual.app.App.run_test = counted  # type: ignore[method-assign]
    _count_idle()


def _count_idle() -> None:
    """Wall seconds the event loop's thread sat in `select` with nothing to do: `idle_timer`
    when it woke for a timer (a sleep, a `set_timer`), `idle_wait` when a thread's result or
    a pipe woke it (a query running in a worker thread, a child process)."""
    import selectors

    select = selectors.EpollSelector.select

    def counted(self: Any, timeout: float | None = None) -> Any:
        if timeout == 0:
            return select(self, timeout)
        start = time.perf_counter()
        events = select(self, timeout)
        key = "idle_wait" if events else "idle_timer"
        _inside[key] = _inside.get(key, 0.0) + time.perf_counter() - start
        return events

    selectors.EpollSelector.select = counted  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    own, children = _cpu()
    wall = time.perf_counter()
    start = time.time()
    queued = _queued()
    try:
        return (yield)
    finally:
        own2, children2 = _cpu()
        _rows.append(
            {
                "id": item.nodeid,
                "cpu": own2 - own,
                "child": children2 - children,
                "wall": time.perf_counter() - wall,
                "start": start,
                "queued": _queued() - queued,
                "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
                "inside": dict(_inside),
            }
        )
        _inside.clear()


def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = os.environ.get("SUITE_CPU_DIR")
    if not folder:
        return
    own, children = _cpu()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    Path(folder).mkdir(parents=True, exist_ok=True)
    out = {"rows": _rows, "cpu": own, "child": children}
    (Path(folder) / f"{worker}.json").write_text(json.dumps(out), encoding="utf-8")


def report(folder: Path, top: int = 15) -> None:
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob("gw*.json")) or sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        rows += data["rows"]
        busy = sum(r["wall"] for r in data["rows"])
        print(
            f"{path.stem}: process CPU {data['cpu']:.1f} s + children {data['child']:.1f} s, "
            f"{len(data['rows'])} tests, {busy:.1f} s in tests"
        )
    total = sum(r["cpu"] + r["child"] for r in rows)
    print(f"tests: {len(rows)}, CPU {total:.1f} s (children {sum(r['child'] for r in rows):.1f})")
    print(
        f"wall in tests {sum(r['wall'] for r in rows):.1f} s, "
        f"queued for a core {sum(r.get('queued', 0.0) for r in rows):.1f} s"
    )
    inside: collections.Counter[str] = collections.Counter()
    for r in rows:
        inside.update(r["inside"])
    print("inside: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(inside.items())))
    per_file: collections.Counter[str] = collections.Counter()
    for r in rows:
        per_file[r["id"].split("::")[0]] += r["cpu"] + r["child"]
    print("\nCPU s  file")
    for name, cpu in per_file.most_common(top):
        print(f"{cpu:6.1f}  {name}")
    print("\nCPU s  wall s  test")
    for r in sorted(rows, key=lambda r: -(r["cpu"] + r["child"]))[:top]:
        print(f"{r['cpu'] + r['child']:6.1f}  {r['wall']:6.1f}  {r['id']}")


if __name__ == "__main__":
    report(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 15)
