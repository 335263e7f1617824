#!/usr/bin/env python3
"""Where a key's time goes in the real app: `python bench/tui_trace.py --case C [KEYS...]`.

Runs `logonscope open --case C` in a detached tmux session as `bench/tui_terminal.py` does,
with the app's process instrumented (no change to the app's code): every message handled on
the UI thread that took over 1 ms (its type, the widget, wall and thread CPU ms), every layout
and compositor pass, every frame written to the terminal (its size), the Backend's reads and
the workers' shaping (their thread), and Python's collections of the oldest generation. The
keys are sent one by one once the screen has settled; for each key it prints when the app
got it and, in order, what ran until the screen settled: so the UI thread's work (handlers,
layout, frames), the workers' and the frames the terminal sees are told apart. `--profile`
also writes a cProfile of the UI thread to `<trace>.prof`; `--widgets` logs each widget's
drawing in a pass (lines, wall and CPU ms); `--min-ms 0` logs every UI-thread message, with
the widget that asked for a layout or repaint. Not a test; a tool to look with.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import threading
import time
from pathlib import Path

DEFAULT_KEYS = (
    "Down Down Up Up Enter Enter Escape Escape Enter Enter Escape Escape Tab Tab Tab Tab "
    "Tab Tab Down Down Up Up o Enter o Enter x x s Escape s Escape"
).split()


def instrument(trace: Path, profile: bool, widgets: bool = False, min_s: float = 0.001) -> None:
    """Patch Textual and the app's backend to log timings to `trace` (one JSON a line);
    a UI-thread message is logged when it took over `min_s` seconds (or is a key)."""
    import gc

    from textual.app import App
    from textual.message_pump import MessagePump
    from textual.screen import Screen

    out = trace.open("w", buffering=1)
    lock = threading.Lock()
    main = threading.get_ident()

    def log(kind: str, start: float, end: float, **extra) -> None:
        row = {"k": kind, "t": start, "ms": round(1000 * (end - start), 2), **extra}
        if threading.get_ident() != main:
            row["thread"] = threading.current_thread().name
        with lock:
            out.write(json.dumps(row, default=str) + "\n")

    dispatch = MessagePump._dispatch_message

    async def timed_dispatch(self, message):
        start, cpu = time.monotonic(), time.thread_time()
        try:
            return await dispatch(self, message)
        finally:
            end = time.monotonic()
            name = type(message).__name__
            if end - start > min_s or name == "Key":
                extra = {"key": getattr(message, "key", None)} if name == "Key" else {}
                if name in ("Layout", "Update") and getattr(message, "widget", None) is not None:
                    widget = message.widget
                    extra = {"key": type(widget).__name__ + (f"#{widget.id}" if widget.id else "")}
                log(
                    "msg",
                    start,
                    end,
                    m=name,
                    to=type(self).__name__ + (f"#{self.id}" if getattr(self, "id", None) else ""),
                    cpu=round(1000 * (time.thread_time() - cpu), 2),
                    **extra,
                )

    MessagePump._dispatch_message = timed_dispatch

    def wrap(owner, name: str, kind: str, size=None) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start, cpu = time.monotonic(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                extra = size(args) if size else {}
                used = round(1000 * (time.thread_time() - cpu), 2)
                log(kind, start, time.monotonic(), cpu=used, **extra)

        setattr(owner, name, timed)

    if widgets:  # each widget's drawing in a pass: which, how many lines, how long
        from textual.widget import Widget

        render_lines = Widget.render_lines

        def timed_lines(self, crop):
            start, cpu = time.monotonic(), time.thread_time()
            try:
                return render_lines(self, crop)
            finally:
                ms = 1000 * (time.monotonic() - start)
                if ms >= 0.3:
                    name = type(self).__name__ + (f"#{self.id}" if self.id else "")
                    used = round(1000 * (time.thread_time() - cpu), 2)
                    log("draw", start, time.monotonic(), w=name, lines=crop.height, cpu=used)

        Widget.render_lines = timed_lines
        from logonscope.tui.widgets.grid import Grid

        grid_lines = Grid.render_lines

        def timed_grid(self, crop):
            start, cpu = time.monotonic(), time.thread_time()
            try:
                return grid_lines(self, crop)
            finally:
                used = round(1000 * (time.thread_time() - cpu), 2)
                log(
                    "draw",
                    start,
                    time.monotonic(),
                    w=f"Grid.{self.id}",
                    lines=crop.height,
                    cpu=used,
                )

        Grid.render_lines = timed_grid

    wrap(Screen, "_refresh_layout", "layout")
    wrap(Screen, "_compositor_refresh", "compose")
    wrap(App, "_display", "display")

    from logonscope.tui import backend as backend_module
    from logonscope.tui.screens import jobs

    for name in ("users", "user_ips", "sessions", "session_rows", "session_detail"):
        wrap(backend_module.Backend, name, f"backend.{name}")
    wrap(jobs.PaneJob, "loaded", "shape", lambda a: {"pane": a[0].pane})
    wrap(jobs.DetailJob, "loaded", "shape-detail")

    from textual.drivers import linux_driver

    write = linux_driver.LinuxDriver.write

    def timed_write(self, data: str) -> None:
        log("write", time.monotonic(), time.monotonic(), n=len(data))
        write(self, data)

    linux_driver.LinuxDriver.write = timed_write

    started: dict[int, float] = {}

    def collected(phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started[threading.get_ident()] = time.monotonic()
        else:
            log(
                "gc2",
                started.pop(threading.get_ident(), time.monotonic()),
                time.monotonic(),
                tracked=len(gc.get_objects()),
                collected=info.get("collected"),
            )

    gc.callbacks.append(collected)

    if profile:
        import atexit
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        atexit.register(lambda: (profiler.disable(), profiler.dump_stats(f"{trace}.prof")))


def app_main(
    case: str, trace: str, profile: bool, widgets: bool = False, min_ms: float = 1.0
) -> int:
    instrument(Path(trace), profile, widgets, min_ms / 1000)
    from logonscope.tui.cli import main

    return main(["open", "--case", case])


def report(trace: Path, keys: list[tuple[str, float, float, float]], full: bool) -> None:
    rows = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    rows.sort(key=lambda r: r["t"])
    for index, (key, sent, first, last) in enumerate(keys):
        end = keys[index + 1][1] if index + 1 < len(keys) else float("inf")
        mine = [r for r in rows if sent <= r["t"] < end]
        writes = [r for r in mine if r["k"] == "write"]
        ui = sum(r["ms"] for r in mine if r["k"] == "msg" and "thread" not in r)
        print(
            f"\n== {key}: first change {1000 * first:.0f} ms, settled {1000 * last:.0f} ms; "
            f"{len(writes)} frames ({sum(w['n'] for w in writes):,} chars); "
            f"UI-thread handlers {ui:.0f} ms"
        )
        for r in mine:
            at = 1000 * (r["t"] - sent)
            if r["k"] == "write":
                print(f"  {at:7.1f}  write {r['n']:,} chars")
            elif r["k"] == "msg":
                label = r["m"] + (f"({r['key']})" if r.get("key") else "")
                if full or r["ms"] >= 3 or r["m"] == "Key":
                    print(
                        f"  {at:7.1f}  {r['ms']:6.1f} ms (cpu {r['cpu']:.1f})  {label} → {r['to']}"
                    )
            else:
                where = f" [{r['thread']}]" if "thread" in r else ""
                extra = f" {r['pane']}" if "pane" in r else ""
                if "cpu" in r and "w" not in r:
                    extra += f" (cpu {r['cpu']:.1f})"
                if "w" in r:
                    extra = f" {r['w']} ({r['lines']} lines, cpu {r['cpu']:.1f})"
                if "tracked" in r:
                    extra = f" ({r['tracked']:,} objects tracked, {r['collected']:,} freed)"
                if full or r["ms"] >= 1 or r["k"] in ("layout", "gc2", "draw"):
                    print(f"  {at:7.1f}  {r['ms']:6.1f} ms  {r['k']}{extra}{where}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", required=True)
    parser.add_argument("--size", default="120x36")
    parser.add_argument("--quiet", type=float, default=0.6)
    parser.add_argument("--trace", default="/tmp/logonscope-trace.jsonl")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--full", action="store_true", help="every logged step, not only the slow")
    parser.add_argument(
        "--widgets", action="store_true", help="each widget's drawing in a pass (its lines, ms)"
    )
    parser.add_argument(
        "--min-ms", type=float, default=1.0, help="log UI-thread messages over this (0: all)"
    )
    parser.add_argument("--app", action="store_true", help=argparse.SUPPRESS)  # in tmux
    parser.add_argument("keys", nargs="*", default=DEFAULT_KEYS)
    args = parser.parse_args(argv)
    if args.app:
        return app_main(args.case, args.trace, args.profile, args.widgets, args.min_ms)

    import tui_terminal as bench

    ready = bench.first_user(Path(args.case))
    flags = (" --profile" if args.profile else "") + (" --widgets" if args.widgets else "")
    flags += f" --min-ms {args.min_ms}"
    cmd = (
        f"{shlex.quote(sys.executable)} {shlex.quote(__file__)} --app --case "
        f"{shlex.quote(args.case)} --trace {shlex.quote(args.trace)}{flags}"
    )
    width, height = (int(v) for v in args.size.split("x"))
    term = bench.Terminal(cmd, (width, height))
    keys: list[tuple[str, float, float, float]] = []
    try:
        shown = term.wait_for(ready)
        print(f"Users rows after {1000 * shown:.0f} ms")
        term.settle(term.started, 2.0)
        while time.perf_counter() - term.started < 180:  # the background read done
            before = term.cpu()
            time.sleep(2.0)
            if term.cpu() - before < 0.03:
                break
        for key in args.keys:
            sent_mono = time.monotonic()
            first, last = term.key(key, args.quiet)
            keys.append((key, sent_mono, first, last))
        term.send("q")
        time.sleep(1.5 if args.profile else 0.5)
    finally:
        term.close()
    report(Path(args.trace), keys, args.full)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
