#!/usr/bin/env python3
"""TUI latency on a large generated case, driven by Pilot: `python bench/tui.py [--events N]`.

Measures (DESIGN 4 targets: first paint ≤ 1 s, p95 ≤ 100 ms):
- first paint: from starting the app to the Users table on screen (and to every pane loaded);
- p95/median latency, key press → every worker done and the screen repainted, of
  drill-down (next user: User+IP, Sessions and detail reload; next session: detail),
  filter (x: failures only, on and off), sort (O: reverse the Sessions order),
  pane switch (Tab), and the case-wide sessions list (s).

The case (N events over 8 hosts, seed 1) is generated with `storage.scenarios`, ingested and
built once, then reused (`--case`). Prints one table; `--json` writes the figures too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


async def measure(case: Path, runs: int, size: tuple[int, int]) -> dict[str, list[float]]:
    from logonscope.tui.app import make_app
    from logonscope.tui.screens.main import MainScreen

    samples: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        samples.setdefault(name, []).append(seconds)

    async def timed(name: str, pilot: Pilot, *keys: str) -> None:
        started = time.perf_counter()
        await pilot.press(*keys)
        await settle(pilot, 2)
        add(name, time.perf_counter() - started)

    for _ in range(3):  # first paint, a few cold-ish starts
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
        for i in range(runs):  # drill: next user (User+IP, Sessions, detail reload)
            await timed(
                "drill: next user → IPs+sessions+detail",
                pilot,
                "down" if (i // max(n_users - 1, 1)) % 2 == 0 else "up",
            )
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
    args = parser.parse_args(argv)
    base = Path(f"/tmp/logonscope-bench-{args.events}")
    case = Path(args.case) if args.case else base / "case"
    evidence = Path(args.evidence) if args.evidence else case.parent / "evidence"
    width, height = (int(v) for v in args.size.lower().split("x"))

    setup = prepare(case, evidence, args.events)
    size = case_size(case)
    samples = asyncio.run(measure(case, args.runs, (width, height)))

    print(
        f"case {case}: {size['events']:,} events, {size['sessions']:,} sessions, "
        f"{size['users']:,} users, {size['user_ips']:,} user+IP rows; terminal {args.size}"
    )
    for key, value in setup.items():
        print(f"  setup {key}: {value:.1f}")
    print(f"{'action':44} {'n':>3} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    report = {"case": str(case), "size": size, "setup": setup, "actions": {}}
    for name, values in samples.items():
        med, high, top = statistics.median(values), p95(values), max(values)
        report["actions"][name] = {
            "n": len(values),
            "median_ms": med * 1000,
            "p95_ms": high * 1000,
            "max_ms": top * 1000,
        }
        print(
            f"{name:44} {len(values):>3} {med * 1000:>10.1f} {high * 1000:>8.1f} {top * 1000:>8.1f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
