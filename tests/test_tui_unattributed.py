"""Pilot: `A` lists the activity no session holds (the SYSTEM service install of the
`system-service` scenario made before anyone logged on), Enter shows its event; the two
installs during the RDP session are in that session's Activity tab with their weak strength."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from textual.pilot import Pilot

from logonscope.tui.app import make_app
from logonscope.tui.screens.event import EventScreen
from logonscope.tui.screens.main import MainScreen
from logonscope.tui.screens.unattributed import UnattributedScreen, UnattributedTable
from logonscope.tui.widgets.detail import ActivityTable
from tests.tui_support import async_test, run_checks, settle, system_service_case, truth_of

WIDE = (120, 36)


@pytest.fixture
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return system_service_case(tmp_path_factory)


async def check_a_lists_unattributed_system_service_installs_and_opens_the_event(
    pilot: Pilot, case: Path
) -> None:
    app = pilot.app
    truth = truth_of(case)
    lost = [a for a in truth["activity"] if a["event_id"] == 7045 and a["session"] is None]
    assert len(lost) == 1
    await pilot.press("A")
    await settle(pilot)
    assert isinstance(app.screen, UnattributedScreen)
    table = app.screen.query_one(UnattributedTable)
    rows = table.shaped.rows.to_pylist()
    installs = [r for r in rows if r["event_id"] == 7045]
    assert [r["record_id"] for r in installs] == [lost[0]["record_id"]]
    assert installs[0]["summary"].startswith("service installed: ")
    assert all(r["session_id"] is None for r in rows)
    table.focus_table()
    row = next(i for i, r in enumerate(rows) if r["event_id"] == 7045)
    table.grid.move_cursor(row=row)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, EventScreen)
    assert app.screen.event["record_id"] == lost[0]["record_id"]
    await pilot.press("escape")
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)
    assert isinstance(app.screen, MainScreen)


async def check_installs_during_the_rdp_session_show_in_it_with_their_strength(
    pilot: Pilot, case: Path
) -> None:
    app = pilot.app
    truth = truth_of(case)
    placed = [a for a in truth["activity"] if a["event_id"] == 7045 and a["session"]]
    assert len(placed) == 2 and {a["confidence"] for a in placed} == {"host+time"}
    main = app.screen
    assert isinstance(main, MainScreen)
    await pilot.press("s")  # every session of the case
    await settle(pilot)
    await pilot.press("slash", *"RemoteInteractive", "enter")
    await settle(pilot)
    sessions = main.pane("sessions")
    (rdp,) = sessions.shaped.rows.to_pylist()
    await pilot.press("enter")  # session -> detail
    await pilot.press("t", "t")  # its Activity tab
    await settle(pilot)
    assert main.pane("detail").tabs.active == "activity"
    activity = main.query_one("#activity-table", ActivityTable)
    rows = activity.shaped.rows.to_pylist()
    installs = [a for a in rows if a["event_id"] == 7045]
    assert sorted(a["record_id"] for a in installs) == sorted(a["record_id"] for a in placed)
    assert {a["confidence"] for a in installs} == {"host+time"}
    assert rdp["user"] == "svc_backup"


@async_test
async def test_the_system_service_case_at_120x36(case: Path) -> None:
    """The unattributed list and the RDP session's activity, each from a fresh main screen."""
    app = make_app(case, read_ahead=False)
    async with app.run_test(size=WIDE) as pilot:
        await run_checks(
            pilot,
            partial(
                check_a_lists_unattributed_system_service_installs_and_opens_the_event, pilot, case
            ),
            partial(
                check_installs_during_the_rdp_session_show_in_it_with_their_strength, pilot, case
            ),
        )
