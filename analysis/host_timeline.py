"""Who was on one host when: a host's sessions as lanes of bars and failure marks on a time grid.

Pure Arrow and Python over a sessions table already limited to one host by the caller (the app
and `logonscope plot host` read it the same way, through `analysis.queries.sessions`), so the
screen and the exported chart show the same lanes. A lane is one user; a user whose sessions
overlap on the grid gets as many rows as it takes to show every session apart. Failed attempts
are marks, one per user and column, however many attempts fell in it (a brute force is one
row of marks, not a thousand bars). No SQL, no files, never imports the UI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
US = 1_000_000
MIN_SPAN_US = 60 * US  # zooming in stops at one minute across the chart

# logon_kind → the families the chart tells apart (anything else is "other")
FAMILIES = {
    "RemoteInteractive": "rdp",
    "CachedRemoteInteractive": "rdp",
    "Interactive": "console",
    "CachedInteractive": "console",
    "Unlock": "console",
    "CachedUnlock": "console",
    "Network": "network",
    "NetworkCleartext": "network",
}
FAMILY_ORDER = ("rdp", "console", "network", "other")


def family(logon_kind: str | None) -> str:
    """rdp, console, network or other: the glyph a session is drawn with."""
    return FAMILIES.get(logon_kind or "", "other")


def to_time(micros: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=micros)


def to_micros(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return (value - EPOCH) // dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Window:
    """The time the chart spans, [start, end) in microseconds since the epoch (UTC)."""

    start_us: int
    end_us: int

    @property
    def span_us(self) -> int:
        return max(self.end_us - self.start_us, 1)

    @property
    def start(self) -> dt.datetime:
        return to_time(self.start_us)

    @property
    def end(self) -> dt.datetime:
        return to_time(self.end_us)

    @classmethod
    def between(cls, start: dt.datetime, end: dt.datetime) -> Window:
        return cls(to_micros(start), max(to_micros(end), to_micros(start) + 1))

    def zoom(self, factor: float, center_us: int | None = None) -> Window:
        """`factor` < 1 zooms in, > 1 out; the time at `center_us` stays where it is drawn."""
        center = (self.start_us + self.end_us) // 2 if center_us is None else center_us
        span = max(int(self.span_us * factor), MIN_SPAN_US)
        share = (center - self.start_us) / self.span_us
        start = center - int(span * min(max(share, 0.0), 1.0))
        return Window(start, start + span)

    def pan(self, fraction: float) -> Window:
        """Move by `fraction` of the span (negative: earlier)."""
        step = int(self.span_us * fraction)
        return Window(self.start_us + step, self.end_us + step)

    def column(self, micros: int, width: int) -> int:
        return (micros - self.start_us) * width // self.span_us


def extent(sessions: pa.Table) -> Window | None:
    """Every session of the table, with a margin: the chart's first, "whole host" window."""
    if sessions.num_rows == 0:
        return None
    start, end = _micros(sessions)
    low = pc.min(start).as_py()
    high = pc.max(pc.max_element_wise(end, start)).as_py()
    if low is None or high is None:
        return None
    margin = max((high - low) // 50, 30 * US)
    return Window(low - margin, high + margin)


@dataclass(frozen=True)
class Item:
    """A bar (one session, `first`..`last` columns) or a failure mark (one column, every
    failed attempt of the lane's user that fell in it, oldest first)."""

    first: int
    last: int
    family: str
    failed: bool
    session_ids: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime | None
    src_ip: str | None
    outcome: str | None
    logon_kind: str | None

    @property
    def session_id(self) -> str:
        return self.session_ids[0]


@dataclass(frozen=True)
class Lane:
    user: str | None  # as the evidence spells it (presentation makes it inert)
    user_key: str | None
    row: int  # 0: the user's first row; more when their sessions overlap on the grid
    items: tuple[Item, ...]


@dataclass(frozen=True)
class HostTimeline:
    window: Window
    width: int
    lanes: tuple[Lane, ...]
    sessions: int  # sessions drawn (bars) in the window
    failures: int  # failed attempts marked in the window
    users_outside: int  # users of the host with nothing in the window

    @property
    def seconds_per_column(self) -> float:
        return self.window.span_us / US / max(self.width, 1)


def _micros(sessions: pa.Table) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    def as_int(name: str) -> pa.ChunkedArray:
        column = sessions.column(name)
        return pc.cast(pc.cast(column, pa.timestamp("us", tz="UTC")), pa.int64())

    start = as_int("start")
    end = as_int("end") if "end" in sessions.column_names else start
    return start, pc.fill_null(end, start)


def _text(sessions: pa.Table, name: str) -> list[str | None]:
    if name in sessions.column_names:
        return [None if v is None else str(v) for v in sessions.column(name).to_pylist()]
    return [None] * sessions.num_rows


def host_timeline(sessions: pa.Table, window: Window, width: int) -> HostTimeline:
    """The lanes of `sessions` (one host's) inside `window`, on a grid of `width` columns."""
    width = max(width, 1)
    users_all: dict[str | None, tuple[int, str | None]] = {}  # key → (first start, label)
    if sessions.num_rows == 0 or "start" not in sessions.column_names:
        return HostTimeline(window, width, (), 0, 0, 0)
    sessions = sessions.filter(pc.is_valid(sessions.column("start")))
    start, end = _micros(sessions)
    keys, labels = _text(sessions, "user_key"), _text(sessions, "user")
    for key, label, first in zip(keys, labels, start.to_pylist(), strict=True):
        known = users_all.get(key)
        if known is None or first < known[0]:
            users_all[key] = (first, label if known is None else known[1])
    inside = pc.and_(
        pc.less(start, window.end_us), pc.greater_equal(end, window.start_us)
    ).combine_chunks()
    rows = sessions.filter(inside)
    s_us, e_us = start.filter(inside).to_pylist(), end.filter(inside).to_pylist()
    failed = [o == "failure" for o in _text(rows, "outcome")]
    ids, kinds = _text(rows, "session_id"), _text(rows, "logon_kind")
    ips, outcomes = _text(rows, "src_ip"), _text(rows, "outcome")
    row_keys = _text(rows, "user_key")
    ends = rows.column("end").to_pylist() if "end" in rows.column_names else [None] * len(ids)
    per_user: dict[str | None, list[Item]] = {}
    marks: dict[tuple[str | None, int], list[int]] = {}
    for i in range(rows.num_rows):
        first = max(window.column(s_us[i], width), 0)
        if failed[i]:
            marks.setdefault((row_keys[i], first), []).append(i)
            continue
        last = min(max(window.column(e_us[i], width), first), width - 1)
        per_user.setdefault(row_keys[i], []).append(
            Item(
                first,
                last,
                family(kinds[i]),
                False,
                (ids[i] or "",),
                to_time(s_us[i]),
                ends[i],
                ips[i],
                outcomes[i],
                kinds[i],
            )
        )
    for (key, column), members in marks.items():
        members.sort(key=lambda i: (s_us[i], ids[i] or ""))
        head = members[0]
        per_user.setdefault(key, []).append(
            Item(
                column,
                column,
                family(kinds[head]),
                True,
                tuple(ids[i] or "" for i in members),
                to_time(s_us[head]),
                to_time(s_us[members[-1]]) if len(members) > 1 else None,
                ips[head],
                outcomes[head],
                kinds[head],
            )
        )
    lanes: list[Lane] = []
    order = sorted(per_user, key=lambda k: (users_all[k][0], k or ""))
    for key in order:
        for row, items in enumerate(_pack(per_user[key])):
            lanes.append(Lane(users_all[key][1], key, row, tuple(items)))
    return HostTimeline(
        window,
        width,
        tuple(lanes),
        sessions=sum(not f for f in failed),
        failures=sum(failed),
        users_outside=len(users_all) - len(per_user),
    )


def _pack(items: list[Item]) -> list[list[Item]]:
    """Rows of items that do not share a column, first fit, oldest first (bars before marks
    in the same column, so a mark over a bar moves down a row instead of hiding it)."""
    rows: list[list[Item]] = []
    for item in sorted(items, key=lambda x: (x.first, x.failed, x.start, x.session_id)):
        for row in rows:
            if row[-1].last < item.first:
                row.append(item)
                break
        else:
            rows.append([item])
    return rows
