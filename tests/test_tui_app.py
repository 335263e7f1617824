"""Pilot tests: drive the app with keys over generated cases.

Each test presses keys as a responder would and asserts on widget state: what a pane shows,
where the focus is, what a file holds. The cases are written by the project's scenario
generator and built once per test process (tests/tui_support); what a pane must show is read
from the generator's truth.json, never from an earlier run.
"""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from logonscope.tui.app import make_app
from logonscope.tui.backend import FilterState
from logonscope.tui.screens.event import EventScreen
from logonscope.tui.screens.export import ExportScreen
from logonscope.tui.screens.filters import FiltersScreen
from logonscope.tui.screens.help import HelpScreen
from logonscope.tui.screens.main import MainScreen
from logonscope.tui.screens.pick import PickScreen
from tests.tui_support import (
    async_test,
    column,
    demo_case,
    ips_of,
    main_of,
    people,
    run_checks,
    settle,
    truth_of,
    user_sessions,
)

WIDE = (120, 36)
NARROW = (80, 24)


@pytest.fixture
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


@pytest.fixture
def truth(case: Path) -> dict[str, Any]:
    return truth_of(case)


def represented(pane: Any) -> int:
    """Sessions a Sessions pane stands for: a burst row of failures counts its attempts."""
    rows = pane.shaped.rows
    if "attempts" not in rows.column_names:
        return rows.num_rows
    return sum(n or 1 for n in rows.column("attempts").to_pylist())


def steady_user(truth: dict[str, Any]) -> str:
    """A user with sessions from several addresses and no failed attempt (no burst rows)."""
    by_user: dict[str, list[dict[str, Any]]] = {}
    for s in truth["sessions"]:
        if not s.get("system"):
            by_user.setdefault(s["user"].lower(), []).append(s)
    return sorted(
        u
        for u, ss in by_user.items()
        if len(ips_of(ss) - {None}) > 1 and all(s["outcome"] != "failure" for s in ss)
    )[0]


async def check_it_shows_users_with_system_accounts_hidden_then_shown_with_S(
    pilot: Pilot, case: Path, truth: dict[str, Any]
) -> None:
    app = pilot.app
    system = {s["user"].lower() for s in truth["sessions"] if s["system"]}
    assert {"system", "dwm-2", "umfd-2", "local service"} <= system
    main = main_of(app)
    users = column(main.pane("users"), "user_key")
    assert set(users) == people(truth) and len(users) == len(set(users))
    assert {"alice", "dave", "administrator"} <= set(users)
    assert not system & set(users)
    assert "system: hidden" in main.filters.describe()
    await pilot.press("S")
    await settle(pilot)
    assert main.filters.show_system
    assert set(column(main.pane("users"), "user_key")) == people(truth) | system
    assert "system: shown" in str(main.query_one("#status").filters)


async def check_it_drills_from_a_user_to_a_session_and_shows_its_fields_and_sources(
    pilot: Pilot, case: Path, truth: dict[str, Any]
) -> None:
    app = pilot.app
    failures: dict[str, int] = {}
    for s in truth["sessions"]:
        if not s["system"]:
            key = s["user"].lower()
            failures[key] = failures.get(key, 0) + (s["outcome"] == "failure")
    main = main_of(app)
    user = main.pane("users").current()["user_key"]
    assert failures[user] == max(failures.values())  # the most-failed account on top
    theirs = user_sessions(truth, user)
    await pilot.press("enter")  # user → their source IPs
    await settle(pilot)
    assert main.focused_pane() == "ips"
    ips = main.pane("ips")
    assert set(column(ips, "src_ip")) == ips_of(theirs)
    ip = ips.current()["src_ip"]
    await pilot.press("enter")  # source IP → sessions from it
    await settle(pilot)
    assert main.focused_pane() == "sessions"
    sessions = main.pane("sessions")
    assert set(column(sessions, "src_ip")) == {ip}
    assert set(column(sessions, "user_key")) == {user}
    assert represented(sessions) == len([s for s in theirs if s["src_ip"] == ip])
    if sessions.current().get("attempts"):  # a burst of failures: Enter lists its attempts
        burst = sessions.current()["attempts"]
        await pilot.press("enter")
        await settle(pilot)
        assert sessions.shaped.total == burst and main.focused_pane() == "sessions"
    chosen = sessions.current()
    await pilot.press("enter")  # session → detail
    await settle(pilot)
    assert main.focused_pane() == "detail"
    detail = main.pane("detail")
    assert detail.session_id == chosen["session_id"]
    summary = dict(
        zip(
            *(
                detail.query_one("#summary-table").shaped.rows.column(c).to_pylist()
                for c in ("field", "value")
            ),
            strict=True,
        )
    )
    assert summary["user"].lower() == user
    assert summary["session_id"] == chosen["session_id"]
    assert summary["outcome"] == chosen["outcome"]
    assert summary["src_ip"] == ip
    await pilot.press("t")  # Sources tab
    await settle(pilot)
    sources = detail.query_one("#sources-table")
    assert detail.tabs.active == "sources"
    rows = sources.shaped.rows.to_pylist()
    assert len(rows) == chosen["n_sources"]
    assert any(r["channel"] == "Security" and r["event_id"] in (4624, 4625) for r in rows)
    assert all(r["record_id"] is not None and r["role"] for r in rows)
    await pilot.press("enter")  # the full event behind the first source
    await settle(pilot)
    assert isinstance(app.screen, EventScreen)
    event = json.loads(app.screen.query_one("#event-json").text)
    assert event["record_id"] == rows[0]["record_id"]
    assert event["evidence_sha256"] == rows[0]["evidence_sha256"]
    assert isinstance(event["data"], dict)
    await pilot.press("escape")
    await settle(pilot)
    assert isinstance(app.screen, MainScreen)


async def check_back_and_forward_walk_the_drill_down_history(pilot: Pilot, case: Path) -> None:
    app = pilot.app
    main = main_of(app)
    await pilot.press("slash", *steady_user(truth_of(case)), "enter")
    await settle(pilot)
    user = main.pane("users").current()["user_key"]
    await pilot.press("enter")
    await settle(pilot)
    ip = main.pane("ips").current()["src_ip"]
    for _ in range(2):
        await pilot.press("enter")
        await settle(pilot)
    assert main.focused_pane() == "detail"
    await pilot.press("escape")
    await settle(pilot)
    assert main.focused_pane() == "sessions"
    await pilot.press("backspace")
    await settle(pilot)
    assert main.focused_pane() == "ips"
    assert not main.nav.ip_set
    assert set(column(main.pane("sessions"), "user_key")) == {user}
    assert len(set(column(main.pane("sessions"), "src_ip"))) > 1  # every address again
    await pilot.press("right_square_bracket")
    await settle(pilot)
    assert main.focused_pane() == "sessions" and main.nav.ip == ip
    assert set(column(main.pane("sessions"), "src_ip")) == {ip}
    await pilot.press("escape", "escape")
    await settle(pilot)
    assert main.focused_pane() == "users"
    await pilot.press("escape")  # nothing further back: stays, says how to quit
    await settle(pilot)
    assert main.focused_pane() == "users"
    assert "q quits" in main.query_one("#status").note


async def check_tab_moves_between_panes_and_narrow_terminals_show_one_pane(
    pilot: Pilot, case: Path
) -> None:
    app = pilot.app
    main = main_of(app)
    assert main.has_class("narrow")
    shown = [name for name in ("users", "ips", "sessions", "detail") if main.pane(name).display]
    assert shown == ["users"]
    await pilot.press("tab")
    assert main.focused_pane() == "ips"
    await pilot.press("tab", "tab")
    await settle(pilot)
    assert main.focused_pane() == "detail"
    assert [n for n in ("users", "ips", "sessions", "detail") if main.pane(n).display] == ["detail"]
    await pilot.press("shift+tab")
    assert main.focused_pane() == "sessions"


async def check_slash_searches_the_current_table_and_escape_clears_it(
    pilot: Pilot, case: Path, truth: dict[str, Any]
) -> None:
    app = pilot.app
    alice = user_sessions(truth, "alice")  # signs in fine, mistypes her password unlocking
    failed = [s for s in alice if s["outcome"] == "failure"]
    assert 0 < len(failed) < len(alice)
    main = main_of(app)
    await pilot.press("slash", *"alice", "enter")
    await settle(pilot)
    assert column(main.pane("users"), "user_key") == ["alice"]
    await pilot.press("enter", "tab")  # her addresses, then Sessions (all of hers)
    await settle(pilot)
    assert main.focused_pane() == "sessions" and main.nav.user == "alice"
    sessions = main.pane("sessions")
    total = sessions.shaped.total
    assert total == len(alice)
    await pilot.press("slash", *"password", "enter")
    await settle(pilot)
    rows = sessions.shaped.rows.to_pylist()
    assert len(rows) == len(failed)
    assert all("password" in (r["failure_reason"] or "") for r in rows)
    assert "/password" in sessions.border_subtitle
    assert main.focused_pane() == "sessions"
    await pilot.press("slash", "escape")
    await settle(pilot)
    assert sessions.search_text == "" and sessions.shaped.rows.num_rows == total


async def check_o_sorts_by_a_chosen_column_and_O_reverses(pilot: Pilot, case: Path) -> None:
    app = pilot.app
    main = main_of(app)
    users = main.pane("users")
    await pilot.press("o")
    await settle(pilot)
    assert isinstance(app.screen, PickScreen)
    picker = app.screen
    picker.query_one("#pick-list").highlighted = [v for v, _ in picker.options].index("sessions")
    await pilot.press("enter")
    await settle(pilot)
    counts = column(users, "sessions")
    assert counts == sorted(counts)
    await pilot.press("O")
    await settle(pilot)
    counts = column(users, "sessions")
    assert counts == sorted(counts, reverse=True)
    assert "by sessions ↓" in users.border_subtitle


async def check_x_shows_failures_only_and_the_status_line_says_so(
    pilot: Pilot, case: Path, truth: dict[str, Any]
) -> None:
    app = pilot.app
    failed = [s for s in truth["sessions"] if s["outcome"] == "failure" and not s["system"]]
    main = main_of(app)
    await pilot.press("s")  # the case-wide sessions list
    await settle(pilot)
    assert main.nav.user is None and main.focused_pane() == "sessions"
    everyone = set(column(main.pane("sessions"), "user_key"))
    assert len(everyone) > 1
    await pilot.press("x")
    await settle(pilot)
    assert set(column(main.pane("sessions"), "outcome")) == {"failure"}
    assert represented(main.pane("sessions")) == len(failed)
    assert "outcome: failure" in main.query_one("#status").filters
    await pilot.press("c")
    await settle(pilot)
    assert "outcome: all" in main.query_one("#status").filters


async def check_the_filter_dialog_sets_host_kind_and_time_range(
    pilot: Pilot, case: Path, truth: dict[str, Any]
) -> None:
    app = pilot.app
    computer = truth["files"][-1]["host"]  # e.g. WS02.corp.example.com
    short = computer.split(".")[0]
    interactive = [
        s
        for s in truth["sessions"]
        if s["host"] == computer and s["logon_type"] == 2 and not s["system"]
    ]
    main = main_of(app)
    await pilot.press("s", "f")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, FiltersScreen)
    host = next(h for h in main.facets.hosts if h.upper().startswith(short))
    dialog.query_one("#filter-host").value = host
    dialog.query_one("#filter-kinds").select("Interactive")
    dialog.query_one("#filter-since").value = "2020-01-01"
    dialog.query_one("#filter-until").value = "2030-01-01 00:00"
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(app.screen, MainScreen)
    assert main.filters.host == host
    assert main.filters.kinds == ("Interactive",)
    rows = main.pane("sessions").shaped.rows.to_pylist()
    assert len(rows) == len(interactive) > 0
    assert {r["host_key"] for r in rows} == {short.lower()}
    assert {r["logon_kind"] for r in rows} == {"Interactive"}
    status = main.query_one("#status").filters
    assert f"host: {short}" in status and "2020-01-01 00:00" in status


async def check_a_bad_time_in_the_filter_dialog_is_refused_with_a_reason(
    pilot: Pilot, case: Path
) -> None:
    app = pilot.app
    await pilot.press("f")
    await settle(pilot)
    app.screen.query_one("#filter-since").value = "yesterday"
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(app.screen, FiltersScreen)
    assert "not a time" in str(app.screen.query_one("#filter-error").render())
    await pilot.press("escape")
    assert main_of(app).filters == FilterState()


async def check_e_exports_the_current_view_to_the_path_asked(
    pilot: Pilot, case: Path, tmp_path: Path, suffix: str
) -> None:
    app = pilot.app
    target = tmp_path / f"sessions.{suffix}"
    main = main_of(app)
    await pilot.press("tab", "tab")  # Sessions of the first user
    await pilot.press("slash", *"failure", "enter")
    await settle(pilot)
    expected = main.pane("sessions").shaped.view
    await pilot.press("e")
    await settle(pilot)
    assert isinstance(app.screen, ExportScreen)
    app.screen.query_one("#export-path").value = str(target)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, MainScreen)
    if suffix == "csv":
        with target.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == expected.column_names
    else:
        rows = json.loads(target.read_text())
        assert rows[0]["start"].endswith("Z")
    assert len(rows) == expected.num_rows > 0
    assert {r["session_id"] for r in rows} == set(expected.column("session_id").to_pylist())
    assert not list(tmp_path.glob(".*.tmp"))  # nothing half-written left behind


async def check_export_asks_before_replacing_an_existing_file(
    pilot: Pilot, case: Path, tmp_path: Path
) -> None:
    app = pilot.app
    target = tmp_path / "users.csv"
    target.write_text("keep me\n")
    await pilot.press("e")
    app.screen.query_one("#export-path").value = str(target)
    await pilot.press("enter")
    assert isinstance(app.screen, ExportScreen)
    assert target.read_text() == "keep me\n"
    await pilot.press("enter")
    await settle(pilot)
    assert target.read_text().startswith("user_key,")


async def check_question_mark_lists_every_key_including_quit(pilot: Pilot, case: Path) -> None:
    app = pilot.app
    await pilot.press("question_mark")
    await settle(pilot)
    assert isinstance(app.screen, HelpScreen)
    from logonscope.tui.screens.help import key_rows

    listed = {(keys, does) for _, keys, does in key_rows(app.screen.groups)}
    for binding in MainScreen.BINDINGS:
        assert binding.description and any(does == binding.description for _, does in listed)
    assert ("q", "quit") in listed and ("?", "help (this list)") in listed
    assert ("/", "search this table") in listed and (
        "Esc, Backspace",
        "back (history)",
    ) in listed
    await pilot.press("escape")
    assert isinstance(app.screen, MainScreen)


async def check_q_quits_from_the_main_screen_with_status_0(pilot: Pilot, case: Path) -> None:
    app = pilot.app
    await pilot.press("q")
    await pilot.pause()
    assert app.return_value == 0


async def check_no_color_is_honoured(pilot: Pilot, case: Path) -> None:
    assert pilot.app.no_color  # NO_COLOR=1 was set before the app started


async def check_tab_into_sessions_reads_the_details_around_its_cursor(
    pilot: Pilot, case: Path
) -> None:
    """Tab into Sessions: the details of the sessions just below and above the cursor are read
    while the responder looks, so the first cursor move there finds its detail read."""
    app = pilot.app
    main = main_of(app)
    await pilot.press("tab", "tab")
    await settle(pilot)
    assert main.focused_pane() == "sessions"
    around = [row["session_id"] for row in main.pane("sessions").around()]
    assert around, "the first user has more than one session"
    for _ in range(200):  # the read-ahead thread, up to 10 s
        if all(app.backend.ready("detail", sid) is not None for sid in around):
            break
        await pilot.pause(0.05)
    assert all(app.backend.ready("detail", sid) is not None for sid in around), around


@async_test
async def test_browsing_the_demo_case_at_120x36(case: Path, truth: dict[str, Any]) -> None:
    """Users, drill-down, history, search, sort and failures, each from a fresh main screen.

    The one story that reads ahead as the app does in a terminal (the others turn it off):
    its cursor moves, drill-downs, sort and `x` then show what the read-ahead cached."""
    app = make_app(case, label="demo")
    async with app.run_test(size=WIDE) as pilot:
        await run_checks(
            pilot,
            partial(
                check_it_shows_users_with_system_accounts_hidden_then_shown_with_S,
                pilot,
                case,
                truth,
            ),
            partial(
                check_it_drills_from_a_user_to_a_session_and_shows_its_fields_and_sources,
                pilot,
                case,
                truth,
            ),
            partial(check_back_and_forward_walk_the_drill_down_history, pilot, case),
            partial(
                check_slash_searches_the_current_table_and_escape_clears_it, pilot, case, truth
            ),
            partial(check_o_sorts_by_a_chosen_column_and_O_reverses, pilot, case),
            partial(check_x_shows_failures_only_and_the_status_line_says_so, pilot, case, truth),
            partial(check_tab_into_sessions_reads_the_details_around_its_cursor, pilot, case),
        )


@async_test
async def test_dialogs_help_and_quit_on_the_demo_case_at_120x36(
    case: Path, truth: dict[str, Any], tmp_path: Path
) -> None:
    """Filter and export dialogs, help, then q, each from a fresh main screen."""
    app = make_app(case, label="demo", read_ahead=False)
    async with app.run_test(size=WIDE) as pilot:
        await run_checks(
            pilot,
            partial(check_the_filter_dialog_sets_host_kind_and_time_range, pilot, case, truth),
            partial(check_a_bad_time_in_the_filter_dialog_is_refused_with_a_reason, pilot, case),
            partial(
                check_e_exports_the_current_view_to_the_path_asked, pilot, case, tmp_path, "csv"
            ),
            partial(
                check_e_exports_the_current_view_to_the_path_asked, pilot, case, tmp_path, "json"
            ),
            partial(check_export_asks_before_replacing_an_existing_file, pilot, case, tmp_path),
            partial(check_question_mark_lists_every_key_including_quit, pilot, case),
            partial(check_q_quits_from_the_main_screen_with_status_0, pilot, case),  # last: quits
        )


@async_test
async def test_at_80x24_without_colour(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One pane at a time, Tab between them, and NO_COLOR honoured."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(case, label="demo", read_ahead=False)
    async with app.run_test(size=NARROW) as pilot:
        await run_checks(
            pilot,
            partial(check_no_color_is_honoured, pilot, case),
            partial(check_tab_moves_between_panes_and_narrow_terminals_show_one_pane, pilot, case),
        )
