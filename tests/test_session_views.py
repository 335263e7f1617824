"""Three notions of a session over the generated `rdp-reconnect` scenario: investigator
sessions, Windows logon sessions and desktop sessions, from the CLI (`--view`) and in the app
(`v`). What each view must list is read from the generator's truth.json (it picked every
logon id and LSM session id it wrote), never from an earlier run of logonscope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from logonscope.analysis.session_views import build_views
from logonscope.analysis.sessions import build_sessions
from logonscope.storage.schema import EVENTS_SCHEMA
from logonscope.tui.app import make_app
from logonscope.tui.screens.main import MainScreen
from tests.conftest import run_cli_inline
from tests.session_logs import RDP_ACT, Log
from tests.tui_support import async_test, evidence_of, reconnect_case, settle, truth_of

WIDE = (120, 36)


@pytest.fixture
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reconnect_case(tmp_path_factory)


@pytest.fixture
def truth(case: Path) -> dict[str, Any]:
    return truth_of(case)


def _json(*args: object) -> Any:
    result = run_cli_inline(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _people(rows: list[dict[str, Any]], truth: dict[str, Any]) -> list[dict[str, Any]]:
    """The truth rows of the scenario's one person (dave): what the default filters show."""
    people = {s["user"] for s in truth["sessions"] if not s["system"]}
    return [r for r in rows if r["user"] in people]


def test_truth_names_one_desktop_two_sessions_and_each_logon_id(truth: dict[str, Any]) -> None:
    sessions = _people(truth["sessions"], truth)
    assert len(sessions) == 2 and sorted(s["is_reconnect"] for s in sessions) == [False, True]
    (desktop,) = truth["desktop_sessions"]
    assert desktop["sessions"] == sorted(s["key"] for s in sessions)
    assert desktop["end_reason"] == "logoff" and len(desktop["src_ips"]) == 2
    logons = _people(truth["logon_sessions"], truth)
    # per connection: the NLA network logon and the RDP logon's UAC pair (dave is an admin)
    assert sorted(s["logon_type"] for s in logons) == [3, 3, 10, 10, 10, 10]
    assert len({(s["logon_id"]) for s in logons}) == len(logons)


def test_cli_views_list_what_the_truth_names(case: Path, truth: dict[str, Any]) -> None:
    def view(name: str, *more: str) -> list[dict[str, Any]]:
        return _json("sessions", "--case", case, "--view", name, "--format", "json", *more)

    investigator = view("investigator")
    assert len(investigator) == 2 == len(_people(truth["sessions"], truth))
    assert len(view("investigator", "--all")) == len(truth["sessions"])
    ids = {s["session_id"] for s in investigator}

    want = {(s["logon_id"], s["start"], s["end"]) for s in truth["logon_sessions"]}
    every_logon = view("logon", "--all")
    assert {(s["logon_id"], s["start"], s["end"]) for s in every_logon} == want
    logons = view("logon")
    assert len(logons) == len(_people(truth["logon_sessions"], truth)) == 6
    assert all(set(s["session_ids"]) <= ids and s["members"] for s in logons)

    (desktop,) = view("desktop")
    (truth_desktop,) = truth["desktop_sessions"]
    assert set(desktop["session_ids"]) == ids
    assert sorted(desktop["src_ips"]) == truth_desktop["src_ips"]
    assert (desktop["start"], desktop["end"]) == (truth_desktop["start"], truth_desktop["end"])
    assert desktop["n_connects"] == 2 and desktop["n_disconnects"] == 2

    # one desktop session in detail: its members are the events the generator credited to it
    detail = _json(
        "session", "--case", case, desktop["desktop_session_id"], "--view", "desktop",
        "--format", "json",
    )  # fmt: skip
    folder = evidence_of(case).resolve()
    members = {
        (Path(m["evidence_path"]).resolve().relative_to(folder).as_posix(), m["record_id"])
        for m in detail["members"]
    }
    assert members == {(s["file"], s["record_id"]) for s in truth_desktop["sources"]}
    assert {s["session_id"] for s in detail["sessions"]} == ids


def test_an_investigator_session_names_its_logon_and_desktop_sessions(
    case: Path, truth: dict[str, Any]
) -> None:
    ours = {s["start"]: s["session_id"] for s in _json(
        "sessions", "--case", case, "--format", "json"
    )}  # fmt: skip
    by_key = {s["key"]: ours.get(s["start"]) for s in truth["sessions"]}
    logons = {
        s["logon_session_id"]: s["logon_id"]
        for s in _json("sessions", "--case", case, "--view", "logon", "--format", "json")
    }
    (desktop,) = _json("sessions", "--case", case, "--view", "desktop", "--format", "json")
    for s in _people(truth["sessions"], truth):
        sid = by_key[s["key"]]
        detail = _json("session", "--case", case, sid, "--format", "json")
        want = {t["logon_id"] for t in truth["logon_sessions"] if s["key"] in t["sessions"]}
        assert {logons[x] for x in detail["logon_session_ids"]} == want
        assert detail["desktop_session_ids"] == [desktop["desktop_session_id"]]
    unknown = run_cli_inline("session", "--case", case, "nope", "--view", "logon")
    assert unknown.returncode == 2 and "no logon session" in unknown.stderr


def _summary(main: MainScreen) -> dict[str, str]:
    rows = main.pane("detail").query_one("#summary-table").shaped.rows
    return dict(
        zip(rows.column("field").to_pylist(), rows.column("value").to_pylist(), strict=True)
    )


@async_test
async def test_v_cycles_the_sessions_pane_through_the_three_views(case: Path) -> None:
    truth = truth_of(case)
    app = make_app(case, label="reconnect", read_ahead=False)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("s")  # every session of the case
        await settle(pilot)
        sessions = main.pane("sessions")
        assert sessions.shaped.rows.num_rows == 2
        investigator = set(sessions.shaped.rows.column("session_id").to_pylist())
        summary = _summary(main)  # the highlighted session: in which views it is
        assert "── in 1 desktop sessions" in summary

        await pilot.press("v")
        await settle(pilot)
        rows = sessions.shaped.rows
        assert rows.num_rows == len(_people(truth["logon_sessions"], truth))
        assert "logon_session_id" in rows.column_names
        assert "Windows logon sessions" in str(sessions.border_title)
        assert "[Sessions: Windows logon sessions]" in main.query_one("#status").crumbs
        assert main.pane("detail").session_id == sessions.current()["logon_session_id"]

        await pilot.press("v")
        await settle(pilot)
        rows = sessions.shaped.rows
        assert rows.num_rows == len(truth["desktop_sessions"]) == 1
        assert "Desktop sessions" in str(sessions.border_title)
        summary = _summary(main)
        assert "── contains 2 investigator sessions" in summary
        assert investigator <= set(summary)  # each contained session by its id

        await pilot.press("v")
        await settle(pilot)
        assert set(sessions.shaped.rows.column("session_id").to_pylist()) == investigator


def _views(log: Log) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("events", pa.Table.from_pylist(log.rows, schema=EVENTS_SCHEMA))
    sessions, _ = build_sessions(con)
    return sessions.to_pylist(), {k: t.to_pylist() for k, t in build_views(con).items()}


def test_a_reused_lsm_session_id_begins_a_new_desktop_after_its_logoff() -> None:
    log = Log()
    log.logon(10, "alice", 0x10, 2, ip="127.0.0.1")
    log.lsm(11, 21, "alice", 2, "LOCAL")
    log.lsm(100, 23, "alice", 2)
    log.logoff(101, "alice", 0x10)
    log.logon(200, "bob", 0x20, 10, ip="10.0.0.7")  # Windows hands session 2 out again
    log.lsm(201, 21, "bob", 2, "10.0.0.7", act=RDP_ACT)
    sessions, views = _views(log)
    desktops = views["desktop_sessions"]
    assert [(d["user"], d["end_reason"], d["src_ips"]) for d in desktops] == [
        ("alice", "logoff", []),
        ("bob", "none seen", ["10.0.0.7"]),
    ]
    owner = {s["session_id"]: s["user"] for s in sessions}
    assert [[owner[i] for i in d["session_ids"]] for d in desktops] == [["alice"], ["bob"]]


def test_a_logon_session_ends_at_the_first_logoff_of_its_id_and_shared_ids_never_merge() -> None:
    log = Log()
    log.uac_pair(10, "alice", 0x10, 0x11, 2, ip="127.0.0.1")
    log.priv(10.001, "alice", 0x10)
    log.logoff(50, "alice", 0x11, 4647)
    log.logoff(51, "alice", 0x11)
    log.logoff(51.001, "alice", 0x10)
    log.logon(60, "SYSTEM", 0x3E7, 5)
    log.logon(70, "SYSTEM", 0x3E7, 5)
    _, views = _views(log)
    rows = {(r["logon_id"], r["start"].second): r for r in views["logon_sessions"]}
    assert sorted(rows) == [(0x10, 10), (0x11, 10), (0x3E7, 0), (0x3E7, 10)]
    limited, full = rows[(0x11, 10)], rows[(0x10, 10)]
    assert (limited["end"].second, limited["n_members"]) == (50, 3)  # 4624, 4647, 4634
    assert full["n_members"] == 3 and full["linked_logon_id"] == 0x11  # 4624, 4672, 4634
    assert all(r["end"] is None and r["n_members"] == 1 for k, r in rows.items() if k[0] == 0x3E7)
