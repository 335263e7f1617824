"""The links between events that the session rules follow, checked on real evidence in
../shared/evidence (skipped when it is absent): cached unlocks, ActivityID links, late
logoffs. Each expectation was read off the raw records (record numbers below)."""

from __future__ import annotations

from pathlib import Path

import pytest

from logonscope.analysis.sessions import build_sessions
from tests.conftest import BELKASOFT, RDPAUTH, evidence

pytestmark = pytest.mark.evidence


def _sessions(tmp_path_factory: pytest.TempPathFactory, folder: Path, name: str):
    from logonscope.storage.case import connect
    from logonscope.storage.ingest import ingest

    case = tmp_path_factory.mktemp(name)
    ingest([folder], case, jobs=1)
    sessions, sources = build_sessions(connect(case))
    return sessions.to_pylist(), sources.to_pylist()


@pytest.fixture(scope="module")
def belkasoft(tmp_path_factory: pytest.TempPathFactory):
    return _sessions(tmp_path_factory, evidence(f"{BELKASOFT}/Security.evtx").parent, "belka")


@pytest.fixture(scope="module")
def velociraptor(tmp_path_factory: pytest.TempPathFactory):
    return _sessions(tmp_path_factory, evidence(f"{RDPAUTH}/RDPAuth_Security.evtx").parent, "velo")


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
    sessions, sources = belkasoft
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
    sessions, sources = belkasoft
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
    sessions, sources = velociraptor
    (rc,) = [s for s in sessions if s["user_key"] == "vagrant" and s["is_reconnect"]]
    lsm = _records(sources, rc["session_id"], "LocalSessionManager/Operational")
    assert lsm[174] == "disconnect"
    assert rc["end"].isoformat().startswith("2021-02-12T12:34:40")
    assert rc["end_reason"] == "logoff"
