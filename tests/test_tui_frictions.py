"""Pilot tests for what got in a responder's way on a real case: columns that fit, a search
that stays in its view, a filter dialog that reads without colour, the 80×24 layout, the
User + IP counts with a brute force, and bursts of failures collapsed into one row."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from textual.pilot import Pilot

from logonscope.tui.app import make_app
from logonscope.tui.screens.columns import ColumnsScreen
from logonscope.tui.screens.main import MainScreen
from logonscope.tui.tables import column_width
from tests.tui_support import (
    BRUTE_FAILURES,
    BRUTE_IP,
    USUAL_IP,
    async_test,
    brute_force_case,
    demo_case,
    main_of,
    run_checks,
    settle,
)

WIDE = (120, 36)
NARROW = (80, 24)


@pytest.fixture
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


def shown_width(pane) -> int:
    display = pane.shaped.display
    return sum(column_width(display.column(c), c) for c in display.column_names)


async def check_sessions_show_the_important_columns_first_and_no_header_is_cut(
    pilot: Pilot, demo: Path
) -> None:
    app = pilot.app
    main = main_of(app)
    sessions = main.pane("sessions")
    shown = sessions.columns()
    assert shown[:3] == ["start", "duration", "user"] or shown[:2] == ["start", "user"]
    assert "src_ip" in shown and "outcome" in shown
    for name in ("users", "ips", "sessions"):
        pane = main.pane(name)
        assert shown_width(pane) <= pane.content_size.width, name  # whole headers only
        hidden = set(pane.available_columns()) - set(pane.columns())
        assert hidden, f"{name}: everything fits, the test proves nothing"
        assert "columns: C" in str(pane.border_subtitle)
    # the column chooser: untick start, the next important ones move in
    main.pane("sessions").focus_table()
    await settle(pilot)
    await pilot.press("C")
    await settle(pilot)
    assert isinstance(app.screen, ColumnsScreen)
    await pilot.press("space", "enter")  # the cursor starts on `start`
    await settle(pilot)
    assert isinstance(app.screen, MainScreen)
    assert "start" not in sessions.columns()
    assert sessions.columns()[0] == shown[1]
    assert shown_width(sessions) <= sessions.content_size.width


def crumbs_match_the_detail(main: MainScreen) -> None:
    crumbs = str(main.query_one("#status").crumbs)
    shown = main.pane("detail").session_id
    if " session " in f" {crumbs} ":
        assert shown is not None and f"session {shown}" in crumbs, (crumbs, shown)


async def check_a_search_belongs_to_the_view_it_was_typed_in_and_c_clears_every_search(
    pilot: Pilot, demo: Path
) -> None:
    app = pilot.app
    main = main_of(app)
    users, sessions = main.pane("users"), main.pane("sessions")
    first = users.current()["user_key"]
    await pilot.press("tab", "tab")  # Users → User + IP → Sessions
    await settle(pilot)
    assert main.focused_pane() == "sessions"
    await pilot.press("slash", *"Remote", "enter")
    await settle(pilot)
    assert sessions.search_text == "Remote"
    await pilot.press("u", "down")  # another user: their sessions, unsearched
    await settle(pilot)
    assert users.current()["user_key"] != first
    assert sessions.search_text == ""
    assert sessions.shaped.rows.num_rows == sessions.shaped.total > 0
    await pilot.press("up")  # back to the first user: the search typed there
    await settle(pilot)
    assert sessions.search_text == "Remote"
    await pilot.press("slash", *"zzz", "enter")  # a search in Users too
    await settle(pilot)
    assert users.search_text == "zzz"
    await pilot.press("c")
    await settle(pilot)
    assert users.search_text == "" and sessions.search_text == ""
    assert not sessions.searches and users.shaped.rows.num_rows > 1


async def check_the_breadcrumb_names_only_the_session_the_detail_shows(
    pilot: Pilot, demo: Path
) -> None:
    app = pilot.app
    main = main_of(app)
    for keys in (
        ("slash", *"dave", "enter"),  # a user without bursts of failures
        ("enter", "enter", "enter"),  # user → IP → session → detail
        ("shift+tab",),  # back in Sessions
        ("slash", *"zzz", "enter"),  # no session matches
        ("escape",),
        ("escape",),
        ("tab",),
        ("escape",),
    ):
        await pilot.press(*keys)
        await settle(pilot)
        crumbs_match_the_detail(main)
        if "z" in keys:
            assert main.pane("sessions").shaped.rows.num_rows == 0
            assert main.pane("detail").session_id is None


@async_test
async def test_filter_dialog_ticks_read_without_colour_and_enter_applies_from_the_kinds_list(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logonscope.tui.screens.filters import FiltersScreen

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(demo, label="demo", read_ahead=False)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FiltersScreen)
        kinds = dialog.query_one("#filter-kinds")
        await pilot.press("tab", "tab", "tab")  # host → since → until → kinds
        assert kinds.has_focus
        await pilot.press("down", "space")  # tick the second kind
        await settle(pilot)
        lines = [kinds.render_line(y).text for y in range(kinds.option_count)]
        ticked = kinds.get_option_at_index(1).value
        assert lines[1].startswith("› [x] ") and ticked in lines[1]  # cursor and tick, as glyphs
        assert all(line.startswith("  [ ] ") for i, line in enumerate(lines) if i != 1)
        system = dialog.query_one("#filter-system")
        assert str(system._button) == "[ ]"
        await pilot.press("enter")  # in the kinds list: applies, does not toggle
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert main.filters.kinds == (ticked,)
        assert f"kind: {ticked}" in main.query_one("#status").filters


@async_test
async def test_at_80x24_the_breadcrumb_loses_its_start_and_the_filters_and_help_stay(
    demo: Path,
) -> None:
    from logonscope.tui.widgets.status import KeyHints, StatusLine
    from logonscope.tui.widgets.timeline import TimelineStrip

    label = "a-long-case-folder-name-as-responders-make-them-2026-03-03-host-srv01"
    app = make_app(demo, label=label, read_ahead=False)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        main = main_of(app)
        await pilot.press("x", "enter", "enter")  # failures only; user → IP → Sessions
        await settle(pilot)
        status = main.query_one(StatusLine)
        lines = status.render().plain.split("\n")
        assert len(lines) == 2
        width = status.content_size.width
        assert all(len(line) <= width for line in lines), lines
        assert lines[0].startswith("…") and lines[0].endswith("[Sessions]")
        assert lines[1].startswith("filters ") and "outcome: failure" in lines[1]
        footer = main.query_one(KeyHints).render().plain
        assert "? help" in footer and len(footer) <= main.query_one(KeyHints).content_size.width
        strip = main.query_one(TimelineStrip)
        if strip.display and strip.histogram.logons:
            axis = strip.render().plain.split("\n")[2]
            first = strip.histogram.start.strftime("%Y-%m-%d %H:%M")
            last = strip.histogram.end.strftime("%Y-%m-%d %H:%M UTC")
            assert f" {first} " in axis and axis.rstrip().endswith(f" {last}")
            assert len(axis) <= strip.content_size.width


@pytest.fixture
def brute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return brute_force_case(tmp_path_factory)


async def check_a_brute_forcers_address_comes_first_with_its_failures_counted_apart(
    pilot: Pilot, brute: Path
) -> None:
    app = pilot.app
    main = main_of(app)
    users = main.pane("users")
    await pilot.press(*["down"] * users.row_of("alice"), "enter")
    await settle(pilot)
    ips = main.pane("ips")
    rows = ips.shaped.rows.to_pylist()
    assert [r["src_ip"] for r in rows] == [BRUTE_IP, USUAL_IP]  # the attacker on top
    attacker, usual = rows
    assert (attacker["successes"], attacker["failures"]) == (1, BRUTE_FAILURES)
    assert (usual["successes"], usual["failures"]) == (10, 0)
    assert attacker["rare_for_user"] and not usual["rare_for_user"]
    assert attacker["first_failure"] < attacker["first_logon"]  # failed, then got in
    assert ips.columns()[:4] == ["src_ip", "rare_for_user", "successes", "failures"]
    every = replace(ips.shape_spec(), width=0).apply(ips.source).display  # all columns
    shares = dict(
        zip(every.column("src_ip").to_pylist(), every.column("share").to_pylist(), strict=True)
    )
    assert shares == {BRUTE_IP: "9.1 %", USUAL_IP: "90.9 %"}  # shares as percentages
    # NLA failures tied to an RDP connection are RDP attempts: an RDP filter keeps them
    main.filters = replace(main.filters, kinds=("RemoteInteractive",))
    main.reload_all()
    main.load_ips()
    await settle(pilot)
    failed = [r for r in ips.shaped.rows.to_pylist() if r["src_ip"] == BRUTE_IP]
    assert failed and failed[0]["failures"] == BRUTE_FAILURES


async def check_a_burst_of_failures_is_one_row_and_enter_opens_its_attempts(
    pilot: Pilot, brute: Path
) -> None:
    app = pilot.app
    from logonscope.analysis.bursts import BURST_GAP_S

    main = main_of(app)
    await pilot.press("s")  # every session of the case
    await settle(pilot)
    sessions = main.pane("sessions")
    rows = sessions.shaped.rows.to_pylist()
    bursts = [r for r in rows if r["attempts"]]
    assert len(bursts) == 1 and len(rows) == 12  # 11 logons + one burst, not 106 rows
    burst = bursts[0]
    assert burst["attempts"] == BRUTE_FAILURES and burst["src_ip"] == BRUTE_IP
    assert burst["outcome"] == "failure" and burst["end"] > burst["start"]  # first, last
    index = rows.index(burst)
    outcome = sessions.shaped.display.column("outcome").to_pylist()[index]
    assert outcome == f"failure ×{BRUTE_FAILURES}" and "outcome" in sessions.columns()
    timeline = main.query_one("#timeline").histogram
    assert sum(timeline.failures) == BRUTE_FAILURES  # every attempt still counts
    sessions.grid.move_cursor(row=index)
    await settle(pilot)
    await pilot.press("enter")  # the burst opens: its attempts, one row each
    await settle(pilot)
    assert main.focused_pane() == "sessions"
    attempts = sessions.shaped.rows.to_pylist()
    assert len(attempts) == BRUTE_FAILURES
    assert {r["outcome"] for r in attempts} == {"failure"}
    assert {r["src_ip"] for r in attempts} == {BRUTE_IP}
    assert not any(r["attempts"] for r in attempts)
    starts = [r["start"] for r in attempts]
    assert starts[0] == burst["start"] and starts[-1] == burst["end"]
    assert all(
        (b - a).total_seconds() <= BURST_GAP_S for a, b in zip(starts, starts[1:], strict=False)
    )
    assert "burst of 95 failures" in main.query_one("#status").crumbs
    await pilot.press("enter")  # an attempt opens like any session
    await settle(pilot)
    assert main.focused_pane() == "detail"
    assert main.pane("detail").session_id == attempts[0]["session_id"]
    await pilot.press("escape", "escape")  # back to the collapsed list
    await settle(pilot)
    assert sessions.shaped.rows.num_rows == 12
    assert "burst" not in main.query_one("#status").crumbs


async def check_detail_summary_is_grouped_with_codes_in_words_and_activity_shown_whole(
    pilot: Pilot, demo: Path
) -> None:
    app = pilot.app
    main = main_of(app)
    await pilot.press("slash", *"dave", "enter", "enter")
    await settle(pilot)
    ips = main.pane("ips")
    ips.grid.move_cursor(row=ips.row_of("81.2.69.160"))
    await settle(pilot)
    await pilot.press("enter", "enter")  # the session from dave's home address → detail
    await settle(pilot)
    summary = main.pane("detail").query_one("#summary-table")
    fields = summary.shaped.rows.column("field").to_pylist()
    values = dict(zip(fields, summary.shaped.rows.column("value").to_pylist(), strict=True))
    assert fields[0] == "── who" and "── from where" in fields and "── how it ended" in fields
    assert fields.index("src_ip") < summary.grid.size.height - 1  # on the first screen
    assert values["src_ip"] == "81.2.69.160"
    source = values["src_ip_source"]
    assert "(" in source and any(ch.isalpha() for ch in source.split("(")[1]), source
    assert values["logon_type"] == "10 (remote interactive (RDP))"
    await pilot.press("t", "t")  # the Activity tab
    await settle(pilot)
    activity = main.pane("detail").query_one("#activity-table")
    first = activity.shaped.rows.to_pylist()[0]
    line = str(main.pane("detail").query_one("#activity-preview").render())
    assert first["summary"] and first["summary"] in line  # whole, not cut at a column


async def check_export_defaults_to_the_case_exports_folder_and_says_the_full_path(
    pilot: Pilot, brute: Path
) -> None:
    app = pilot.app
    from logonscope.tui.screens.export import ExportScreen

    await pilot.press("e")
    await settle(pilot)
    assert isinstance(app.screen, ExportScreen)
    path = Path(app.screen.query_one("#export-path").value)
    assert path.parent == (brute / "exports").resolve() and path.suffix == ".csv"
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, MainScreen)
    assert path.is_file() and path.read_text().startswith("user_key,")
    said = [str(n.message) for n in app._notifications]
    assert any(f"to {path}" in m for m in said), said


async def check_help_spells_keys_one_way_and_lists_no_copy_noise(pilot: Pilot, demo: Path) -> None:
    app = pilot.app
    from logonscope.tui.screens.help import HelpScreen, key_rows

    await pilot.press("question_mark")
    await settle(pilot)
    assert isinstance(app.screen, HelpScreen)
    keys = {k for _, k, _ in key_rows(app.screen.groups)}
    assert {"Ctrl+Q", "Ctrl+P", "Ctrl+C", "C", "c"} <= keys
    assert not any("ctrl" in k or "super" in k for k in keys), keys
    does = {d for _, _, d in key_rows(app.screen.groups)}
    assert "Copy" not in does and "clear filters and searches" in does


def test_the_timeline_label_never_touches_its_times() -> None:
    from logonscope.tui.widgets.timeline import label_between

    assert label_between("alice", 40) == "alice"
    cut = label_between("administrator from 45.146.164.110", 30)
    assert cut == "administrator from 45.146…" and len(cut) == 30 - 4
    assert label_between("administrator", 7) == ""  # no room: the times stay clear


@async_test
async def test_the_demo_case_at_120x36(demo: Path) -> None:
    """Columns, searches per view, breadcrumb, detail summary and help, each from a fresh
    main screen."""
    app = make_app(demo, label="demo", read_ahead=False)
    async with app.run_test(size=WIDE) as pilot:
        await run_checks(
            pilot,
            partial(
                check_sessions_show_the_important_columns_first_and_no_header_is_cut, pilot, demo
            ),
            partial(
                check_a_search_belongs_to_the_view_it_was_typed_in_and_c_clears_every_search,
                pilot,
                demo,
            ),
            partial(check_the_breadcrumb_names_only_the_session_the_detail_shows, pilot, demo),
            partial(
                check_detail_summary_is_grouped_with_codes_in_words_and_activity_shown_whole,
                pilot,
                demo,
            ),
            partial(check_help_spells_keys_one_way_and_lists_no_copy_noise, pilot, demo),
        )


@async_test
async def test_the_brute_force_case_at_120x36(brute: Path) -> None:
    """The attacker's address, the burst row, and the default export path, each from a fresh
    main screen."""
    app = make_app(brute, label="brute", read_ahead=False)
    async with app.run_test(size=WIDE) as pilot:
        await run_checks(
            pilot,
            partial(
                check_a_brute_forcers_address_comes_first_with_its_failures_counted_apart,
                pilot,
                brute,
            ),
            partial(
                check_a_burst_of_failures_is_one_row_and_enter_opens_its_attempts, pilot, brute
            ),
            partial(
                check_export_defaults_to_the_case_exports_folder_and_says_the_full_path,
                pilot,
                brute,
            ),
        )
