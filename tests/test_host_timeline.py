"""The host timeline's lanes (analysis.host_timeline) and chart (tui.widgets.host_chart) on
small hand-made session tables: what a responder reads off the chart must be what the
sessions say (who, which kind, when, failed or not)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from rich.console import Console

from logonscope.analysis.host_timeline import MAX_ROWS, Window, extent, family, host_timeline
from logonscope.tui.widgets.host_chart import FAILED, GLYPHS, HostChart, ticks

T0 = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.timezone.utc)
TS = pa.timestamp("us", tz="UTC")


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def table(*rows: tuple[str, str, float, float | None, str, str]) -> pa.Table:
    """(session_id, user, start minute, end minute or None, logon_kind, outcome)"""
    return pa.table(
        {
            "session_id": [r[0] for r in rows],
            "user": [r[1] for r in rows],
            "user_key": [r[1].lower() for r in rows],
            "start": pa.array([at(r[2]) for r in rows], TS),
            "end": pa.array([None if r[3] is None else at(r[3]) for r in rows], TS),
            "logon_kind": [r[4] for r in rows],
            "outcome": [r[5] for r in rows],
            "src_ip": ["10.0.0.1"] * len(rows),
        }
    )


HOUR = Window.between(at(0), at(60))  # 60 columns: one minute each


def test_one_lane_per_user_in_order_of_first_logon_overlaps_on_extra_rows() -> None:
    sessions = table(
        ("b1", "Bob", 30, 40, "Network", "success"),
        ("a1", "alice", 5, 20, "RemoteInteractive", "success"),
        ("a2", "alice", 10, 15, "Interactive", "success"),  # overlaps a1: a second row
        ("a3", "alice", 25, None, "Unlock", "success"),  # no end: one column
    )
    tl = host_timeline(sessions, HOUR, 60)
    assert [(lane.user, lane.row) for lane in tl.lanes] == [("alice", 0), ("alice", 1), ("Bob", 0)]
    first, second, bob = tl.lanes
    assert [(i.session_id, i.first, i.last, i.family) for i in first.items] == [
        ("a1", 5, 20, "rdp"),
        ("a3", 25, 25, "console"),
    ]
    assert [(i.session_id, i.first, i.last) for i in second.items] == [("a2", 10, 15)]
    assert [(i.session_id, i.family) for i in bob.items] == [("b1", "network")]
    assert (tl.sessions, tl.failures, tl.users_outside) == (4, 0, 0)


def test_failures_are_one_mark_per_user_and_column_however_many() -> None:
    brute = [(f"f{i}", "admin", 30 + i / 100, None, "Network", "failure") for i in range(50)]
    sessions = table(*brute, ("f99", "admin", 45, None, "Network", "failure"))
    tl = host_timeline(sessions, HOUR, 60)
    (lane,) = tl.lanes
    assert [(i.first, i.failed, len(i.session_ids)) for i in lane.items] == [
        (30, True, 50),
        (45, True, 1),
    ]
    assert lane.items[0].session_ids[0] == "f0"  # oldest attempt first
    assert tl.failures == 51 and tl.sessions == 0


def test_the_window_clips_bars_and_leaves_out_what_it_does_not_reach() -> None:
    sessions = table(
        ("early", "carol", -30, 10, "RemoteInteractive", "success"),
        ("late", "dave", 90, 100, "RemoteInteractive", "success"),
        ("long", "erin", 50, 200, "Interactive", "success"),
    )
    tl = host_timeline(sessions, HOUR, 60)
    assert [(lane.user, lane.items[0].first, lane.items[0].last) for lane in tl.lanes] == [
        ("carol", 0, 10),
        ("erin", 50, 59),
    ]
    assert tl.users_outside == 1  # dave is outside this hour


def test_zoom_keeps_the_centre_time_in_place_and_pan_moves_by_a_share() -> None:
    window = HOUR
    middle = window.start_us + 15 * 60 * 1_000_000
    zoomed = window.zoom(0.5, middle)
    assert zoomed.span_us == window.span_us // 2
    assert zoomed.column(middle, 60) == window.column(middle, 60) == 15
    assert window.zoom(2).span_us == 2 * window.span_us
    assert window.zoom(1e-9).span_us == 60 * 1_000_000  # never below a minute
    later = window.pan(0.25)
    assert later.start == at(15) and later.end == at(75)


def test_extent_spans_every_session_with_a_margin() -> None:
    sessions = table(
        ("x", "a", 0, 10, "Network", "success"), ("y", "b", 50, 120, "Network", "success")
    )
    whole = extent(sessions)
    assert whole is not None and whole.start < at(0) and whole.end > at(120)
    assert extent(sessions.slice(0, 0)) is None


def test_logon_kinds_fall_into_families() -> None:
    assert family("RemoteInteractive") == family("CachedRemoteInteractive") == "rdp"
    assert family("Interactive") == family("Unlock") == "console"
    assert family("Network") == "network"
    assert family("Service") == family(None) == "other"


def test_the_chart_draws_glyphs_a_legend_and_inert_names_without_colour() -> None:
    evil = "[red]x[/red]\x1b[31mEVIL"
    sessions = table(
        ("r", evil, 5, 20, "RemoteInteractive", "success"),
        ("c", "bob", 10, 30, "Interactive", "success"),
        ("n", "bob", 40, 45, "Network", "success"),
        ("f", "bob", 50, None, "Network", "failure"),
    )
    tl = host_timeline(sessions, HOUR, 60)
    console = Console(width=100, file=None, no_color=True, color_system=None, record=True)
    with console.capture() as captured:
        console.print(HostChart(tl, "SRV\x07", 26, selected=(0, 0)))
    text = captured.get()
    assert "\x1b" not in text and "\x07" not in text
    assert "[red]x[/red]\\x1b[31mEVIL" in text  # shown as typed, not as markup
    assert "SRV\\x07" in text
    lanes = text.splitlines()
    bob = next(line for line in lanes if line.startswith("bob"))
    assert GLYPHS["console"] * 5 in bob and GLYPHS["network"] in bob and FAILED in bob
    assert GLYPHS["rdp"] * 16 in lanes[3] and "▶" in lanes[3]  # the selected lane is marked
    legend = lanes[-1]
    for word in ("█ RDP", "▓ console", "▒ network", "░ other", "✗ failed"):
        assert word in legend


def test_axis_ticks_are_round_times_whose_labels_do_not_touch() -> None:
    tl = host_timeline(table(("x", "a", 0, 60, "Network", "success")), HOUR, 60)
    marks = ticks(tl)
    assert [label for _, label in marks][:2] == ["08:00", "08:10"]
    columns = [c for c, _ in marks]
    assert all(b - a >= len("08:00") + 2 for a, b in zip(columns, columns[1:], strict=False))


def test_sessions_of_one_kind_starting_in_one_column_are_one_bar_and_rows_stop_at_three() -> None:
    same = table(
        ("s1", "eve", 10.1, 12, "RemoteInteractive", "success"),
        ("s2", "eve", 10.5, 30, "RemoteInteractive", "success"),
        ("s3", "eve", 10.7, 11, "Network", "success"),  # another kind: its own bar
    )
    (lane, other) = host_timeline(same, HOUR, 60).lanes
    assert [(i.session_ids, i.first, i.last) for i in lane.items] == [(("s1", "s2"), 10, 30)]
    assert [i.session_ids for i in other.items] == [("s3",)]
    stacked = table(*[(f"o{i}", "eve", i, 50, "Interactive", "success") for i in range(6)])
    lanes = host_timeline(stacked, HOUR, 60).lanes
    assert len(lanes) == MAX_ROWS  # the rest share the last row's bar
    assert sorted(sid for lane in lanes for i in lane.items for sid in i.session_ids) == [
        f"o{i}" for i in range(6)
    ]


def test_a_chart_taller_than_its_room_says_how_many_lanes_are_out_of_sight() -> None:
    many = table(*[(f"x{i}", f"user{i:02d}", i, i + 1, "Network", "success") for i in range(30)])
    tl = host_timeline(many, HOUR, 60)
    chart = HostChart(tl, "srv", 8, selected=(12, 0), top=10, height=12)
    lines = [line.plain for line in chart.lines()]
    assert len(lines) == 12
    assert "↑ 10 more lane(s) above" in lines[3] and "↓ 14 more lane(s) below" in lines[-2]
    assert any(line.startswith("user12") and "▶" in line for line in lines)
