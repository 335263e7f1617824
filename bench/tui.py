#!/usr/bin/env python3
"""TUI latency on a large generated case, driven by Pilot: `python bench/tui.py [--events N]`.

Measures (DESIGN 4 targets: first paint ≤ 1 s, p95 ≤ 100 ms):
- first paint: from starting the app to the Users table on screen (and to every pane loaded);
- p95/median latency, key press → every worker done and the screen repainted, of
  drill-down (next user: User+IP, Sessions and detail reload; next session: detail),
  filter (x: failures only, on and off), sort (O: reverse the Sessions order),
  pane switch (Tab), and the case-wide sessions list (s).

Beside the wall time, each key's cost to the UI thread: its own CPU time (`time.thread_time`,
workers excluded) and, with `--profile DIR`, its Python calls (a count the machine's load does
not change; one cProfile per action is written to DIR). On a loaded machine compare versions
by those, run back to back (`PYTHONPATH=<unpacked REV>` runs another version of the code).
Also counted per key, from hooks on Textual: frames drawn (compositor updates with content),
lines the compositor asked widgets for, and table cells the fast-table library rendered itself
(cells `tui.widgets.grid.Grid` draws or keeps are not counted).

The case (N events over 8 hosts, seed 1) is generated with `storage.scenarios`, ingested and
built once, then reused (`--case`). Prints one table; `--json` writes the figures too.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

from textual.pilot import Pilot

from logonscope.tui.pilot import settle

ROOT = Path(__file__).resolve().parent.parent


def prepare(case: Path, evidence: Path, events: int) -> dict[str, float]:
    from logonscope.analysis.build import ensure_built
    from logonscope.storage.case import is_case
    from logonscope.storage.ingest import ingest
    from logonscope.storage.scenarios import generate

    timings: dict[str, float] = {}
    if not (is_case(case) and (case / "evidence.parquet").exists()):
        if not (evidence / "truth.json").exists():
            started = time.perf_counter()
            generate(evidence, events=events, hosts=8, seed=1)
            timings["generate_s"] = time.perf_counter() - started
        started = time.perf_counter()
        ingest([evidence], case)
        timings["ingest_s"] = time.perf_counter() - started
    started = time.perf_counter()
    ensure_built(case)
    timings["build_s"] = time.perf_counter() - started
    return timings


def case_size(case: Path) -> dict[str, int]:
    from logonscope.storage.case import connect

    con = connect(case)
    try:
        out = {}
        for name in ("events", "sessions", "users", "user_ips"):
            out[name] = con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0]  # fixed names
        return out
    finally:
        con.close()


class Counts:
    """Frames, lines and table cells drawn, counted by wrapping Textual's own calls."""

    def __init__(self) -> None:
        from textual.app import App
        from textual.widget import Widget
        from textual_fastdatatable import DataTable

        self.frames = self.lines = self.cells = 0
        display, render_lines, render_cell = (
            App._display,
            Widget.render_lines,
            DataTable._render_cell,
        )

        def counted_display(app, screen, renderable):  # type: ignore[no-untyped-def]
            if renderable is not None and getattr(renderable, "regions", True):
                self.frames += 1
            return display(app, screen, renderable)

        def counted_lines(widget, crop):  # type: ignore[no-untyped-def]
            strips = render_lines(widget, crop)
            self.lines += len(strips)
            return strips

        def counted_cell(table, row, column, base_style, width, *args, **kwargs):  # type: ignore[no-untyped-def]
            key_count = len(table._cell_render_cache)
            out = render_cell(table, row, column, base_style, width, *args, **kwargs)
            self.cells += len(table._cell_render_cache) != key_count
            return out

        App._display = counted_display  # type: ignore[method-assign]
        Widget.render_lines = counted_lines  # type: ignore[method-assign]
        DataTable._render_cell = counted_cell  # type: ignore[method-assign]

    def snapshot(self) -> tuple[int, int, int]:
        return self.frames, self.lines, self.cells


async def measure(
    case: Path,
    runs: int,
    size: tuple[int, int],
    cpu_samples: dict[str, list[float]],
    profiles: dict[str, cProfile.Profile] | None = None,
    starts: int = 3,
    counts: dict[str, list[tuple[int, int, int]]] | None = None,
) -> dict[str, list[float]]:
    from logonscope.tui.app import make_app
    from logonscope.tui.screens.main import MainScreen

    samples: dict[str, list[float]] = {}
    counter = Counts()

    def add(name: str, seconds: float) -> None:
        samples.setdefault(name, []).append(seconds)

    async def timed(name: str, pilot: Pilot, *keys: str) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        before = counter.snapshot()
        profiler = None if profiles is None else profiles.setdefault(name, cProfile.Profile())
        if profiler is not None:
            profiler.enable()
        await pilot.press(*keys)
        await settle(pilot, 2)
        if profiler is not None:
            profiler.disable()
        add(name, time.perf_counter() - started)
        if counts is not None:
            after = counter.snapshot()
            counts.setdefault(name, []).append(
                tuple(a - b for a, b in zip(after, before, strict=True))
            )
        # the UI thread's own CPU time (workers run in other threads): what a key costs
        # the thread that draws, whatever else the machine is doing
        cpu_samples.setdefault(name, []).append(time.thread_time() - cpu)

    for _ in range(starts):  # first paint, a few cold-ish starts
        app = make_app(case, build=False, label="bench")
        started = time.perf_counter()
        async with app.run_test(size=size) as pilot:
            while True:
                main = app.screen
                if isinstance(main, MainScreen) and main.pane("users").grid is not None:
                    await pilot.pause()
                    add("first paint (Users on screen)", time.perf_counter() - started)
                    break
                await asyncio.sleep(0.005)
            await settle(pilot, 2)
            add("every pane loaded", time.perf_counter() - started)
            await pilot.press("q")

    app = make_app(case, build=False, label="bench")
    async with app.run_test(size=size) as pilot:
        await settle(pilot, 2)
        main = app.screen
        users = main.pane("users")
        n_users = users.shaped.rows.num_rows if users.shaped else 0
        for _ in range(runs):  # the bench's floor: a key bound to nothing
            await timed("floor: unbound key", pilot, "z")
        for i in range(runs):  # drill: next user (User+IP, Sessions, detail reload)
            await timed(
                "drill: next user → IPs+sessions+detail",
                pilot,
                "down" if (i // max(n_users - 1, 1)) % 2 == 0 else "up",
            )
        for _ in range(max(runs // 3, 3)):  # → User+IP → Sessions (of that IP), and back
            await timed("drill: Enter user → addresses", pilot, "enter")
            await timed("drill: Enter address → sessions", pilot, "enter")
            await timed("back: Esc", pilot, "escape")
            await pilot.press("escape")
            await settle(pilot, 2)
            await pilot.press("u")
            await settle(pilot, 2)
        await pilot.press("enter", "enter")  # → User+IP → Sessions (of that IP)
        await settle(pilot, 2)
        await pilot.press("escape")  # back to User+IP, sessions of the user
        await settle(pilot, 2)
        await pilot.press("tab")  # → Sessions
        await settle(pilot, 2)
        for _ in range(runs):  # drill: next session (detail)
            await timed("drill: next session → detail", pilot, "down")
        await timed("drill: Enter session → detail", pilot, "enter")
        await pilot.press("shift+tab")
        await settle(pilot, 2)
        main.pane("sessions").order = None
        from logonscope.tui.tables import Sort

        main.pane("sessions").set_order(Sort("start", False))
        await settle(pilot, 2)
        for _ in range(runs):  # sort: reverse the Sessions order
            await timed("sort: O (reverse Sessions)", pilot, "O")
        for _ in range(runs):  # filter: failures only on/off (every pane reloads)
            await timed("filter: x (failures only on/off)", pilot, "x")
        for _ in range(runs):  # pane switch
            await timed("pane switch: Tab", pilot, "tab")
        for _ in range(max(runs // 5, 3)):  # case-wide list, then back to the user
            await timed("case-wide sessions: s", pilot, "s")
            await pilot.press("escape")
            await settle(pilot, 2)
    return samples


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    parser.add_argument("--case", help="case folder (default /tmp/logonscope-bench-<N>/case)")
    parser.add_argument("--evidence", help="evidence folder (default beside the case)")
    parser.add_argument("--runs", type=int, default=30, help="samples per action")
    parser.add_argument("--size", default="120x36", help="terminal size WxH")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--starts", type=int, default=3, help="app starts timed (first paint)")
    parser.add_argument(
        "--profile", help="write a cProfile of the UI thread per action into this folder"
    )
    args = parser.parse_args(argv)
    base = Path(f"/tmp/logonscope-bench-{args.events}")
    case = Path(args.case) if args.case else base / "case"
    evidence = Path(args.evidence) if args.evidence else case.parent / "evidence"
    width, height = (int(v) for v in args.size.lower().split("x"))

    setup = prepare(case, evidence, args.events)
    size = case_size(case)
    cpu: dict[str, list[float]] = {}
    profiles: dict[str, cProfile.Profile] | None = {} if args.profile else None
    counts: dict[str, list[tuple[int, int, int]]] = {}
    samples = asyncio.run(
        measure(case, args.runs, (width, height), cpu, profiles, args.starts, counts)
    )
    calls: dict[str, float] = {}
    for name, profiler in (profiles or {}).items():
        # Python calls on the UI thread per key: a count, unlike a time, that the
        # machine's load does not change
        calls[name] = pstats.Stats(profiler).total_calls / len(samples[name])  # type: ignore[attr-defined]
        folder = Path(args.profile)
        folder.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "-" for c in name.split(":")[-1].strip())
        profiler.dump_stats(folder / f"{slug}.prof")

    print(
        f"case {case}: {size['events']:,} events, {size['sessions']:,} sessions, "
        f"{size['users']:,} users, {size['user_ips']:,} user+IP rows; terminal {args.size}"
    )
    for key, value in setup.items():
        print(f"  setup {key}: {value:.1f}")
    print(
        f"{'action':44} {'n':>3} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}"
        f" {'UI cpu med':>10} {'UI cpu p95':>10} {'UI calls':>9}"
        f" {'frames':>6} {'lines':>6} {'cells':>6}"
    )
    report = {"case": str(case), "size": size, "setup": setup, "actions": {}}
    for name, values in samples.items():
        med, high, top = statistics.median(values), p95(values), max(values)
        ui = cpu.get(name) or [float("nan")]
        got = counts.get(name) or [(0, 0, 0)]
        per_key = [statistics.mean(c[i] for c in got) for i in range(3)]  # means per key
        report["actions"][name] = {
            "n": len(values),
            "median_ms": med * 1000,
            "p95_ms": high * 1000,
            "max_ms": top * 1000,
            "ui_cpu_median_ms": statistics.median(ui) * 1000,
            "ui_cpu_p95_ms": p95(ui) * 1000,
            "ui_calls": calls.get(name),
            "frames_lines_cells": per_key,
        }
        print(
            f"{name:44} {len(values):>3} {med * 1000:>10.1f} {high * 1000:>8.1f} {top * 1000:>8.1f}"
            f" {statistics.median(ui) * 1000:>10.1f} {p95(ui) * 1000:>10.1f}"
            f" {calls.get(name, float('nan')):>9,.0f}"
            f" {per_key[0]:>6.1f} {per_key[1]:>6.0f} {per_key[2]:>6.0f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
