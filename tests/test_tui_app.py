"""Pilot tests: drive the app with keys over real (Belkasoft) and generated cases.

Each test presses keys as a responder would and asserts on widget state: what a pane shows,
where the focus is, what a file holds. Cases are built once per session (tests/tui_support).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from logonscope.tui.app import make_app
from logonscope.tui.backend import FilterState
from logonscope.tui.screens.event import EventScreen
from logonscope.tui.screens.export import ExportScreen
from logonscope.tui.screens.filters import FiltersScreen
from logonscope.tui.screens.help import HelpScreen
from logonscope.tui.screens.main import MainScreen
from logonscope.tui.screens.pick import PickScreen
from tests.tui_support import EVIL_USER, async_test, belkasoft_case, evil_case, settle

WIDE = (120, 36)
NARROW = (80, 24)


@pytest.fixture
def belka(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return belkasoft_case(tmp_path_factory)


def main_of(app) -> MainScreen:
    assert isinstance(app.screen, MainScreen), f"not on the main screen: {app.screen!r}"
    return app.screen


def column(pane, name: str) -> list:
    return pane.shaped.rows.column(name).to_pylist()


@async_test
async def test_it_shows_users_with_system_accounts_hidden_then_shown_with_S(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        users = column(main.pane("users"), "user_key")
        assert "anit.ghosh" in users and "administrator" in users
        assert not {"system", "dwm-1", "umfd-0", "local service"} & set(users)
        assert "system: hidden" in main.filters.describe()
        await pilot.press("S")
        await settle(pilot)
        assert main.filters.show_system
        assert "system" in column(main.pane("users"), "user_key")
        assert "system: shown" in str(main.query_one("#status").filters)


@async_test
async def test_it_drills_from_a_user_to_a_session_and_shows_its_fields_and_sources(
    belka: Path,
) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        assert main.pane("users").current()["user_key"] == "anit.ghosh"
        await pilot.press("enter")  # user → their source IPs
        await settle(pilot)
        assert main.focused_pane() == "ips"
        ips = main.pane("ips")
        assert "127.0.0.1" in column(ips, "src_ip")
        assert ips.current()["src_ip"] == "127.0.0.1"
        await pilot.press("enter")  # source IP → sessions from it
        await settle(pilot)
        assert main.focused_pane() == "sessions"
        sessions = main.pane("sessions")
        assert set(column(sessions, "src_ip")) == {"127.0.0.1"}
        assert set(column(sessions, "user_key")) == {"anit.ghosh"}
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
        assert summary["user"] == "anit.ghosh"
        assert summary["session_id"] == chosen["session_id"]
        assert summary["outcome"] == chosen["outcome"]
        assert summary["src_ip"] == "127.0.0.1"
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


@async_test
async def test_back_and_forward_walk_the_drill_down_history(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        for _ in range(3):
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
        assert set(column(main.pane("sessions"), "user_key")) == {"anit.ghosh"}
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert main.focused_pane() == "sessions" and main.nav.ip == "127.0.0.1"
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert main.focused_pane() == "users"
        await pilot.press("escape")  # nothing further back: stays, says how to quit
        await settle(pilot)
        assert main.focused_pane() == "users"
        assert "q quits" in main.query_one("#status").note


@async_test
async def test_tab_moves_between_panes_and_narrow_terminals_show_one_pane(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        main = main_of(app)
        assert main.has_class("narrow")
        shown = [name for name in ("users", "ips", "sessions", "detail") if main.pane(name).display]
        assert shown == ["users"]
        await pilot.press("tab")
        assert main.focused_pane() == "ips"
        await pilot.press("tab", "tab")
        await settle(pilot)
        assert main.focused_pane() == "detail"
        assert [n for n in ("users", "ips", "sessions", "detail") if main.pane(n).display] == [
            "detail"
        ]
        await pilot.press("shift+tab")
        assert main.focused_pane() == "sessions"


@async_test
async def test_slash_searches_the_current_table_and_escape_clears_it(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        await pilot.press("tab", "tab")  # Sessions (of anit.ghosh)
        sessions = main.pane("sessions")
        total = sessions.shaped.total
        await pilot.press("slash", *"password", "enter")
        await settle(pilot)
        rows = sessions.shaped.rows.to_pylist()
        assert 0 < len(rows) < total
        assert all("password" in (r["failure_reason"] or "") for r in rows)
        assert "/password" in sessions.border_subtitle
        assert main.focused_pane() == "sessions"
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert sessions.search_text == "" and sessions.shaped.rows.num_rows == total


@async_test
async def test_o_sorts_by_a_chosen_column_and_O_reverses(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        users = main.pane("users")
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, PickScreen)
        picker = app.screen
        picker.query_one("#pick-list").highlighted = [v for v, _ in picker.options].index(
            "sessions"
        )
        await pilot.press("enter")
        await settle(pilot)
        counts = column(users, "sessions")
        assert counts == sorted(counts)
        await pilot.press("O")
        await settle(pilot)
        counts = column(users, "sessions")
        assert counts == sorted(counts, reverse=True)
        assert "by sessions ↓" in users.border_subtitle


@async_test
async def test_x_shows_failures_only_and_the_status_line_says_so(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        await pilot.press("s")  # the case-wide sessions list
        await settle(pilot)
        assert main.nav.user is None and main.focused_pane() == "sessions"
        everyone = set(column(main.pane("sessions"), "user_key"))
        assert len(everyone) > 1
        await pilot.press("x")
        await settle(pilot)
        assert set(column(main.pane("sessions"), "outcome")) == {"failure"}
        assert "outcome: failure" in main.query_one("#status").filters
        await pilot.press("c")
        await settle(pilot)
        assert "outcome: all" in main.query_one("#status").filters


@async_test
async def test_the_filter_dialog_sets_host_kind_and_time_range(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        await pilot.press("s", "f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FiltersScreen)
        host = next(h for h in main.facets.hosts if h.startswith("DESKTOP-23PS6ES"))
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
        assert rows and {r["host_key"] for r in rows} == {"desktop-23ps6es"}
        assert {r["logon_kind"] for r in rows} == {"Interactive"}
        status = main.query_one("#status").filters
        assert "host: DESKTOP-23PS6ES" in status and "2020-01-01 00:00" in status


@async_test
async def test_a_bad_time_in_the_filter_dialog_is_refused_with_a_reason(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#filter-since").value = "yesterday"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FiltersScreen)
        assert "not a time" in str(app.screen.query_one("#filter-error").render())
        await pilot.press("escape")
        assert main_of(app).filters == FilterState()


@pytest.mark.parametrize("suffix", ["csv", "json"])
@async_test
async def test_e_exports_the_current_view_to_the_path_asked(
    belka: Path, tmp_path: Path, suffix: str
) -> None:
    app = make_app(belka, label="belka")
    target = tmp_path / f"sessions.{suffix}"
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        await pilot.press("tab", "tab")  # Sessions of anit.ghosh
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


@async_test
async def test_export_asks_before_replacing_an_existing_file(belka: Path, tmp_path: Path) -> None:
    target = tmp_path / "users.csv"
    target.write_text("keep me\n")
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        app.screen.query_one("#export-path").value = str(target)
        await pilot.press("enter")
        assert isinstance(app.screen, ExportScreen)
        assert target.read_text() == "keep me\n"
        await pilot.press("enter")
        await settle(pilot)
    assert target.read_text().startswith("user_key,")


@async_test
async def test_question_mark_lists_every_key_including_quit(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
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


@async_test
async def test_q_quits_from_the_main_screen_with_status_0(belka: Path) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0


@async_test
async def test_evidence_strings_are_shown_as_text_never_as_markup_or_escapes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    case = evil_case(tmp_path_factory)
    app = make_app(case, label="evil")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        users = main.pane("users")
        assert EVIL_USER in column(users, "user")
        shown = users.shaped.display.column("user").to_pylist()
        literal = "[red]x[/red]\\x1b[31mEVIL\\x1b]0;pwned\\x07"
        assert literal in shown
        for _ in range(3):
            await pilot.press("enter")
            await settle(pilot)
        screen = app.export_screenshot()
        assert "[red]x[/red]" in screen.replace("&#160;", " ")
        assert "\x1b" not in screen and "\x07" not in screen
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        text = "\n".join(lines)
        assert "[red]x[/red]\\x1b[31mEVIL" in text
        assert "\x1b" not in text
        # pane borders too (a str border title would be parsed as markup)
        assert "Sessions · [red]x[/red]" in text
        assert "User + source IP · [red]x[/red]" in text


@async_test
async def test_no_color_is_honoured(belka: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(belka, label="belka")
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        assert app.no_color


@async_test
async def test_open_paths_ingests_and_builds_in_a_worker_then_shows_the_users(
    tmp_path: Path,
) -> None:
    from tests.conftest import BELKASOFT, evidence

    source = evidence(BELKASOFT)
    case = tmp_path / "case"
    app = make_app(case, paths=[str(source)], label="fresh")
    async with app.run_test(size=WIDE) as pilot:
        import time

        deadline = time.monotonic() + 180  # ingest spawns processes: slow on a busy machine
        while time.monotonic() < deadline:
            await settle(pilot)
            if isinstance(app.screen, MainScreen):
                break
            await pilot.pause(0.1)
        main = main_of(app)
        await settle(pilot)
        assert "anit.ghosh" in column(main.pane("users"), "user_key")
    assert (case / "derived" / "sessions.parquet").exists()


@async_test
async def test_escape_on_the_prepare_screen_cancels_the_ingest_and_leaves_no_case(
    tmp_path: Path,
) -> None:
    import time

    from tests.conftest import BELKASOFT, evidence

    source = evidence(BELKASOFT)
    case = tmp_path / "case"
    app = make_app(case, paths=[str(source)], label="cancelled")
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("escape")
        deadline = time.monotonic() + 180
        while app.is_running and time.monotonic() < deadline:
            await pilot.pause(0.1)
    assert app.return_value == 1
    assert "cancelled" in app.message
    assert not (case / "evidence.parquet").exists()


def test_open_refuses_a_folder_that_is_not_a_case_with_status_2(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    result = run_cli("open", "--case", str(tmp_path / "nothing-here"))
    assert result.returncode == 2
    assert "no such case folder" in result.stderr
    result = run_cli("open", str(tmp_path / "missing.evtx"), "--case", str(tmp_path / "c"))
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr


def test_demo_no_tui_builds_the_demo_case_and_prints_its_path(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    result = run_cli("demo", "--no-tui", "--case", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "demo")
    assert (tmp_path / "demo" / "derived" / "sessions.parquet").exists()
    assert list((tmp_path / "demo-evidence").rglob("*.evtx"))


@async_test
async def test_choosing_the_no_ip_row_shows_only_sessions_without_a_source_address(
    belka: Path,
) -> None:
    app = make_app(belka, label="belka")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        users = column(main.pane("users"), "user_key")
        # a user with sessions both with and without an address
        await pilot.press(*["down"] * users.index("user"))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        ips = main.pane("ips")
        addresses = column(ips, "src_ip")
        assert None in addresses and len(addresses) > 1, addresses
        await pilot.press(*["down"] * addresses.index(None))
        await settle(pilot)
        assert ips.current()["src_ip"] is None
        labels = ips.shaped.display.column("src_ip").to_pylist()
        assert labels[addresses.index(None)] == "no address"  # a blank row has a label
        await pilot.press("enter")
        await settle(pilot)
        assert main.focused_pane() == "sessions"
        assert main.nav.ip_set and main.nav.ip is None
        sessions = main.pane("sessions")
        expected = next(r["sessions"] for r in ips.shaped.rows.to_pylist() if r["src_ip"] is None)
        assert set(column(sessions, "src_ip")) == {None}
        assert sessions.shaped.total == expected
        assert "no address" in main.query_one("#status").crumbs


def test_backend_no_ip_selection_is_sessions_without_an_address(belka: Path) -> None:
    from logonscope.tui.backend import Backend

    backend = Backend(belka)
    try:
        everything = backend.sessions(FilterState(), "user")
        no_ip = backend.sessions(FilterState(), "user", None, ip_set=True)
        assert 0 < no_ip.num_rows < everything.num_rows
        assert no_ip.column("src_ip").null_count == no_ip.num_rows
    finally:
        backend.close()


def test_backend_user_ips_picked_from_one_summary_per_filter_state_equal_the_query(
    belka: Path,
) -> None:
    from logonscope.analysis import queries
    from logonscope.storage.case import connect
    from logonscope.tui.backend import Backend

    backend = Backend(belka)
    con = connect(belka)
    try:
        for state in (
            FilterState(),
            FilterState(outcomes=("failure",)),
            FilterState(show_system=True, kinds=("Network",)),
        ):
            users = backend.users(state).column("user_key").to_pylist()
            assert users
            for user in users:
                expected = queries.user_ips(con, backend.filters(state, user=user))
                assert backend.user_ips(state, user).to_pylist() == expected.to_pylist()
    finally:
        con.close()
        backend.close()
