"""Pilot tests over the generated demo case (`logonscope demo`): the outlier-IP story and
activity attributed to a session, driven with keys."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from logonscope.tui.app import make_app
from logonscope.tui.screens.event import EventScreen
from logonscope.tui.screens.main import MainScreen
from tests.tui_support import async_test, demo_case, settle, truth_of, user_sessions


@pytest.fixture
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


@async_test
async def test_it_drills_from_dave_to_his_rare_home_ip_and_the_activity_of_that_session(
    demo: Path,
) -> None:
    truth = truth_of(demo)
    daves = user_sessions(truth, "dave")
    home = [s for s in daves if s["src_ip"] and ipaddress.ip_address(s["src_ip"]).is_global]
    assert len(home) == 1  # one session from the internet among his office ones
    home_ip = home[0]["src_ip"]
    office = {s["src_ip"] for s in daves} - {home_ip}
    home_activity = [a for a in truth["activity"] if a["session"] == home[0]["key"]]
    app = make_app(demo, label="demo", read_ahead=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        users = main.pane("users")
        assert {"alice", "dave", "carol"} <= set(users.shaped.rows.column("user_key").to_pylist())
        await pilot.press("slash", *"dave", "enter")
        await settle(pilot)
        assert users.shaped.rows.column("user_key").to_pylist() == ["dave"]
        await pilot.press("enter")
        await settle(pilot)
        ips = main.pane("ips")
        by_ip = {r["src_ip"]: r for r in ips.shaped.rows.to_pylist()}
        assert set(by_ip) == office | {home_ip}
        assert by_ip[home_ip]["src_ip_class"] == "public"
        assert {by_ip[ip]["src_ip_class"] for ip in office} <= {"private", "loopback"}
        ips.grid.move_cursor(row=ips.row_of(home_ip))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        sessions = main.pane("sessions").shaped.rows.to_pylist()
        assert [s["src_ip"] for s in sessions] == [home_ip]
        assert home[0]["logon_type"] == 10 and sessions[0]["logon_kind"] == "RemoteInteractive"
        await pilot.press("enter")
        await settle(pilot)
        detail = main.pane("detail")
        assert detail.session_id == sessions[0]["session_id"]
        await pilot.press("t", "t")
        await settle(pilot)
        assert detail.tabs.active == "activity"
        activity = detail.query_one("#activity-table").shaped.rows.to_pylist()
        assert len(activity) == sessions[0]["n_activity"] == len(home_activity) > 0
        assert {a["record_id"] for a in activity} == {a["record_id"] for a in home_activity}
        assert all(a["session_id"] == sessions[0]["session_id"] for a in activity)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventScreen)
        event = json.loads(app.screen.query_one("#event-json").text)
        assert event["record_id"] == activity[0]["record_id"]


@async_test
async def test_H_lists_the_sessions_of_one_host(demo: Path) -> None:
    app = make_app(demo, label="demo", read_ahead=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = app.screen
        await pilot.press("H")
        await settle(pilot)
        picker = app.screen
        values = [v for v, _ in picker.options]
        srv = next(v for v in values if v.upper().startswith("SRV01"))
        picker.query_one("#pick-list").highlighted = values.index(srv)
        await pilot.press("enter")
        await settle(pilot)
        assert main.focused_pane() == "sessions" and main.nav.user is None
        rows = main.pane("sessions").shaped.rows.to_pylist()
        assert rows and {r["host_key"] for r in rows} == {"srv01"}
        assert len({r["user_key"] for r in rows}) > 1
        assert [n for n in ("users", "ips", "sessions", "detail") if main.pane(n).display] == [
            "sessions"
        ]
