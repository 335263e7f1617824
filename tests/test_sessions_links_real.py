"""The links between events that the session rules follow, checked on real evidence in
../shared/evidence (skipped when it is absent): cached unlocks, ActivityID links, late
logoffs. Each expectation was read off the raw records (record numbers below)."""

from __future__ import annotations

from pathlib import Path

import pytest

from logonscope.analysis.attribution import attribute
from logonscope.analysis.sessions import build_sessions
from tests.cases import evidence_case
from tests.conftest import BELKASOFT, RDPAUTH, evidence

# one worker builds the module fixtures' sessions (each a `build_sessions` of a real sample)
pytestmark = [pytest.mark.evidence, pytest.mark.xdist_group("sessions_links_real")]


def _sessions(tmp_path_factory: pytest.TempPathFactory, folder: Path, name: str):
    """Sessions, sources and activity built here by the rules from the events of the run's
    shared case of the sample (`evidence_case`: ingested once, whichever module asks first)."""
    from logonscope.storage.case import connect

    con = connect(evidence_case(tmp_path_factory, name, folder))
    sessions, sources = build_sessions(con)
    con.register("_t_sessions", sessions)
    con.register("_t_sources", sources)
    activity = attribute(con, "_t_sessions", "_t_sources").to_pylist()
    return sessions.to_pylist(), sources.to_pylist(), activity


@pytest.fixture(scope="module")
def belkasoft(tmp_path_factory: pytest.TempPathFactory):
    return _sessions(tmp_path_factory, evidence(f"{BELKASOFT}/Security.evtx").parent, "belkasoft")


@pytest.fixture(scope="module")
def velociraptor(tmp_path_factory: pytest.TempPathFactory):
    return _sessions(
        tmp_path_factory, evidence(f"{RDPAUTH}/RDPAuth_Security.evtx").parent, "velociraptor"
    )


def _starting(sessions, user: str, prefix: str):
    return [
        s for s in sessions if s["user_key"] == user and s["start"].isoformat().startswith(prefix)
    ]


def _records(sources, session_id: str, channel: str) -> dict[int, str]:
    return {
        r["record_id"]: r["role"]
        for r in sources
        if r["session_id"] == session_id and r["channel"].endswith(channel)
    }


def test_cached_unlocks_fold_into_the_desktop_they_unlock(belkasoft):
    sessions, sources, _ = belkasoft
    # 4624 type 11 #1380 + type 7 #1382, the type-11 id logged off 0.16 s later (#1384),
    # no LSM 41/21: no session of their own
    assert not _starting(sessions, "anit.ghosh", "2020-08-01T23:28:29")
    assert not _starting(sessions, "anit.ghosh", "2020-08-07T19:11:41")
    (desk,) = _starting(sessions, "anit.ghosh", "2020-08-01T22:57:10")
    assert desk["end"].isoformat().startswith("2020-08-02T17:36:35")
    assert desk["end_reason"] == "logoff" and desk["lsm_session_id"] == 1
    sec = _records(sources, desk["session_id"], "Security")
    assert {
        1379: "auth",
        1380: "logon",
        1382: "logon",
        1383: "logoff",
        1384: "logoff",
    }.items() <= sec.items()
    assert {1419014, 1419098} <= set(desk["logon_ids"])
    (desk2,) = _starting(sessions, "anit.ghosh", "2020-08-07T17:44:45")
    assert desk2["end"].isoformat().startswith("2020-08-07T19:28:15")
    assert desk2["end_reason"] == "logoff" and desk2["lsm_session_id"] == 5
    sec2 = _records(sources, desk2["session_id"], "Security")
    assert {2245, 2247, 2248, 2249} <= set(sec2)


def test_activity_id_links_are_not_cut_by_the_short_window(belkasoft, velociraptor):
    sessions, sources, _ = belkasoft
    # RCM 261 #29 is 11.8 s before the reconnect's 4624 and shares its ActivityID 16FAB9F6
    (rc,) = _starting(sessions, "user", "2021-02-13T19:56:50")
    assert _records(sources, rc["session_id"], "RemoteConnectionManager/Operational") == {
        29: "attempt"
    }
    # RCM 261 #76, 39 s before Administrator's RDP logon (ActivityID 135DC3A2)
    (admin,) = _starting(sessions, "administrator", "2020-08-01T22:56:06")
    assert _records(sources, admin["session_id"], "RemoteConnectionManager/Operational") == {
        76: "attempt"
    }
    assert admin["end"].isoformat().startswith("2020-08-01T22:56:33")
    assert admin["end_reason"] == "logoff"
    # Velociraptor: LSM 40 #174 ends the reconnect's temporary session 2 (ActivityID F4205BAC)
    sessions, sources, _ = velociraptor
    (rc,) = [s for s in sessions if s["user_key"] == "vagrant" and s["is_reconnect"]]
    lsm = _records(sources, rc["session_id"], "LocalSessionManager/Operational")
    assert lsm[174] == "disconnect"
    assert rc["end"].isoformat().startswith("2021-02-12T12:34:40")
    assert rc["end_reason"] == "logoff"


SERVER2022 = "AndrewRathbun__DFIRArtifactMuseum/Windows/EventLogs/Server2022/APTSimulatorVM/logs"


@pytest.fixture(scope="module")
def server2022(tmp_path_factory: pytest.TempPathFactory):
    return _sessions(tmp_path_factory, evidence(f"{SERVER2022}/Security.evtx").parent, "srv")


def test_belkasoft_sessions_across_clock_changes_end_where_record_order_says(belkasoft):
    sessions, sources, _ = belkasoft
    # the console session of 18:50:57 ends at its disconnect LSM 40 #42 / LSM 24 #43, written
    # 2021-02-13 after the clock moved forward, not at LSM 40 #67 after a reboot
    (desk,) = _starting(sessions, "user", "2020-08-01T18:50:57")
    assert desk["end"].isoformat().startswith("2021-02-13T19:52:47.210525")
    assert desk["end_reason"] == "disconnect" and desk["clock_changed"]
    lsm = _records(sources, desk["session_id"], "LocalSessionManager/Operational")
    assert {42: "disconnect", 43: "disconnect"}.items() <= lsm.items() and 67 not in lsm
    # the reconnect of 2021-02-13 19:56:50 ends at LSM 40 #64 / 24 #65 (its ActivityID),
    # written 2020-08-01 21:17:09 because the clock had gone back: not at a later boot
    (rc,) = _starting(sessions, "user", "2021-02-13T19:56:50")
    assert rc["end"].isoformat().startswith("2020-08-01T21:17:09.727597")
    assert rc["end_reason"] == "disconnect" and rc["clock_changed"] and rc["is_reconnect"]
    lsm = _records(sources, rc["session_id"], "LocalSessionManager/Operational")
    assert {64: "disconnect", 65: "disconnect", 62: "reconnect"}.items() <= lsm.items()


def test_belkasoft_reconnects_without_4778_end_at_the_original_ids_4647(belkasoft):
    sessions, sources, _ = belkasoft
    # 4647 #635 on 0xced92 (the 18:50:57 console session's id) ends the 19:52:47 reconnect
    (rc,) = _starting(sessions, "user", "2021-02-13T19:52:47")
    assert rc["is_reconnect"] and 0xCED92 in rc["logon_ids"]
    assert rc["end"].isoformat().startswith("2021-02-13T19:53:05.135559")
    assert rc["end_reason"] == "logoff"
    assert _records(sources, rc["session_id"], "Security")[635] == "logoff"
    # 4647 #934 on 0x1e542 (the 2021-02-13 19:56:38 console session's id) ends the reconnect
    # written 2020-08-01 21:17:25, after the clock went back
    (rc2,) = _starting(sessions, "user", "2020-08-01T21:17:25")
    assert rc2["is_reconnect"] and 0x1E542 in rc2["logon_ids"]
    assert rc2["end"].isoformat().startswith("2020-08-01T22:10:04.530184")
    assert rc2["end_reason"] == "logoff"
    assert _records(sources, rc2["session_id"], "Security")[934] == "logoff"


def test_server2022_session_after_the_clock_went_back_is_not_ended_by_an_earlier_boot(
    server2022,
):
    sessions, sources, _ = server2022
    # 4616 #152 set the clock back 3 h: 4608 #15 (05:43:41 as written) precedes the logon
    (test,) = [
        s for s in _starting(sessions, "test", "2023-10-18T02:46:28") if s["logon_type"] == 2
    ]
    assert test["end"] is None and test["end_reason"] == "none seen"
    assert {468, 469} <= set(_records(sources, test["session_id"], "Security"))
    assert not any(
        r["role"] == "shutdown" for r in sources if r["session_id"] == test["session_id"]
    )


def test_belkasoft_activity_is_attributed_on_the_corrected_order(belkasoft):
    sessions, _, activity = belkasoft
    by_id = {s["session_id"]: s for s in sessions}

    def owner(channel: str, record: int):
        (a,) = [a for a in activity if a["channel"] == channel and a["record_id"] == record]
        s = by_id.get(a["session_id"])
        return (s["start"].isoformat()[:19] if s else None), a["confidence"]

    # service installs written 2020-08-01 21:01-21:04 follow Winlogon 7001 #246 of the
    # 2021-02-13 desktop with no boot between: they run during the reconnect of 19:56:50
    for record in (309, 310, 312, 317):
        assert owner("System", record) == ("2021-02-13T19:56:50", "user+time")
    # 4733/4729/4726 on 0xced75, an id of the 18:50:57 console session (written 2021-02-13)
    for record in (604, 605, 606):
        assert owner("Security", record) == ("2020-08-01T18:50:57", "logon_id")
