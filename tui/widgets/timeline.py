"""The timeline strip: logons and failures over time for the current selection.

Two rows of eighth-blocks (logons, failures) and an axis with the first and last time,
resampled to the strip's width. Renders a `analysis.timeline.Histogram` it is given; never
queries. Uses Text objects (no markup) and reads with or without colour (NO_COLOR).
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from logonscope.analysis.timeline import EMPTY, Histogram

BLOCKS = " ▁▂▃▄▅▆▇█"
LABEL = 8  # "logons  " / "failures"


def resample(counts: tuple[int, ...], width: int) -> list[int]:
    """Sum `counts` into `width` buckets (or spread them when there are fewer)."""
    if width <= 0 or not counts:
        return []
    n = len(counts)
    out = [0] * width
    for i, value in enumerate(counts):
        out[min(i * width // n, width - 1)] += value
    return out


def bars(values: list[int], peak: int) -> str:
    if peak <= 0:
        return " " * len(values)
    top = len(BLOCKS) - 1
    return "".join(BLOCKS[0 if v == 0 else max(1, round(v * top / peak))] for v in values)


def label_between(context: str, room: int) -> str:
    """`context` to sit between the first and last time in `room` cells, two spaces clear of
    both: cut with `…` when it is longer, left out when not even a few letters fit."""
    room -= 4
    if not context or room < 4:
        return ""
    if len(context) > room:
        context = context[: room - 1] + "…"
    return context


class TimelineStrip(Widget):
    DEFAULT_CSS = """
    TimelineStrip { height: 3; padding: 0 1; }
    """

    histogram: reactive[Histogram] = reactive(EMPTY, layout=False)
    context: reactive[str] = reactive("")

    def render(self) -> Text:
        hist = self.histogram
        total_l, total_f = f" {sum(hist.logons):,}", f" {sum(hist.failures):,}"
        width = max(self.content_size.width - LABEL - 1 - max(len(total_l), len(total_f)), 1)
        if not hist.logons:
            return Text("timeline: no sessions in this selection", style="dim")
        logons = resample(hist.logons, width)
        failures = resample(hist.failures, width)
        peak = max(max(logons), max(failures), 1)
        text = Text(no_wrap=True, overflow="crop")
        text.append("logons".ljust(LABEL) + " ", style="bold")
        text.append(bars(logons, peak), style="green")
        text.append(total_l + "\n")
        text.append("failures".ljust(LABEL) + " ", style="bold")
        text.append(bars(failures, peak), style="red")
        text.append(total_f + "\n")
        first = hist.start.strftime("%Y-%m-%d %H:%M") if hist.start else ""
        last = hist.end.strftime("%Y-%m-%d %H:%M UTC") if hist.end else ""
        middle = label_between(self.context, width - len(first) - len(last))
        gap = max(width - len(first) - len(last) - len(middle), 2)
        left = gap // 2
        text.append(" " * (LABEL + 1) + first + " " * left, style="dim")
        text.append(middle, style="italic")
        text.append(" " * (gap - left) + last, style="dim")
        return text
