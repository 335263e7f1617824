"""RdpCoreTS 140 and 104 on real evidence in ../shared/evidence (skipped when it is absent):
expectations read off the raw records with `evtx` (record numbers below)."""

from __future__ import annotations

from collections import Counter

import pytest

from logonscope.analysis.sessions import build_sessions
from tests.conftest import BELKASOFT, evidence

pytestmark = pytest.mark.evidence

VSS_RDPCORE = (
    "omerbenamram__evtx/samples/"
    "2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS_4Operational.evtx"
)
TS_LOGS = (
    "Microsoft-Windows-TerminalServices-LocalSessionManager_4Operational.evtx",
    "Microsoft-Windows-TerminalServices-RemoteConnectionManager_4Operational.evtx",
    "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS_4Operational.evtx",
)


def _build(tmp_path_factory: pytest.TempPathFactory, files: list, name: str):
    from logonscope.storage.case import connect
    from logonscope.storage.ingest import ingest

    case = tmp_path_factory.mktemp(name)
    ingest(files, case, jobs=1)
    con = connect(case)
    sessions, sources = build_sessions(con)
    return sessions.to_pylist(), sources.to_pylist()


def test_each_real_140_is_one_failed_rdp_attempt_from_its_address(tmp_path_factory):
    """An Internet-exposed host's RdpCoreTS log (no Security log): 126 x 140, each the
    failure of one connection; 119 share the ActivityID of their 131 (the other 7 have no 131
    in the file: the first record, and records lost to corruption)."""
    sessions, sources = _build(tmp_path_factory, [evidence(VSS_RDPCORE)], "vss")
    assert len(sessions) == 126
    assert {(s["outcome"], s["logon_kind"]) for s in sessions} == {("failure", "RemoteInteractive")}
    assert all(s["src_ip_class"] == "public" for s in sessions)
    events = Counter(
        tuple(sorted(r["event_id"] for r in sources if r["session_id"] == s["session_id"]))
        for s in sessions
    )
    assert events == {(131, 140): 119, (140,): 7}
    # record 6334938 (140, 222.184.35.55) is the failure of the connection of 131 #6334933
    (s,) = [
        s for s in sessions if s["src_ip"] == "222.184.35.55" and "2018-08-05" in str(s["start"])
    ]
    mine = {r["record_id"] for r in sources if r["session_id"] == s["session_id"]}
    assert {6334933, 6334938} <= mine


def test_real_104_gives_the_client_time_zone_of_its_connections_session(tmp_path_factory):
    """Belkasoft: nine 104s (`[-5]`); #389 shares ActivityID 7C968320 with RCM 261 #38 and
    the reconnect of User (LSM 25 #69, 2020-08-01 21:17:26), #1072 shares 135DC3A2 with the
    RDP logon of Administrator (LSM 21 #96, 22:56:07); the other seven belong to connections
    that never logged on (261 and 98 only): in no session, like their 261."""
    folder = evidence(f"{BELKASOFT}/Security.evtx").parent
    sessions, sources = _build(tmp_path_factory, [folder / f for f in TS_LOGS], "belka-ts")
    owner = {
        (r["channel"].split("-")[-1], r["event_id"], r["record_id"]): r["session_id"]
        for r in sources
    }
    by_id = {s["session_id"]: s for s in sessions}
    tz = {rid: owner.get(("RdpCoreTS/Operational", 104, rid)) for rid in (389, 1072)}
    user, admin = by_id[tz[389]], by_id[tz[1072]]
    assert (user["user"], user["is_reconnect"], user["client_tz"]) == ("User", True, "UTC-5")
    assert owner[("LocalSessionManager/Operational", 25, 69)] == tz[389]
    assert (admin["user"], admin["client_tz"]) == ("Administrator", "UTC-5")
    assert owner[("LocalSessionManager/Operational", 21, 96)] == tz[1072]
    attached_104 = {k[2] for k in owner if k[:2] == ("RdpCoreTS/Operational", 104)}
    assert attached_104 == {389, 1072}
    assert [s["client_tz"] for s in sessions if s["client_tz"]] == ["UTC-5", "UTC-5"]
