#!/usr/bin/env python3
"""Render every pane of the demo to SVG and PNG: `python screenshots/make.py [--out DIR]`.

Builds the demo case (seed 0, the same every time) in a temporary folder, drives the app
with keys through `tui.app.make_app` (the factory the tests use) at 120×36 (and one 80×24),
saves each screen as SVG with `App.save_screenshot`, then converts it to PNG with
`rsvg-convert` (Debian: `apt install librsvg2-bin fonts-firacode`). Without rsvg-convert the
SVGs are still written and the script says clearly that the PNGs were not.
Generated, never edited by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from logonscope.tui.pilot import settle

ROOT = Path(__file__).resolve().parent.parent

Steps = Callable[[Pilot], Awaitable[None]]


def press(*keys: str) -> Steps:
    async def run(pilot: Pilot) -> None:
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


def then(*steps: Steps) -> Steps:
    async def run(pilot: Pilot) -> None:
        for step in steps:
            await step(pilot)

    return run


async def _dave_home_ip(pilot: Pilot) -> None:
    """Users: search dave, Enter; put the cursor on his rare public address."""
    await press("slash", *"dave", "enter", "enter")(pilot)
    ips = pilot.app.screen.pane("ips")
    ips.grid.move_cursor(row=ips.row_of("81.2.69.160"))
    await settle(pilot)


SHOTS: list[tuple[str, tuple[int, int], Steps, str]] = [
    ("users", (120, 36), press(), "Users (system accounts hidden), timeline strip, status line"),
    ("user-ips", (120, 36), _dave_home_ip, "User + source IP: dave's rare public address"),
    ("sessions", (120, 36), then(_dave_home_ip, press("enter")), "Sessions from that address"),
    (
        "detail-summary",
        (120, 36),
        then(_dave_home_ip, press("enter", "enter")),
        "Session detail, Summary tab",
    ),
    (
        "detail-sources",
        (120, 36),
        then(_dave_home_ip, press("enter", "enter", "t")),
        "Session detail, Sources tab: every event that defined the session",
    ),
    (
        "detail-activity",
        (120, 36),
        then(_dave_home_ip, press("enter", "enter", "t", "t")),
        "Session detail, Activity tab: events attributed to the session",
    ),
    (
        "event",
        (120, 36),
        then(_dave_home_ip, press("enter", "enter", "t", "enter")),
        "Enter on a source: the whole stored event as JSON",
    ),
    (
        "all-sessions-failures",
        (120, 36),
        press("s", "x"),
        "Case-wide sessions, failures only (x): bursts of failures are one row each",
    ),
    (
        "bruteforce-ips",
        (120, 36),
        press("x"),
        "administrator: a burst row (failure ×23) and User + IP with logons and failures apart",
    ),
    (
        "burst-attempts",
        (120, 36),
        press("x", "tab", "tab", "enter"),
        "Enter on a burst row: its attempts, one row each (Esc comes back)",
    ),
    (
        "views-desktop",
        (120, 36),
        then(_dave_home_ip, press("enter", "v", "v", "enter")),
        "v: the desktop view of dave's sessions (one per LSM session id per boot) and its detail",
    ),
    ("columns", (120, 36), press("tab", "tab", "C"), "Column chooser (C): [x] shown columns"),
    ("filters", (120, 36), press("f"), "Filter dialog (f)"),
    ("help", (120, 36), press("question_mark"), "Help: every key (?)"),
    (
        "host-timeline",
        (120, 36),
        press("h", "enter", "down", "down", "down"),
        "Host timeline (h): who was on SRV01 when; bars by logon kind, failures as ✗",
    ),
    (
        "host-timeline-80x24",
        (80, 24),
        press("h", "enter", "down", "down", "down", "plus", "right"),
        "Host timeline at 80×24, zoomed in (+) and panned (→)",
    ),
    (
        "narrow-80x24",
        (80, 24),
        press("x", "enter", "enter"),
        "80×24: one pane at a time (Tab moves on); the filters line and ? help stay",
    ),
]


async def shoot(case: Path, out: Path, name: str, size: tuple[int, int], steps: Steps) -> Path:
    from logonscope.tui.app import make_app

    app = make_app(case, label="demo")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await steps(pilot)
        await settle(pilot)
        app.save_screenshot(filename=f"{name}.svg", path=str(out))
    return out / f"{name}.svg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="output folder")
    parser.add_argument("--case", help="use this demo case folder (default: a fresh temp one)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these screenshots")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rsvg = shutil.which("rsvg-convert")
    if rsvg is None:
        print(
            "screenshots: rsvg-convert is MISSING: writing SVG only, no PNG. Install it with "
            "`apt install librsvg2-bin fonts-firacode` and run again.",
            file=sys.stderr,
        )

    from logonscope.tui.commands.demo import prepare

    with tempfile.TemporaryDirectory(prefix="logonscope-shots-") as tmp:
        case = Path(args.case) if args.case else Path(tmp) / "demo-case"
        prepare(case, quiet=True)
        for name, size, steps, caption in SHOTS:
            if args.only and name not in args.only:
                continue
            svg = asyncio.run(shoot(case, out, name, size, steps))
            line = f"{svg.name}"
            if rsvg:
                png = svg.with_suffix(".png")
                subprocess.run([rsvg, "-o", str(png), str(svg)], check=True)
                line += f" + {png.name}"
            print(f"{line}: {caption}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
