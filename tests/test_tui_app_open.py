"""Pilot tests of opening evidence (ingest and build on the prepare screen, or cancelled),
the CLI's refusals, the crafted case's hostile and address-less rows, and the backend's
selections behind them. The cases are generated (tests/tui_support) and built once per run.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest
from textual.pilot import Pilot

from logonscope.tui.app import make_app
from logonscope.tui.backend import FilterState
from logonscope.tui.screens.main import MainScreen
from tests.conftest import run_cli_inline
from tests.tui_support import (
    EVIL_USER,
    async_test,
    column,
    crafted_case,
    demo_case,
    evidence_of,
    ips_of,
    main_of,
    people,
    run_checks,
    settle,
    truth_of,
    user_sessions,
)

WIDE = (120, 36)


@pytest.fixture
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


@pytest.fixture
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crafted_case(tmp_path_factory)


async def check_evidence_strings_are_shown_as_text_never_as_markup_or_escapes(
    pilot: Pilot, crafted: Path
) -> None:
    app = pilot.app
    assert user_sessions(truth_of(crafted), EVIL_USER)  # the name went through real EVTX
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


async def check_choosing_the_no_ip_row_shows_only_sessions_without_a_source_address(
    pilot: Pilot, crafted: Path
) -> None:
    app = pilot.app
    # alice has network logons both from an address and without one
    alice = user_sessions(truth_of(crafted), "alice")
    without = [s for s in alice if s["src_ip"] is None]
    assert 0 < len(without) < len(alice)
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


@async_test
async def test_open_paths_ingests_and_builds_in_a_worker_then_shows_the_users(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logonscope.storage import ingest

    # one job: the screen's thread worker is checked, not the pool (cancelling one is, below)
    monkeypatch.setattr(ingest, "ingest", partial(ingest.ingest, jobs=1))
    built = demo_case(tmp_path_factory)
    source = evidence_of(built)  # generated EVTX: only read, never changed
    case = tmp_path / "case"
    app = make_app(case, paths=[str(source)], label="fresh", read_ahead=False)
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

    source = evidence_of(demo_case(tmp_path_factory))
    case = tmp_path / "case"
    app = make_app(case, paths=[str(source)], label="cancelled", read_ahead=False)
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


def test_demo_no_tui_builds_the_demo_case_and_prints_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logonscope.storage import ingest

    # one job: what is checked is the command, not the pool (its own tests spawn it); a pool
    # of spawned interpreters for the demo's few files cost ~1.3 CPU s
    monkeypatch.setattr(ingest, "ingest", partial(ingest.ingest, jobs=1))
    result = run_cli_inline("demo", "--no-tui", "--case", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "demo")
    assert (tmp_path / "demo" / "derived" / "sessions.parquet").exists()
    assert list((tmp_path / "demo-evidence").rglob("*.evtx"))


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


@async_test
async def test_the_crafted_case_at_120x36(crafted: Path) -> None:
    """Hostile names shown as text, and the "no address" row, each from a fresh main screen."""
    app = make_app(crafted, label="evil", read_ahead=False)
    async with app.run_test(size=WIDE) as pilot:
        await run_checks(
            pilot,
            partial(
                check_evidence_strings_are_shown_as_text_never_as_markup_or_escapes, pilot, crafted
            ),
            partial(
                check_choosing_the_no_ip_row_shows_only_sessions_without_a_source_address,
                pilot,
                crafted,
            ),
        )
