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
from dataclasses import dataclass, replace

import pyarrow as pa
import pyarrow.compute as pc

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
US = 1_000_000
MIN_SPAN_US = 60 * US  # zooming in stops at one minute across the chart
MAX_ROWS = 3  # rows a user's lane grows to at most when their sessions overlap

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
    """A bar (`first`..`last` columns: a session, or the sessions of one kind that start in
    the same column) or a failure mark (one column: every failed attempt of the lane's user
    that fell in it). `session_ids` oldest first; the other fields are of the first one."""

    first: int
    last: int
    family: str  # of the first session
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


def _column(table: pa.Table, name: str, kind: pa.DataType) -> pa.ChunkedArray:
    if name in table.column_names:
        return table.column(name)
    return pa.chunked_array([pa.nulls(table.num_rows, kind)])


def _families(kinds: pa.ChunkedArray) -> pa.ChunkedArray:
    out: pa.ChunkedArray = pa.chunked_array([pa.array(["other"] * len(kinds), pa.string())])
    for name in ("network", "console", "rdp"):
        members = pa.array([k for k, f in FAMILIES.items() if f == name], pa.string())
        out = pc.if_else(pc.fill_null(pc.is_in(kinds, value_set=members), False), name, out)
    return out


def _grid(sessions: pa.Table, window: Window, width: int) -> pa.Table:
    """One row per session reaching into the window: its columns on the grid and what the
    lanes need of it, oldest first."""
    start, end = _micros(sessions)
    inside = pc.and_(pc.less(start, window.end_us), pc.greater_equal(end, window.start_us))
    rows = sessions.filter(inside)
    s_us, e_us = start.filter(inside), end.filter(inside)

    def column(micros: pa.ChunkedArray) -> pa.ChunkedArray:
        offset = pc.subtract(micros, window.start_us)
        return pc.divide(pc.multiply(offset, width), window.span_us)

    first = pc.max_element_wise(column(s_us), 0)
    last = pc.min_element_wise(pc.max_element_wise(column(e_us), first), width - 1)
    outcome = _column(rows, "outcome", pa.string())
    kind = _column(rows, "logon_kind", pa.string())
    return pa.table(
        {
            "user_key": _column(rows, "user_key", pa.string()),
            "first": first,
            "last": last,
            "family": _families(kind),
            "failed": pc.fill_null(pc.equal(outcome, "failure"), False),
            "session_id": _column(rows, "session_id", pa.string()),
            "start_us": s_us,
            "end": pc.cast(_column(rows, "end", pa.timestamp("us", tz="UTC")), pa.int64()),
            "src_ip": _column(rows, "src_ip", pa.string()),
            "logon_kind": kind,
            "outcome": outcome,
        }
    )


def host_timeline(sessions: pa.Table, window: Window, width: int) -> HostTimeline:
    """The lanes of `sessions` (one host's, oldest first as `queries.sessions` returns them)
    inside `window`, on a grid of `width` columns.

    Sessions of one user that start in the same column with the same kind are one bar (at
    that zoom they cannot be told apart; the bar lists them all), failed attempts one mark
    per column; so the work after the Arrow grouping is bounded by users × columns."""
    width = max(width, 1)
    if sessions.num_rows == 0 or "start" not in sessions.column_names:
        return HostTimeline(window, width, (), 0, 0, 0)
    sessions = sessions.filter(pc.is_valid(sessions.column("start")))
    start, _ = _micros(sessions)
    people = (
        pa.table(
            {
                "user_key": _column(sessions, "user_key", pa.string()),
                "user": _column(sessions, "user", pa.string()),
                "start_us": start,
            }
        )
        .group_by("user_key", use_threads=False)
        .aggregate([("start_us", "min"), ("user", "first")])
        .to_pylist()
    )
    users = {p["user_key"]: (p["start_us_min"], p["user_first"]) for p in people}
    grid = _grid(sessions, window, width)
    failed = grid.column("failed")
    bars = (
        grid.filter(pc.invert(failed))
        .group_by(["user_key", "first", "family"], use_threads=False)
        .aggregate(
            [
                ("last", "max"),
                ("session_id", "list"),
                ("start_us", "min"),
                ("end", "max"),
                ("src_ip", "first"),
                ("logon_kind", "first"),
                ("outcome", "first"),
            ]
        )
    )
    marks = (
        grid.filter(failed)
        .group_by(["user_key", "first"], use_threads=False)
        .aggregate(
            [
                ("session_id", "list"),
                ("start_us", "min"),
                ("start_us", "max"),
                ("family", "first"),
                ("src_ip", "first"),
                ("logon_kind", "first"),
            ]
        )
    )
    per_user: dict[str | None, list[Item]] = {}
    for b in bars.to_pylist():
        end = b["end_max"]
        per_user.setdefault(b["user_key"], []).append(
            Item(
                b["first"],
                b["last_max"],
                b["family"],
                False,
                tuple(b["session_id_list"]),
                to_time(b["start_us_min"]),
                None if end is None else to_time(end),
                b["src_ip_first"],
                b["outcome_first"],
                b["logon_kind_first"],
            )
        )
    for m in marks.to_pylist():
        ids = tuple(m["session_id_list"])
        per_user.setdefault(m["user_key"], []).append(
            Item(
                m["first"],
                m["first"],
                m["family_first"],
                True,
                ids,
                to_time(m["start_us_min"]),
                to_time(m["start_us_max"]) if len(ids) > 1 else None,
                m["src_ip_first"],
                "failure",
                m["logon_kind_first"],
            )
        )
    lanes: list[Lane] = []
    for key in sorted(per_user, key=lambda k: (users[k][0], k or "")):
        for row, items in enumerate(_pack(per_user[key])):
            lanes.append(Lane(users[key][1], key, row, tuple(items)))
    failures = pc.sum(pc.cast(failed, pa.int64())).as_py() or 0
    return HostTimeline(
        window,
        width,
        tuple(lanes),
        sessions=grid.num_rows - failures,
        failures=failures,
        users_outside=len(users) - len(per_user),
    )


def _pack(items: list[Item]) -> list[list[Item]]:
    """Rows of items that do not share a column, first fit, oldest first (bars before marks
    in the same column, so a mark over a bar moves down a row instead of hiding it). Past
    `MAX_ROWS` an item joins the last row's item it overlaps (one bar, both sessions)."""
    rows: list[list[Item]] = []
    for item in sorted(items, key=lambda x: (x.first, x.failed, x.start, x.session_id)):
        for row in rows:
            if row[-1].last < item.first:
                row.append(item)
                break
        else:
            if len(rows) < MAX_ROWS:
                rows.append([item])
            else:
                rows[-1][-1] = _merged(rows[-1][-1], item)
    return rows


def _merged(a: Item, b: Item) -> Item:
    ends = [t for t in (a.end, b.end) if t is not None]
    return replace(
        a,
        last=max(a.last, b.last),
        failed=a.failed and b.failed,
        session_ids=a.session_ids + b.session_ids,
        end=max(ends) if ends else None,
    )
