"""Pilot tests: drive the app with keys over generated cases.

Each test presses keys as a responder would and asserts on widget state: what a pane shows,
where the focus is, what a file holds. The cases are written by the project's scenario
generator and built once per test process (tests/tui_support); what a pane must show is read
from the generator's truth.json, never from an earlier run.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from logonscope.tui.app import make_app
from logonscope.tui.backend import FilterState
from logonscope.tui.screens.event import EventScreen
from logonscope.tui.screens.export import ExportScreen
from logonscope.tui.screens.filters import FiltersScreen
from logonscope.tui.screens.help import HelpScreen
from logonscope.tui.screens.main import MainScreen
from logonscope.tui.screens.pick import PickScreen
from tests.conftest import run_cli_inline
from tests.tui_support import (
    EVIL_USER,
    async_test,
    crafted_case,
    demo_case,
    evidence_of,
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


@pytest.fixture
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crafted_case(tmp_path_factory)


def people(truth: dict[str, Any]) -> set[str]:
    """User keys of every account that is not a system one, as the Users pane lists them."""
    return {s["user"].lower() for s in truth["sessions"] if not s["system"]}


def ips_of(sessions: list[dict[str, Any]]) -> set[str | None]:
    return {s["src_ip"] for s in sessions}


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


def main_of(app) -> MainScreen:
    assert isinstance(app.screen, MainScreen), f"not on the main screen: {app.screen!r}"
    return app.screen


def column(pane, name: str) -> list:
    return pane.shaped.rows.column(name).to_pylist()


@async_test
async def test_it_shows_users_with_system_accounts_hidden_then_shown_with_S(
    case: Path, truth: dict[str, Any]
) -> None:
    system = {s["user"].lower() for s in truth["sessions"] if s["system"]}
    assert {"system", "dwm-2", "umfd-2", "local service"} <= system
    app = make_app(case, label="demo")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
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


@async_test
async def test_it_drills_from_a_user_to_a_session_and_shows_its_fields_and_sources(
    case: Path, truth: dict[str, Any]
) -> None:
    failures: dict[str, int] = {}
    for s in truth["sessions"]:
        if not s["system"]:
            key = s["user"].lower()
            failures[key] = failures.get(key, 0) + (s["outcome"] == "failure")
    app = make_app(case, label="demo")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
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


@async_test
async def test_back_and_forward_walk_the_drill_down_history(case: Path) -> None:
    app = make_app(case, label="demo")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
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


@async_test
async def test_tab_moves_between_panes_and_narrow_terminals_show_one_pane(case: Path) -> None:
    app = make_app(case, label="demo")
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
async def test_slash_searches_the_current_table_and_escape_clears_it(
    case: Path, truth: dict[str, Any]
) -> None:
    alice = user_sessions(truth, "alice")  # signs in fine, mistypes her password unlocking
    failed = [s for s in alice if s["outcome"] == "failure"]
    assert 0 < len(failed) < len(alice)
    app = make_app(case, label="demo")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
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


@async_test
async def test_o_sorts_by_a_chosen_column_and_O_reverses(case: Path) -> None:
    app = make_app(case, label="demo")
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
async def test_x_shows_failures_only_and_the_status_line_says_so(
    case: Path, truth: dict[str, Any]
) -> None:
    failed = [s for s in truth["sessions"] if s["outcome"] == "failure" and not s["system"]]
    app = make_app(case, label="demo")
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
        assert represented(main.pane("sessions")) == len(failed)
        assert "outcome: failure" in main.query_one("#status").filters
        await pilot.press("c")
        await settle(pilot)
        assert "outcome: all" in main.query_one("#status").filters


@async_test
async def test_the_filter_dialog_sets_host_kind_and_time_range(
    case: Path, truth: dict[str, Any]
) -> None:
    computer = truth["files"][-1]["host"]  # e.g. WS02.corp.example.com
    short = computer.split(".")[0]
    interactive = [
        s
        for s in truth["sessions"]
        if s["host"] == computer and s["logon_type"] == 2 and not s["system"]
    ]
    app = make_app(case, label="demo")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
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


@async_test
async def test_a_bad_time_in_the_filter_dialog_is_refused_with_a_reason(case: Path) -> None:
    app = make_app(case, label="demo")
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
    case: Path, tmp_path: Path, suffix: str
) -> None:
    app = make_app(case, label="demo")
    target = tmp_path / f"sessions.{suffix}"
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
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


@async_test
async def test_export_asks_before_replacing_an_existing_file(case: Path, tmp_path: Path) -> None:
    target = tmp_path / "users.csv"
    target.write_text("keep me\n")
    app = make_app(case, label="demo")
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
async def test_question_mark_lists_every_key_including_quit(case: Path) -> None:
    app = make_app(case, label="demo")
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
async def test_q_quits_from_the_main_screen_with_status_0(case: Path) -> None:
    app = make_app(case, label="demo")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0


@async_test
async def test_evidence_strings_are_shown_as_text_never_as_markup_or_escapes(
    crafted: Path,
) -> None:
    assert user_sessions(truth_of(crafted), EVIL_USER)  # the name went through real EVTX
    app = make_app(crafted, label="evil")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        users = main.pane("users")
        assert users.current()["user"] == EVIL_USER
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
        assert "Investigator sessions (v) · [red]x[/red]" in text
        assert "User + source IP · [red]x[/red]" in text


@async_test
async def test_no_color_is_honoured(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(case, label="demo")
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        assert app.no_color


@async_test
async def test_open_paths_ingests_and_builds_in_a_worker_then_shows_the_users(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    built = demo_case(tmp_path_factory)
    source = evidence_of(built)  # generated EVTX: only read, never changed
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
        assert set(column(main.pane("users"), "user_key")) == people(truth_of(built))
    assert (case / "derived" / "sessions.parquet").exists()


@async_test
async def test_escape_on_the_prepare_screen_cancels_the_ingest_and_leaves_no_case(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import time

    source = evidence_of(demo_case(tmp_path_factory))
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
    result = run_cli_inline("open", "--case", str(tmp_path / "nothing-here"))
    assert result.returncode == 2
    assert "no such case folder" in result.stderr
    result = run_cli_inline("open", str(tmp_path / "missing.evtx"), "--case", str(tmp_path / "c"))
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr


def test_demo_no_tui_builds_the_demo_case_and_prints_its_path(tmp_path: Path) -> None:
    result = run_cli_inline("demo", "--no-tui", "--case", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "demo")
    assert (tmp_path / "demo" / "derived" / "sessions.parquet").exists()
    assert list((tmp_path / "demo-evidence").rglob("*.evtx"))


@async_test
async def test_choosing_the_no_ip_row_shows_only_sessions_without_a_source_address(
    crafted: Path,
) -> None:
    # alice has network logons both from an address and without one
    alice = user_sessions(truth_of(crafted), "alice")
    without = [s for s in alice if s["src_ip"] is None]
    assert 0 < len(without) < len(alice)
    app = make_app(crafted, label="crafted")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_of(app)
        users = column(main.pane("users"), "user_key")
        await pilot.press(*["down"] * users.index("alice"))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        ips = main.pane("ips")
        addresses = column(ips, "src_ip")
        assert set(addresses) == ips_of(alice) and None in addresses, addresses
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
        assert sessions.shaped.total == expected == len(without)
        assert "no address" in main.query_one("#status").crumbs


def test_backend_no_ip_selection_is_sessions_without_an_address(crafted: Path) -> None:
    from logonscope.tui.backend import Backend

    alice = user_sessions(truth_of(crafted), "alice")
    backend = Backend(crafted)
    try:
        everything = backend.sessions(FilterState(), "alice")
        no_ip = backend.sessions(FilterState(), "alice", None, ip_set=True)
        assert everything.num_rows == len(alice)
        assert 0 < no_ip.num_rows == len([s for s in alice if s["src_ip"] is None])
        assert no_ip.num_rows < everything.num_rows
        assert no_ip.column("src_ip").null_count == no_ip.num_rows
    finally:
        backend.close()


def test_backend_user_ips_picked_from_one_summary_per_filter_state_equal_the_query(
    case: Path,
) -> None:
    from logonscope.analysis import queries
    from logonscope.storage.case import connect
    from logonscope.tui.backend import Backend

    backend = Backend(case)
    con = connect(case)
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
