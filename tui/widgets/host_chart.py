"""The host timeline chart as a Rich renderable: the app's host timeline screen draws it, and
`logonscope plot host` records it to SVG, so the report shows what the screen showed.

Draws an `analysis.host_timeline.HostTimeline` it is given (never queries): a header, a time
axis, one row per lane (user label, then bars and failure marks on the grid) and a legend.
Families of logon are told apart by glyph as well as colour, so the chart reads the same under
`NO_COLOR` and in black and white; the selected lane is marked `▶` and its item drawn reversed.
Evidence strings (users, host) go through `visible_text` and are only ever appended as plain
Text, never parsed as markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions
from rich.text import Text

from logonscope.analysis.host_timeline import HostTimeline, Item
from logonscope.tui.tables import visible_text

GLYPHS = {"rdp": "█", "console": "▓", "network": "▒", "other": "░"}
FAILED = "✗"
STYLES = {
    "rdp": "cyan",
    "console": "green",
    "network": "magenta",
    "other": "white",
    "failed": "bold red",
}
NAMES = {"rdp": "RDP", "console": "console", "network": "network", "other": "other"}
LABEL_MIN, LABEL_MAX = 6, 16
CHROME = 4  # header, axis labels, axis ruler, legend: the rows that are not lanes

# Tick steps the axis may use, in seconds: the first that leaves room for its labels.
STEPS = (
    1, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 91 * 86400, 364 * 86400,
)  # fmt: skip


def label_width(users: Iterable[str | None], total: int) -> int:
    """Cells for the lane labels: the longest user name, within bounds, never a quarter of
    the chart or more."""
    longest = max((len(visible_text(u or "-")) for u in users), default=LABEL_MIN)
    return max(LABEL_MIN, min(longest, LABEL_MAX, max(total // 4, LABEL_MIN)))


def grid_width(total: int, label: int) -> int:
    """Columns of the time grid in a chart `total` cells wide: the label, `▶`/space and `│`."""
    return max(total - label - 2, 1)


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s" if sec and minutes < 10 else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h" if hours else f"{days}d"


def _tick_format(step: int, span_s: float) -> str:
    if step >= 86400:
        return "%Y-%m-%d"
    if span_s > 86400:
        return "%m-%d %H:%M"
    return "%H:%M:%S" if step < 60 else "%H:%M"


def ticks(timeline: HostTimeline) -> list[tuple[int, str]]:
    """(column, label) of the axis ticks: round UTC times, labels never touching."""
    window, width = timeline.window, timeline.width
    per_col = timeline.seconds_per_column
    span_s = window.span_us / 1_000_000
    for step in STEPS:
        fmt = _tick_format(step, span_s)
        room = len(dt.datetime(2000, 12, 31, 23, 59, 59).strftime(fmt)) + 2
        if step >= room * per_col:
            break
    step_us = step * 1_000_000
    first = -(-window.start_us // step_us) * step_us
    out = []
    t = first
    while t < window.end_us:
        column = window.column(t, width)
        if 0 <= column < width:
            stamp = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=t)
            out.append((column, stamp.strftime(fmt)))
        t += step_us
    return out


@dataclass
class HostChart:
    """`selected`: (lane index, item index) drawn reversed and marked; `top`: the first lane
    shown; `height`: rows available (None: every lane, as an export wants)."""

    timeline: HostTimeline
    host: str
    label: int
    selected: tuple[int, int] | None = None
    top: int = 0
    height: int | None = None

    def lane_rows(self) -> int:
        """How many lanes fit (with the "more above/below" notes when they do not all fit)."""
        lanes = len(self.timeline.lanes)
        if self.height is None:
            return lanes
        room = max(self.height - CHROME, 1)
        return lanes if lanes <= room else max(room - 2, 1)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        yield from self.lines()

    def lines(self) -> list[Text]:
        tl = self.timeline
        out = [self._header()]
        out.extend(self._axis())
        lanes = tl.lanes
        shown = self.lane_rows()
        top = min(max(self.top, 0), max(len(lanes) - shown, 0))
        if top:
            out.append(self._note(f"↑ {top} more lane(s) above"))
        if not lanes:
            note = "no sessions of this host in this window"
            if tl.users_outside:
                note += f" ({tl.users_outside} user(s) outside it: - zooms out, 0 shows all)"
            out.append(self._note(note))
        for index in range(top, min(top + shown, len(lanes))):
            out.append(self._lane(index))
        below = len(lanes) - top - shown
        if below > 0:
            out.append(self._note(f"↓ {below} more lane(s) below"))
        out.append(self._legend())
        for line in out:
            line.no_wrap, line.overflow = True, "ellipsis"
        return out

    # Each run of text starts with a visible character and pads after it: SVG renderers such
    # as rsvg-convert drop a text run's leading spaces, which would shift what follows.
    def _header(self) -> Text:
        tl = self.timeline
        text = Text()
        text.append("host ", style="dim")
        text.append(visible_text(self.host) + "  ", style="bold")
        start, end = tl.window.start, tl.window.end
        text.append(f"{start:%Y-%m-%d %H:%M:%S} → {end:%Y-%m-%d %H:%M:%S} UTC  ")
        text.append(
            f"· 1 col ≈ {duration_text(tl.seconds_per_column)}  "
            f"· {tl.sessions:,} sessions · {tl.failures:,} failed",
            style="dim",
        )
        return text

    def _axis(self) -> list[Text]:
        width = self.timeline.width
        labels = Text(" " * (self.label + 2))
        ruler = ["─"] * width
        end = 0
        for column, label in ticks(self.timeline):
            ruler[column] = "┼"
            if column >= end and column + len(label) <= width:
                labels.append(" " * (column - end))
                labels.append(label, style="dim")
                end = column + len(label) + 1
                labels.append(" ")
        rule = Text(" " * (self.label + 1))
        rule.append("├" + "".join(ruler), style="dim")
        return [labels, rule]

    def _lane(self, index: int) -> Text:
        lane = self.timeline.lanes[index]
        chosen = self.selected is not None and self.selected[0] == index
        name = visible_text(lane.user or "-") if lane.row == 0 else ""
        if len(name) > self.label:
            name = name[: self.label - 1] + "…"
        text = Text()
        text.append(name.ljust(self.label), style="bold" if chosen else "")
        text.append("▶" if chosen else " ", style="bold")
        text.append("│", style="dim")
        cells: list[tuple[str, str]] = [(" ", "")] * self.timeline.width
        for number, item in enumerate(lane.items):
            glyph, style = _look(item)
            if chosen and self.selected is not None and self.selected[1] == number:
                style += " reverse"
            for column in range(item.first, item.last + 1):
                cells[column] = (glyph, style)
        for glyph, style in cells:
            text.append(glyph, style=style)
        return text

    def _note(self, note: str) -> Text:
        text = Text(" " * (self.label + 2))
        text.append(note, style="dim")
        return text

    def _legend(self) -> Text:
        text = Text(" " * (self.label + 2))
        for key in ("rdp", "console", "network", "other"):
            text.append(GLYPHS[key] + " ", style=STYLES[key])
            text.append(f"{NAMES[key]}  ", style="italic")
        text.append(FAILED + " ", style=STYLES["failed"])
        text.append("failed", style="italic")
        if self.selected is not None:
            text.append("  ")
            text.append("▶ selected", style="dim")
        return text


def _look(item: Item) -> tuple[str, str]:
    if item.failed:
        return FAILED, STYLES["failed"]
    return GLYPHS[item.family], STYLES[item.family]


def describe(item: Item, user: str | None) -> Text:
    """Two lines about an item for under the chart: who and what; when and from where."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(visible_text(user or "-") + "  ", style="bold")
    kind = visible_text(item.logon_kind or "unknown kind")
    if item.failed:
        count = len(item.session_ids)
        text.append(f"{count} failed attempt{'s' if count > 1 else ''} ({kind})", style="bold")
    elif len(item.session_ids) > 1:
        count = len(item.session_ids)
        text.append(f"{count} sessions starting here, the first {NAMES[item.family]} ({kind})")
    else:
        text.append(f"{NAMES[item.family]} ({kind}) {visible_text(item.outcome or '')}")
    text.append(f"\n{item.start:%Y-%m-%d %H:%M:%S}")
    if item.end is not None:
        text.append(f" → {item.end:%Y-%m-%d %H:%M:%S} UTC")
        if not item.failed:
            text.append(f" ({duration_text((item.end - item.start).total_seconds())})")
    else:
        text.append(" UTC" if item.failed else " UTC → end not recorded")
    text.append(f"  from {visible_text(item.src_ip) if item.src_ip else 'no address'}")
    return text
