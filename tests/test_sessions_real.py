"""Sessions built from real evidence in ../shared/evidence (skipped when it is absent).

Must-show 3 — Velociraptor RDPAuth fixture (one Server 2016 DC, dc.windomain.local, 2021-02-12).
Read from the four logs; after the reboot (1074 12:32:40, 1100, 6006, Kernel-General 13, then
Kernel-General 12 / 4608 / 6005 at 12:32:59-12:33:10) `vagrant` has exactly two sessions:

| start (UTC) | end      | end reason | kind              | src           | ids                    | sources |
|-------------|----------|------------|-------------------|---------------|------------------------|---------|
| 12:33:51.72 | 12:34:28 | disconnect | Interactive (2)   | 127.0.0.1     | 332497 + 332762 (UAC)  | 4648, 4624 x2, 4672, LSM 41/42/21/22, 7001; LSM 40 (reason 5), 4779, LSM 24 |
| 12:34:25.57 | 12:34:40 | logoff     | RemoteInteractive | 192.168.38.1 (1149), client silversurfer, reconnect | 332762 (original) + 674028 (NLA) + 713498/713520 (temporary) | 261, NLA 4624 t3, 4672, 1149, 4648, 4624 t10 x2, 4672, LSM 41, 4778, LSM 25, LSM 42; 4647, LSM 23, 7002, LSM 24 |

The temporary type-10 ids are logged off at 12:34:31 (4634 x2) and the NLA id at 12:34:41: they
are listed among the reconnect's sources (role logoff) but neither ends anything. The pre-reboot vagrant logon (4647 at 12:32:43) has no logon event in these logs,
so it is no session.

Must-show 2 — Belkasoft CTF "Insider Threat" workstation DESKTOP-23PS6ES (renamed from
WIN-AN5B2T7E4GI, later domain-joined: three Computer names, one host for a person, three
`host_key`s here: desktop-23ps6es, win-an5b2t7e4gi, and the FQDN folds into desktop-23ps6es).
Read from Security + LSM + RCM + RdpCoreTS + System. Non-system sessions an investigator reports:

| user           | kind                | outcome | n  | notes |
|----------------|---------------------|---------|----|-------|
| defaultuser0   | Interactive         | success | 2  | OOBE account, UAC pair, admin |
| User           | Interactive         | success | 3  | console, admin; 2020-08-01 18:50:57 one ends by disconnect |
| User           | RemoteInteractive   | success | 3  | all 3 are reconnects (LSM 25; no 4778 audited, 4624 ip 0.0.0.0 -> no src_ip); 2020-08-01 21:17:25 ends 22:10:04 by logoff (4647 on the ORIGINAL id 124226 + LSM 23 sharing the RDP ActivityID) |
| User           | Interactive/Network | failure | 1+1| account restriction (0xC000006E) |
| Administrator  | RemoteInteractive   | success | 1  | 2020-08-01 22:56:06 -> 22:56:33 logoff, admin, LSM session 3 |
| Administrator  | RemoteInteractive   | failure | 4  | no such user x3 (+1 typed `privacymatrix/administrator`), account disabled x1 |
| Administrator  | Network             | failure | 4  | wrong password from fe80::1941:f3d6:f94d:95bb, workstation PM |
| Administrator  | CachedInteractive   | success | 16 | from ::1 (elevation prompts), admin |
| Administrator  | Cached/Interactive  | failure | 4+4| wrong password from ::1, pairs type 11 + type 2 |
| anit.ghosh     | RemoteInteractive   | failure | 19 | 16 x "logon type not granted" (0xC000015B), 2 wrong password, 1 password expired |
| anit.ghosh     | CachedInteractive   | success | 13 | console from 127.0.0.1 with LSM 21/22; type-7 unlocks fold into them, and so do the two type-11 + type-7 pairs without LSM (cached unlocks) |
| anit.ghosh     | Interactive         | success/failure | 2/2 | |
| (no user)      | Network             | failure | 6  | clock skew (0xC0000133) |

Quirk seen: records 3-290 of these logs (first boot, WIN-AN5B2T7E4GI) carry a clock ~3 h ahead of
the records after them, so their boots interleave in time with the 2020-08-01 RDP session; ending
it by its RDP ActivityID (a GUID, unique across boots) is what keeps it from a false "shutdown".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from logonscope.analysis.sessions import build_sessions
from tests.cases import evidence_case
from tests.conftest import BELKASOFT, RDPAUTH, evidence

# one worker builds the module fixtures' sessions (each a `build_sessions` of a real sample)
pytestmark = [pytest.mark.evidence, pytest.mark.xdist_group("sessions_real")]

UTC = dt.timezone.utc


def _sessions(case: Path):
    from logonscope.storage.case import connect

    con = connect(case)
    sessions, sources = build_sessions(con)
    return sessions.to_pylist(), sources.to_pylist()


# The samples' cases are the run's shared ones (`evidence_case`: ingested once, whichever
# module asks first); the sessions are built here again from their events, by the rules.
@pytest.fixture(scope="module")
def velociraptor(tmp_path_factory: pytest.TempPathFactory):
    folder = evidence(f"{RDPAUTH}/RDPAuth_Security.evtx").parent
    return _sessions(evidence_case(tmp_path_factory, "velociraptor", folder))


@pytest.fixture(scope="module")
def belkasoft(tmp_path_factory: pytest.TempPathFactory):
    folder = evidence(f"{BELKASOFT}/Security.evtx").parent
    return _sessions(evidence_case(tmp_path_factory, "belkasoft", folder))


def _at(h: int, m: int, s: int) -> dt.datetime:
    return dt.datetime(2021, 2, 12, h, m, s, tzinfo=UTC)


def _short(channel: str) -> str:
    """`Microsoft-Windows-TerminalServices-LocalSessionManager/Operational` -> `LSM`, ..."""
    for part, name in (
        ("LocalSessionManager", "LSM"),
        ("RemoteConnectionManager", "RCM"),
        ("RdpCoreTS", "RdpCoreTS"),
    ):
        if part in channel:
            return name
    return channel


def _src(sources, session_id):
    return [
        (_short(r["channel"]), r["event_id"], r["record_id"], r["role"])
        for r in sources
        if r["session_id"] == session_id
    ]


def test_vagrant_after_reboot_is_exactly_two_sessions(velociraptor):
    sessions, _ = velociraptor
    vagrant = [s for s in sessions if s["user_key"] == "vagrant" and s["start"] > _at(12, 33, 0)]
    assert len(vagrant) == 2


def test_vagrant_console_session_is_one_uac_pair_ended_by_disconnect(velociraptor):
    sessions, sources = velociraptor
    console = next(s for s in sessions if s["user_key"] == "vagrant" and s["logon_type"] == 2)
    assert console["start"].replace(microsecond=0) == _at(12, 33, 51)
    assert console["end"].replace(microsecond=0) == _at(12, 34, 28)
    assert console["end_reason"] == "disconnect"
    assert sorted(console["logon_ids"]) == [332497, 332762]
    assert console["elevated"] and console["admin"] and not console["is_reconnect"]
    assert console["lsm_session_id"] == 1 and console["outcome"] == "success"
    ids = {(ch, eid) for ch, eid, _, _ in _src(sources, console["session_id"])}
    assert {("Security", 4624), ("Security", 4672), ("LSM", 21), ("Security", 4779)} <= ids


def test_vagrant_reconnect_is_one_session_with_every_step_as_source(velociraptor):
    sessions, sources = velociraptor
    rc = next(s for s in sessions if s["user_key"] == "vagrant" and s["is_reconnect"])
    assert rc["start"].replace(microsecond=0) == _at(12, 34, 25)
    assert rc["end"].replace(microsecond=0) == _at(12, 34, 40)
    assert rc["end_reason"] == "logoff"
    assert rc["src_ip"] == "192.168.38.1" and rc["src_ip_class"] == "private"
    assert rc["src_host"] == "silversurfer"
    assert rc["logon_kind"] == "RemoteInteractive" and rc["outcome"] == "success"
    assert rc["lsm_session_id"] == 1
    src = _src(sources, rc["session_id"])
    records = {rec for _, _, rec, _ in src}
    # NLA 4624 type 3, 1149, both type-10 4624s, 4778, LSM 25
    assert {506485, 35, 506508, 506510, 506531, 176} <= records
    assert (("Security", 4647, 506570, "logoff")) in src
    # the temporary type-10 ids' 4634s (3 s later) are sources, but they end nothing
    assert {("Security", 4634, r, "logoff") for r in (506534, 506535)} <= set(src)


def test_no_short_session_for_temporary_logons_nor_network_session_for_nla(velociraptor):
    sessions, _ = velociraptor
    for s in sessions:
        if s["user_key"] == "vagrant" and s["start"] > _at(12, 33, 0):
            assert s["logon_type"] in (2, 10)
            assert s["end"] - s["start"] > dt.timedelta(seconds=10)


def test_no_event_is_a_source_of_two_sessions_but_a_shutdown(velociraptor, belkasoft):
    for _, sources in (velociraptor, belkasoft):
        keys = [(r["evidence_sha256"], r["record_id"]) for r in sources if r["role"] != "shutdown"]
        assert len(keys) == len(set(keys))


def _users(sessions, **where):
    return [s for s in sessions if not s["system"] and all(s[k] == v for k, v in where.items())]


def test_belkasoft_rdp_sessions_are_the_three_user_reconnects_and_one_administrator(belkasoft):
    sessions, _ = belkasoft
    rdp = _users(sessions, logon_type=10, outcome="success")
    assert sorted((s["user_key"], s["is_reconnect"]) for s in rdp) == [
        ("administrator", False),
        ("user", True),
        ("user", True),
        ("user", True),
    ]
    admin = next(s for s in rdp if s["user_key"] == "administrator")
    assert admin["start"].isoformat().startswith("2020-08-01T22:56:06")
    assert admin["end"].isoformat().startswith("2020-08-01T22:56:33")
    assert admin["end_reason"] == "logoff" and admin["admin"]
    first = min((s for s in rdp if s["user_key"] == "user"), key=lambda s: s["start"])
    assert first["start"].isoformat().startswith("2020-08-01T21:17:25")
    assert first["end"].isoformat().startswith("2020-08-01T22:10:04")
    assert first["end_reason"] == "logoff"


def test_belkasoft_failures_are_counted_and_translated(belkasoft):
    sessions, _ = belkasoft
    anit_rdp = _users(sessions, user_key="anit.ghosh", logon_type=10, outcome="failure")
    assert len(anit_rdp) == 19
    reasons = {}
    for s in anit_rdp:
        reasons[s["failure_reason"]] = reasons.get(s["failure_reason"], 0) + 1
    assert reasons == {"logon type not granted": 16, "wrong password": 2, "password expired": 1}
    admin_net = _users(sessions, user_key="administrator", logon_type=3, outcome="failure")
    assert len(admin_net) == 4
    assert {s["src_ip"] for s in admin_net} == {"fe80::1941:f3d6:f94d:95bb"}
    assert {s["src_ip_class"] for s in admin_net} == {"link-local"}
    assert {s["src_host"] for s in admin_net} == {"PM"}
    for s in _users(sessions, outcome="failure"):
        assert s["start"] == s["end"]


def test_belkasoft_users_and_kinds(belkasoft):
    sessions, _ = belkasoft
    seen = {(s["user_key"], s["logon_kind"], s["outcome"]) for s in _users(sessions)}
    assert {
        ("defaultuser0", "Interactive", "success"),
        ("user", "Interactive", "success"),
        ("user", "RemoteInteractive", "success"),
        ("administrator", "RemoteInteractive", "success"),
        ("administrator", "CachedInteractive", "success"),
        ("anit.ghosh", "CachedInteractive", "success"),
        ("anit.ghosh", "RemoteInteractive", "failure"),
    } <= seen
    assert (
        len(
            _users(
                sessions, user_key="anit.ghosh", logon_kind="CachedInteractive", outcome="success"
            )
        )
        == 13  # 15 cached logons, two of them only unlock a desktop (23:28:29, 19:11:41)
    )
    assert (
        len(
            _users(
                sessions,
                user_key="administrator",
                logon_kind="CachedInteractive",
                outcome="success",
            )
        )
        == 16
    )


def test_belkasoft_unlocks_fold_into_the_console_session(belkasoft):
    sessions, _sources = belkasoft
    assert not _users(sessions, logon_type=7)
    s = next(
        s
        for s in _users(sessions, user_key="anit.ghosh")
        if s["start"].isoformat().startswith("2020-08-01T22:57:10")
    )
    assert s["end_reason"] == "logoff" and s["lsm_session_id"] == 1
    # its own type-11 logon and type-7 unlock, and the cached unlock pair of 23:28:29
    assert len(s["logon_ids"]) == 4


def test_system_sessions_are_marked(belkasoft):
    sessions, _ = belkasoft
    system = [s for s in sessions if s["system"]]
    assert system and all(
        s["logon_type"] in (0, 5)
        or (s["user_key"] or "").endswith("$")
        or s["user_key"] in ("system", "local service", "network service", "anonymous logon")
        or (s["user_key"] or "").startswith(("dwm-", "umfd-"))
        for s in system
    )


def test_belkasoft_rename_is_kept_as_an_alias(tmp_path_factory: pytest.TempPathFactory):
    from logonscope.storage.case import connect
    from logonscope.storage.identity import host_aliases_sql
    from logonscope.storage.ingest import ingest

    case = tmp_path_factory.mktemp("alias")
    ingest([evidence(f"{BELKASOFT}/System.evtx")], case, jobs=1)
    rows = connect(case).sql(host_aliases_sql()).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("desktop-23ps6es", "win-an5b2t7e4gi")]
