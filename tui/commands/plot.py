"""`logonscope plot host H --case DIR --out F.svg`: the host timeline as a picture for a report.

The same lanes (`analysis.host_timeline`) and the same drawing (`tui.widgets.host_chart`) as
the app's host timeline, recorded by a Rich console and exported to SVG (every lane, nothing
selected). `.png` is converted from that SVG by `rsvg-convert` when it is installed. The file
is written atomically: whole or not at all.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from logonscope.tui.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

    from logonscope.analysis.host_timeline import Window

DEFAULT_WIDTH = 120


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "plot",
        help="draw a chart to SVG/PNG (plot host H: who was on a host when)",
        description="Draw the host timeline of one host: one lane per user, sessions as bars "
        "(█ RDP, ▓ console, ▒ network, ░ other), failed attempts as ✗, over the time "
        "range of its sessions or --since/--until. Writes SVG (or PNG via rsvg-convert).",
    )
    parser.add_argument("what", choices=("host",), help="what to plot: host")
    parser.add_argument("host", metavar="H", help="host, FQDN or short name")
    parser.add_argument("--case", required=True, help="case folder")
    parser.add_argument("--out", required=True, metavar="FILE", help="output .svg or .png")
    parser.add_argument("--since", metavar="TIME", help="chart from this time (UTC unless zoned)")
    parser.add_argument("--until", metavar="TIME", help="chart until this time")
    parser.add_argument(
        "--width",
        type=int,
        default=DEFAULT_WIDTH,
        metavar="COLS",
        help=f"chart width in character cells (default {DEFAULT_WIDTH}, at least 60)",
    )
    parser.add_argument(
        "--all", action="store_true", help="include system sessions (machine accounts, ...)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from logonscope.tui.commands.sessions import parse_time

    since, until = parse_time("--since", args.since), parse_time("--until", args.until)
    if since and until and since >= until:
        raise UsageError("--since must be before --until")
    if args.width < 60:
        raise UsageError("--width: at least 60 columns")
    out = Path(args.out).expanduser().resolve()
    suffix = out.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise UsageError("--out: the file name must end in .svg or .png")
    if not out.parent.is_dir():
        raise UsageError(f"--out: {out.parent}: no such folder")
    rsvg = shutil.which("rsvg-convert")
    if suffix == ".png" and rsvg is None:
        raise UsageError("--out: PNG needs rsvg-convert (apt install librsvg2-bin); use .svg")

    from logonscope.analysis import queries
    from logonscope.analysis.host_timeline import Window, extent
    from logonscope.tui.commands.sessions import _open

    con = _open(args.case)
    filters = queries.Filters(host=args.host, since=since, until=until, show_system=args.all)
    sessions = queries.sessions(con, filters)
    if sessions.num_rows == 0:
        raise UsageError(f"no sessions of host {args.host!r} in {args.case} for these options")
    whole = extent(sessions)
    assert whole is not None
    window = Window.between(since or whole.start, until or whole.end)
    host = str(sessions.column("host")[0].as_py() or args.host)
    svg = chart_svg(sessions, window, host, args.width)
    if suffix == ".svg":
        _write_atomic(out, svg.encode("utf-8"))
    else:
        assert rsvg is not None
        png = subprocess.run([rsvg], input=svg.encode("utf-8"), capture_output=True, check=True)
        _write_atomic(out, png.stdout)
    print(str(out))
    return 0


def chart_svg(sessions: pa.Table, window: Window, host: str, width: int) -> str:
    """The chart of `sessions` in `window`, `width` cells wide, as an SVG document."""
    from rich.console import Console

    from logonscope.analysis.host_timeline import host_timeline
    from logonscope.tui.tables import visible_text
    from logonscope.tui.widgets.host_chart import HostChart, grid_width, label_width

    users = set(sessions.column("user").to_pylist())
    label = label_width(users, width)
    timeline = host_timeline(sessions, window, grid_width(width, label))
    console = Console(
        record=True, width=width, file=io.StringIO(), force_terminal=True, color_system="truecolor"
    )
    console.print(HostChart(timeline, host, label))
    return console.export_svg(title=f"logonscope · host timeline · {visible_text(host)}")


def _write_atomic(target: Path, data: bytes) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
