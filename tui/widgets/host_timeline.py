"""The host timeline widget: one host's sessions as lanes on a time grid, with a cursor.

Holds the host's sessions (given by the screen, never queried here), the time window and the
selected item; lays the lanes out for its own width with `analysis.host_timeline` and draws
them with `HostChart`. Zoom, pan and cursor moves are methods the screen's keys call. The
selection follows the session it is on through zooms and pans; when that session leaves the
window it moves to the nearest item of the same user.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from rich.text import Text
from textual.events import Resize
from textual.widget import Widget

from logonscope.analysis.host_timeline import (
    HostTimeline,
    Item,
    Lane,
    Window,
    extent,
    host_timeline,
    to_micros,
)
from logonscope.tui.tables import visible_text
from logonscope.tui.widgets.host_chart import HostChart, grid_width, label_width


class HostTimelineView(Widget):
    DEFAULT_CSS = """
    HostTimelineView { height: 1fr; padding: 0 1; }
    """

    def __init__(self, host: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host = host
        self.sessions: pa.Table | None = None
        self.window: Window | None = None
        self.timeline: HostTimeline | None = None
        self.selected: tuple[int, int] | None = None
        self.selection_key: tuple[str | None, str | None, int] | None = None  # user, session, time
        self.top = 0
        self._label = 6

    # --- data in ----------------------------------------------------------------------

    def show(self, sessions: pa.Table, window: Window | None, anchor: str | None) -> None:
        """The host's sessions; `window`/`anchor`: where a previous visit left the view."""
        self.sessions = sessions
        self.window = window or extent(sessions)
        self.refresh()
        users = sessions.column("user").to_pylist() if "user" in sessions.column_names else []
        self._label = label_width(set(users), self._total())
        self.selection_key = (None, anchor, 0) if anchor else None
        self.relayout()

    def _total(self) -> int:
        return self.content_size.width or max(self.size.width - 2, 40)

    def on_resize(self, event: Resize) -> None:
        self.relayout()

    def relayout(self) -> None:
        """Lay the lanes out again (new window or width) and find the selection again."""
        if self.sessions is None or self.window is None:
            return
        width = grid_width(self._total(), self._label)
        self.timeline = host_timeline(self.sessions, self.window, width)
        self.selected = self._find(self.selection_key)
        found = self.current()
        if self.selection_key is None and found is not None:  # the first item, from now on
            self.selection_key = _key(*found)
        self._scroll()
        self.refresh()

    # --- what is selected -------------------------------------------------------------

    @property
    def lanes(self) -> tuple[Lane, ...]:
        return self.timeline.lanes if self.timeline else ()

    def current(self) -> tuple[Lane, Item] | None:
        if self.selected is None:
            return None
        lane = self.lanes[self.selected[0]]
        return lane, lane.items[self.selected[1]]

    def _select(self, place: tuple[int, int] | None) -> None:
        self.selected = place
        found = self.current()
        if found is not None:
            self.selection_key = _key(*found)
        self._scroll()
        self.refresh()

    def _find(self, anchor: tuple[str | None, str | None, int] | None) -> tuple[int, int] | None:
        if not self.lanes:
            return None
        if anchor is None:
            return (0, 0)
        user, session, when = anchor
        for i, lane in enumerate(self.lanes):
            for j, item in enumerate(lane.items):
                if session in item.session_ids:
                    return (i, j)
        theirs = [i for i, lane in enumerate(self.lanes) if lane.user_key == user and user]
        if not theirs or self.window is None:
            return (0, 0)
        column = self.window.column(when, self.timeline.width if self.timeline else 1)
        return min(
            ((i, j) for i in theirs for j in range(len(self.lanes[i].items))),
            key=lambda p: abs(self.lanes[p[0]].items[p[1]].first - column),
        )

    def _scroll(self) -> None:
        """Keep the selected lane among those shown."""
        if self.selected is None or self.timeline is None:
            return
        shown = self.chart().lane_rows()
        lane = self.selected[0]
        if lane < self.top:
            self.top = lane
        elif lane >= self.top + shown:
            self.top = lane - shown + 1
        self.top = max(min(self.top, len(self.lanes) - shown), 0)

    # --- moves (the screen's keys) ----------------------------------------------------

    def zoom(self, factor: float) -> None:
        if self.window is None:
            return
        found = self.current()
        center = None
        if found is not None and self.window.start <= found[1].start < self.window.end:
            center = to_micros(found[1].start)
        self.window = self.window.zoom(factor, center)
        self.relayout()

    def pan(self, fraction: float) -> None:
        if self.window is not None:
            self.window = self.window.pan(fraction)
            self.relayout()

    def fit(self) -> None:
        if self.sessions is not None:
            self.window = extent(self.sessions)
            self.relayout()

    def move_lane(self, step: int) -> None:
        """The lane above or below; the item nearest in time to the current one."""
        if self.selected is None:
            return
        target = min(max(self.selected[0] + step, 0), len(self.lanes) - 1)
        here = self.lanes[self.selected[0]].items[self.selected[1]]
        middle = (here.first + here.last) / 2
        items = self.lanes[target].items
        nearest = min(
            range(len(items)), key=lambda j: abs((items[j].first + items[j].last) / 2 - middle)
        )
        self._select((target, nearest))

    def move_item(self, step: int) -> None:
        """The next or previous bar or mark, lane after lane."""
        if self.selected is None:
            return
        places = [(i, j) for i, lane in enumerate(self.lanes) for j in range(len(lane.items))]
        index = places.index(self.selected)
        self._select(places[min(max(index + step, 0), len(places) - 1)])

    def chart(self) -> HostChart:
        assert self.timeline is not None
        return HostChart(
            self.timeline,
            self.host,
            self._label,
            self.selected,
            self.top,
            self.content_size.height or None,
        )

    def render(self) -> Any:
        if self.timeline is None:
            what = "no sessions of {} with these filters (Esc goes back)"
            if self.sessions is None:
                what = "reading the sessions of {}…"
            return Text(what.format(visible_text(self.host)), style="dim")
        return self.chart()


def _key(lane: Lane, item: Item) -> tuple[str | None, str | None, int]:
    """What the selection follows: its user, its (first) session and when that started."""
    return (lane.user_key, item.session_id, to_micros(item.start))
