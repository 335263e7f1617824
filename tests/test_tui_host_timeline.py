"""Pilot tests of the host timeline (`h`): who was on a host when, on generated cases.

What the lanes must hold is read from the generator's truth.json (every non-system session of
the host: successes as bars, failed attempts as marks), never from an earlier run.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from logonscope.tui.app import make_app
from logonscope.tui.screens.help import HelpScreen, key_rows
from logonscope.tui.screens.host_timeline import HostTimelineScreen
from logonscope.tui.screens.main import MainScreen
from tests.tui_support import (
    EVIL_USER,
    async_test,
    crafted_case,
    demo_case,
    run_checks,
    settle,
    truth_of,
)

WIDE = (120, 36)
NARROW = (80, 24)


@pytest.fixture
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


def screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def open_timeline(pilot: Any, *keys: str) -> HostTimelineScreen:
    """All sessions (`s`), then `h` on the session under the cursor."""
    await settle(pilot)
    for key in (*keys, "h"):
        await pilot.press(key)
        await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HostTimelineScreen), f"not the host timeline: {screen!r}"
    return screen


def host_truth(truth: dict[str, Any], host: str) -> list[dict[str, Any]]:
    return [s for s in truth["sessions"] if s["host"] == host and not s["system"]]


async def check_h_on_a_session_shows_every_user_of_its_host_as_lanes(
    pilot: Pilot, case: Path
) -> None:
    app = pilot.app
    truth = truth_of(case)
    main = app.screen
    assert isinstance(main, MainScreen)
    await pilot.press("s")
    await settle(pilot)
    host = main.pane("sessions").current()["host"]
    screen = await open_timeline(pilot)
    assert screen.host == host
    expected = host_truth(truth, host)
    view = screen.view
    assert {lane.user_key for lane in view.lanes} == {s["user"].lower() for s in expected}
    items = [item for lane in view.lanes for item in lane.items]
    barred = [sid for i in items if not i.failed for sid in i.session_ids]
    marked = [sid for i in items if i.failed for sid in i.session_ids]
    assert len(set(barred)) == len(barred) == sum(s["outcome"] != "failure" for s in expected)
    assert len(marked) == sum(s["outcome"] == "failure" for s in expected)
    text = screen_text(app)
    assert "█ RDP" in text and "✗ failed" in text and "+/- zoom" in text
    await pilot.press("question_mark")  # this screen's keys
    await settle(pilot)
    assert isinstance(app.screen, HelpScreen)
    assert {"zoom in (+)", "pan earlier", "open the session under the cursor"} <= {
        does for _, _, does in key_rows(app.screen.groups)
    }
    await pilot.press("escape", "escape")
    await settle(pilot)
    assert app.screen is main
    assert any(keys == "h" for _, keys, _ in key_rows([("main", main.BINDINGS)]))


async def check_plus_minus_zoom_arrows_pan_and_0_shows_the_whole_host(
    pilot: Pilot, case: Path
) -> None:
    screen = await open_timeline(pilot, "s")
    view = screen.view
    whole = view.window
    assert whole is not None
    chosen = view.current()[1].session_id
    await pilot.press("plus")
    await settle(pilot)
    assert view.window.span_us == whole.span_us // 2
    assert view.current()[1].session_id == chosen  # the cursor stays on its session
    assert view.timeline.seconds_per_column < whole.span_us / 1e6 / view.timeline.width
    await pilot.press("minus", "minus")
    await settle(pilot)
    assert abs(view.window.span_us - whole.span_us * 2) <= 2  # to the microsecond
    before = view.window
    await pilot.press("right")
    await settle(pilot)
    assert view.window.start_us == before.start_us + before.span_us // 4
    await pilot.press("left")
    await settle(pilot)
    assert view.window == before
    await pilot.press("0")
    await settle(pilot)
    assert view.window == whole


async def check_enter_on_a_bar_opens_that_session_and_h_comes_back_to_it(
    pilot: Pilot, case: Path
) -> None:
    app = pilot.app
    screen = await open_timeline(pilot, "s")
    view = screen.view
    await pilot.press("down", "down")
    await settle(pilot)
    assert view.selected is not None and view.selected[0] == 2
    while view.current()[1].failed:  # Tab walks the bars and marks
        await pilot.press("tab")
        await settle(pilot)
    lane, item = view.current()
    window = view.window
    await pilot.press("enter")
    await settle(pilot)
    main = app.screen
    assert isinstance(main, MainScreen)
    assert main.focused_pane() == "detail"
    assert main.pane("detail").session_id == item.session_id
    assert main.nav.user == lane.user_key
    assert main.pane("sessions").current()["session_id"] == item.session_id
    again = await open_timeline(pilot)  # the same host, as it was left
    assert again.view.window == window
    assert again.view.current()[1].session_id == item.session_id


async def check_enter_on_a_failure_mark_lists_its_attempts(pilot: Pilot, case: Path) -> None:
    app = pilot.app
    screen = await open_timeline(pilot, "s")
    view = screen.view
    places = [(i, j) for i, lane in enumerate(view.lanes) for j in range(len(lane.items))]
    first_mark = next(n for n, (i, j) in enumerate(places) if view.lanes[i].items[j].failed)
    await pilot.press(*["tab"] * (first_mark - places.index(view.selected)))
    await settle(pilot)
    _, mark = view.current()
    assert mark.failed
    await pilot.press("enter")
    await settle(pilot)
    main = app.screen
    assert isinstance(main, MainScreen)
    listed = main.pane("sessions").shaped.rows.column("session_id").to_pylist()
    assert sorted(listed) == sorted(mark.session_ids)
    assert main.pane("detail").session_id == mark.session_ids[0]


async def check_at_80x24_without_colour_the_chart_reads_by_glyphs(pilot: Pilot, case: Path) -> None:
    app = pilot.app
    assert app.no_color  # NO_COLOR=1 was set before the app started
    screen = await open_timeline(pilot, "s")
    view = screen.view
    lines = screen_text(app).splitlines()
    assert len(lines) == NARROW[1] and all(len(line) <= NARROW[0] for line in lines)
    assert lines[0].startswith(" host ") and "+/- zoom" in lines[-1]
    legend = next(line for line in lines if "█ RDP" in line)
    for word in ("▓ console", "▒ network", "░ other", "✗ failed"):
        assert word in legend
    drawn = "".join(lines[3:-3])
    assert any(glyph in drawn for glyph in "█▓▒") and "✗" in drawn
    for _ in range(len(view.lanes)):  # down to the last lane: it stays in sight
        await pilot.press("down")
    await settle(pilot)
    assert view.selected[0] == len(view.lanes) - 1
    text = screen_text(app)
    assert sum(line[:20].count("▶") for line in text.splitlines()) == 1
    shown = view.lanes[-1]
    assert (shown.user or "-")[:10] in text or shown.row > 0


@async_test
async def test_user_names_in_the_host_timeline_are_inert(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    crafted = crafted_case(tmp_path_factory)
    app = make_app(crafted, label="evil", read_ahead=False)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_timeline(pilot, "s")
        view = screen.view
        evil = next(i for i, lane in enumerate(view.lanes) if lane.user == EVIL_USER)
        for _ in range(evil):
            await pilot.press("down")
        await settle(pilot)
        text = screen_text(app)
        assert "[red]x[/red]\\x1b[31mEVIL" in text  # the line under the chart, as typed
        assert "[red]x[/red]\\x1…" in text  # the lane label, cut to its column
        assert "\x1b" not in text and "\x07" not in text


async def check_a_host_with_nothing_under_the_filters_says_so_and_enter_does_nothing(
    pilot: Pilot, case: Path
) -> None:
    app = pilot.app
    from logonscope.tui.backend import FilterState

    main = app.screen
    nothing = FilterState(outcomes=("no such outcome",))
    await app.push_screen(HostTimelineScreen(app.backend, nothing, "srv01"))
    await settle(pilot)
    text = screen_text(app)
    assert "no sessions of srv01 with these filters" in text
    assert "filters " in text and "outcome: no such outcome" in text
    await pilot.press("plus", "right", "down", "tab", "enter")
    await settle(pilot)
    assert isinstance(app.screen, HostTimelineScreen)
    await pilot.press("escape")
    await settle(pilot)
    assert app.screen is main


@async_test
async def test_the_host_timeline_of_the_demo_case_at_120x36(case: Path) -> None:
    """Lanes, zoom and pan, a bar and a failure mark opened, each from a fresh main screen."""
    app = make_app(case, label="demo", read_ahead=False)
    async with app.run_test(size=WIDE) as pilot:
        await run_checks(
            pilot,
            partial(check_h_on_a_session_shows_every_user_of_its_host_as_lanes, pilot, case),
            partial(check_plus_minus_zoom_arrows_pan_and_0_shows_the_whole_host, pilot, case),
            partial(check_enter_on_a_bar_opens_that_session_and_h_comes_back_to_it, pilot, case),
            partial(check_enter_on_a_failure_mark_lists_its_attempts, pilot, case),
        )


@async_test
async def test_the_host_timeline_at_80x24_without_colour(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Glyphs instead of colours, and a host with nothing to show (its text reads the same in
    colour), each from a fresh main screen."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(case, label="demo", read_ahead=False)
    async with app.run_test(size=NARROW) as pilot:
        await run_checks(
            pilot,
            partial(check_at_80x24_without_colour_the_chart_reads_by_glyphs, pilot, case),
            partial(
                check_a_host_with_nothing_under_the_filters_says_so_and_enter_does_nothing,
                pilot,
                case,
            ),
        )
