"""One focused test per correlation rule of DESIGN 2, on small events tables built in DuckDB."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from logonscope.analysis.sessions import Rules, build_sessions
from logonscope.storage.schema import EVENTS_SCHEMA
from logonscope.storage.vocabulary import LSM, RCM, RDPCORE

T0 = dt.datetime(2024, 3, 1, 9, 0, 0, tzinfo=dt.timezone.utc)
SHA = "a" * 64
HOST = "WS01.corp.local"
CONSOLE = "61A55000-55E5-1017-0000-000000000000"
RDP_ACT = "F4205BAC-1B01-40FC-AEEF-3C971C730000"


class Log:
    """Builds an events table: `log.add(seconds, channel, event_id, **columns)`."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, sec: float, channel: str, event_id: int, **cols: Any) -> int:
        rid = len(self.rows) + 1
        row = {name: None for name in EVENTS_SCHEMA.names}
        row.update(
            evidence_sha256=SHA,
            record_id=rid,
            time=T0 + dt.timedelta(seconds=sec),
            time_from_header=False,
            host=HOST,
            host_key="ws01",
            channel=channel,
            event_id=event_id,
            provider={"System": "EventLog"}.get(channel, "p"),
        )
        row.update(cols)
        self.rows.append(row)
        return rid

    # Security helpers -------------------------------------------------------------------
    def logon(self, sec: float, user: str, lid: int, lt: int, ip: str = "-", **kw: Any) -> int:
        return self.add(
            sec,
            "Security",
            4624,
            target_user=user,
            target_domain="CORP",
            target_logon_id=lid,
            logon_type=lt,
            ip=ip,
            **kw,
        )

    def uac_pair(self, sec: float, user: str, a: int, b: int, lt: int, ip: str = "-") -> None:
        self.logon(sec, user, a, lt, ip, linked_logon_id=b, elevated=True)
        self.logon(sec + 0.0001, user, b, lt, ip, linked_logon_id=a, elevated=False)

    def priv(self, sec: float, user: str, lid: int) -> int:
        return self.add(sec, "Security", 4672, subject_user=user, subject_logon_id=lid)

    def logoff(self, sec: float, user: str, lid: int, event_id: int = 4634) -> int:
        return self.add(sec, "Security", event_id, target_user=user, target_logon_id=lid)

    def lsm(
        self,
        sec: float,
        event_id: int,
        user: str | None,
        sid: int,
        address: str | None = None,
        act: str = CONSOLE,
    ) -> int:
        return self.add(
            sec,
            LSM,
            event_id,
            target_user=user,
            target_domain="CORP",
            lsm_session_id=sid,
            ip=address,
            activity_id=act,
        )

    def build(self, rules: Rules | None = None) -> tuple[list[dict], list[dict]]:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.register("events", pa.Table.from_pylist(self.rows, schema=EVENTS_SCHEMA))
        sessions, sources = build_sessions(con, rules)
        return sessions.to_pylist(), sources.to_pylist()


def records(sources: list[dict], session: dict) -> set[int]:
    return {s["record_id"] for s in sources if s["session_id"] == session["session_id"]}


def human(sessions: list[dict]) -> list[dict]:
    return [s for s in sessions if not s["system"]]


def rdp_new_logon(
    log: Log,
    at: float,
    user: str = "alice",
    ip: str = "203.0.113.7",
    ids: tuple[int, int] = (0x5001, 0x5002),
    sid: int = 2,
    act: str = RDP_ACT,
    gap: float = 0.0,
) -> dict[str, int]:
    """The steps Windows writes for one new RDP logon (DESIGN 2)."""
    r = {}
    r["261"] = log.add(at, RCM, 261, activity_id=act)
    r["131"] = log.add(at + 0.1, RDPCORE, 131, ip=ip, port=50123, activity_id=act)
    r["nla"] = log.logon(at + 1.0, user, 0x4001, 3, ip)
    r["1149"] = log.add(at + 1.04, RCM, 1149, target_user=user, ip=ip, activity_id=act)
    r["4648"] = log.add(
        at + 2.0 + gap,
        "Security",
        4648,
        target_user=user,
        ip=ip,
        subject_user="WS01$",
        subject_logon_id=999,
    )
    log.uac_pair(at + 2.0001 + gap, user, ids[0], ids[1], 10, ip)
    r["4672"] = log.priv(at + 2.0003 + gap, user, ids[0])
    r["41"] = log.lsm(at + 2.1 + gap, 41, f"CORP\\{user}", sid, act=act)
    r["21"] = log.lsm(at + 2.5 + gap, 21, f"CORP\\{user}", sid, "", act=act)
    r["22"] = log.lsm(at + 2.7 + gap, 22, f"CORP\\{user}", sid, "", act=act)
    return r


# --- merging -------------------------------------------------------------------------------


def test_rdp_logon_steps_merge_into_one_session_with_all_sources():
    log = Log()
    r = rdp_new_logon(log, 10)
    sessions, sources = log.build()
    (s,) = human(sessions)
    assert s["logon_type"] == 10 and s["logon_kind"] == "RemoteInteractive"
    assert s["outcome"] == "success" and s["end_reason"] == "none seen" and s["end"] is None
    assert set(r.values()) <= records(sources, s)
    assert sorted(s["logon_ids"]) == [0x4001, 0x5001, 0x5002]
    assert s["lsm_session_id"] == 2


def test_nla_network_logon_is_not_a_session_of_its_own():
    log = Log()
    rdp_new_logon(log, 10)
    sessions, _ = log.build()
    assert [s["logon_type"] for s in human(sessions)] == [10]


def test_merge_window_is_configurable():
    log = Log()
    rdp_new_logon(log, 10, gap=8.0)  # 1149 -> 4624 type 10 eight seconds apart
    split, _ = log.build(Rules(window=5))
    merged, _ = log.build(Rules(window=10))
    assert len(human(split)) == 2
    assert len(human(merged)) == 1


def test_plain_network_logon_stays_its_own_session_ended_by_4634():
    log = Log()
    log.logon(5, "bob", 0x77, 3, "10.0.0.9", workstation="LAPTOP9")
    log.logoff(6.5, "bob", 0x77)
    (s,) = human(log.build()[0])
    assert s["logon_kind"] == "Network" and s["end_reason"] == "logoff"
    assert s["end"] - s["start"] == dt.timedelta(seconds=1.5)
    assert s["src_host"] == "LAPTOP9" and s["src_ip"] == "10.0.0.9"


def test_two_quick_network_logons_are_two_sessions():
    log = Log()
    log.logon(5, "bob", 0x77, 3, "10.0.0.9")
    log.logon(5.2, "bob", 0x78, 3, "10.0.0.9")
    assert len(human(log.build()[0])) == 2


def test_activity_id_links_rcm_and_lsm_but_console_activity_links_nothing():
    log = Log()
    rdp_new_logon(log, 10)
    stray = log.add(11, RCM, 261, activity_id=CONSOLE)  # constant console id: links nothing
    sessions, sources = log.build()
    (s,) = human(sessions)
    assert stray not in records(sources, s)


# --- ends ----------------------------------------------------------------------------------


def test_end_by_4647_on_the_logon_id():
    log = Log()
    log.uac_pair(5, "carol", 0x100, 0x101, 2, "127.0.0.1")
    end = log.logoff(300, "carol", 0x101, 4647)
    sessions, sources = log.build()
    (s,) = human(sessions)
    assert s["end_reason"] == "logoff" and s["end"] == T0 + dt.timedelta(seconds=300)
    assert end in records(sources, s)


def test_end_by_lsm_session_id_within_one_boot_only():
    log = Log()
    log.logon(5, "carol", 0x100, 2, "127.0.0.1")
    log.lsm(6, 21, "CORP\\carol", 1, "LOCAL")
    log.add(100, "System", 6006)  # shutdown
    log.add(200, "System", 6005)  # boot
    log.lsm(300, 23, "CORP\\carol", 1)  # same LSM id, next boot: not this session
    (s,) = human(log.build()[0])
    assert s["end_reason"] == "shutdown"
    assert s["end"] == T0 + dt.timedelta(seconds=100)


def test_logon_ids_are_matched_within_one_boot():
    log = Log()
    log.logon(5, "dave", 0x3E7E, 3, "10.0.0.5")
    log.add(50, "Security", 4608)  # boot (no shutdown seen: a crash)
    log.logoff(60, "dave", 0x3E7E)  # same id, new boot: someone else's logoff
    (s,) = human(log.build()[0])
    assert s["end_reason"] == "shutdown" and s["end"] == T0 + dt.timedelta(seconds=50)


def test_shutdown_closes_every_open_session():
    log = Log()
    log.logon(5, "erin", 0x200, 2)
    log.logon(6, "frank", 0x300, 3, "10.1.1.1")
    shut = log.add(100, "Security", 1100)
    sessions, sources = log.build()
    for s in human(sessions):
        assert s["end_reason"] == "shutdown" and shut in records(sources, s)


def test_no_end_seen_leaves_end_null():
    log = Log()
    log.logon(5, "erin", 0x200, 2)
    (s,) = human(log.build()[0])
    assert s["end"] is None and s["end_reason"] == "none seen"


def test_reconnect_is_a_new_session_ended_on_the_original_id_not_the_temporary_ones():
    log = Log()
    # console logon (UAC pair), LSM session 1
    log.uac_pair(0, "vagrant", 0xA1, 0xA2, 2, "127.0.0.1")
    log.lsm(1, 21, "CORP\\vagrant", 1, "LOCAL")
    # RDP reconnect to it: NLA, 1149, temporary type-10 pair, 4779/LSM 24 of the console,
    # 4778 + LSM 25 on the ORIGINAL id / LSM session
    log.add(59, RCM, 261, activity_id=RDP_ACT)
    nla = log.logon(60, "vagrant", 0xB1, 3, "192.168.38.1")
    r1149 = log.add(60.04, RCM, 1149, target_user="vagrant", ip="192.168.38.1", activity_id=RDP_ACT)
    log.uac_pair(62, "vagrant", 0xC1, 0xC2, 10, "192.168.38.1")
    disc = log.add(62.3, "Security", 4779, target_user="vagrant", target_logon_id=0xA2, ip="LOCAL")
    log.lsm(62.8, 24, "CORP\\vagrant", 1, "LOCAL")
    r4778 = log.add(
        64,
        "Security",
        4778,
        target_user="vagrant",
        target_logon_id=0xA2,
        ip="192.168.38.1",
        workstation="silversurfer",
    )
    r25 = log.lsm(65, 25, "CORP\\vagrant", 1, "192.168.38.1", act=RDP_ACT)
    temp = [log.logoff(65.2, "vagrant", 0xC2), log.logoff(65.3, "vagrant", 0xC1)]
    off = log.logoff(75, "vagrant", 0xA2, 4647)
    sessions, sources = log.build()
    console, rc = sorted(human(sessions), key=lambda s: s["start"])
    assert console["end_reason"] == "disconnect"
    assert console["end"] == T0 + dt.timedelta(seconds=62.3)
    assert disc in records(sources, console)
    assert rc["is_reconnect"] and rc["end_reason"] == "logoff"
    assert rc["start"] == T0 + dt.timedelta(seconds=60)
    assert rc["end"] == T0 + dt.timedelta(seconds=75)
    assert {nla, r1149, r4778, r25, off} <= records(sources, rc)
    # the temporary ids' logoffs are evidence of the session, but they end nothing
    assert set(temp) <= records(sources, rc)
    assert rc["end"] > T0 + dt.timedelta(seconds=65.3)
    assert rc["src_ip"] == "192.168.38.1" and rc["src_host"] == "silversurfer"


def test_unaudited_disconnect_is_capped_by_the_reconnect():
    log = Log()
    log.logon(0, "gina", 0xA1, 2)
    log.lsm(1, 21, "CORP\\gina", 1, "LOCAL")
    log.lsm(50, 25, "CORP\\gina", 1, "10.9.9.9", act=RDP_ACT)
    console, rc = sorted(human(log.build()[0]), key=lambda s: s["start"])
    assert console["end_reason"] == "disconnect"
    assert console["end"] == rc["start"] == T0 + dt.timedelta(seconds=50)


# --- flags and fields ----------------------------------------------------------------------


def test_uac_split_token_is_one_elevated_session_with_both_ids():
    log = Log()
    log.uac_pair(5, "hank", 0x10, 0x11, 2)
    (s,) = human(log.build()[0])
    assert sorted(s["logon_ids"]) == [0x10, 0x11] and s["elevated"] and not s["admin"]


def test_4672_marks_admin():
    log = Log()
    log.logon(5, "ivan", 0x10, 3, "10.0.0.2")
    log.priv(5.0001, "ivan", 0x10)
    (s,) = human(log.build()[0])
    assert s["admin"]


@pytest.mark.parametrize(
    "user,lt",
    [
        ("WS01$", 3),
        ("SYSTEM", 5),
        ("DWM-1", 2),
        ("UMFD-0", 2),
        ("ANONYMOUS LOGON", 3),
        ("svc_backup", 5),
        ("LOCAL SERVICE", 5),
    ],
)
def test_system_accounts_are_kept_but_marked(user, lt):
    log = Log()
    log.logon(5, user, 0x10, lt)
    sessions, _ = log.build()
    assert len(sessions) == 1 and sessions[0]["system"]


@pytest.mark.parametrize(
    "lt,kind",
    [
        (2, "Interactive"),
        (3, "Network"),
        (4, "Batch"),
        (5, "Service"),
        (8, "NetworkCleartext"),
        (9, "NewCredentials"),
        (10, "RemoteInteractive"),
        (11, "CachedInteractive"),
    ],
)
def test_logon_kind_names(lt, kind):
    log = Log()
    log.logon(5, "judy", 0x10, lt)
    assert log.build()[0][0]["logon_kind"] == kind


@pytest.mark.parametrize(
    "status,sub,reason",
    [
        ("0xC000006D", "0xC000006A", "wrong password"),
        ("0xC000006D", "0xC0000064", "no such user"),
        ("0xC0000234", "0x0", "account locked out"),
        ("0xC000006E", "0xC0000072", "account disabled"),
        ("0xC000015B", "0x00000000", "logon type not granted"),
    ],
)
def test_failure_status_is_translated(status, sub, reason):
    log = Log()
    log.add(
        5,
        "Security",
        4625,
        target_user="kim",
        logon_type=3,
        ip="10.0.0.3",
        status=status,
        sub_status=sub,
    )
    (s,) = log.build()[0]
    assert s["outcome"] == "failure" and s["failure_reason"] == reason
    assert s["start"] == s["end"]


def test_each_failed_attempt_is_its_own_session():
    log = Log()
    for i in range(5):
        log.add(
            5 + i * 0.01,
            "Security",
            4625,
            target_user="admin",
            logon_type=3,
            ip="198.51.100.4",
            status="0xC000006D",
            sub_status="0xC000006A",
        )
    assert len(log.build()[0]) == 5


def test_failed_nla_logon_without_address_takes_the_131_client_address():
    log = Log()
    c = log.add(5, RDPCORE, 131, ip="[2001:db8::7]", port=50001)
    log.add(
        5.4,
        "Security",
        4625,
        target_user="root",
        logon_type=3,
        ip="-",
        status="0xC000006D",
        sub_status="0xC0000064",
    )
    sessions, sources = log.build()
    (s,) = sessions
    assert s["src_ip"] == "2001:db8::7" and s["src_ip_source"] == "131"
    assert c in records(sources, s)


def test_src_ip_comes_from_the_best_source_and_says_which():
    log = Log()
    rdp_new_logon(log, 10, ip="81.2.69.142")
    (s,) = human(log.build()[0])
    assert s["src_ip"] == "81.2.69.142" and s["src_ip_source"] == "131"
    assert s["src_ip_class"] == "public"


def test_rdp_from_loopback_is_tunnelled():
    log = Log()
    rdp_new_logon(log, 10, ip="127.0.0.1")
    (s,) = human(log.build()[0])
    assert s["tunnelled"] and s["src_ip_class"] == "loopback"


def test_console_loopback_is_not_tunnelled():
    log = Log()
    log.logon(5, "leo", 0x10, 2, "127.0.0.1")
    (s,) = human(log.build()[0])
    assert not s["tunnelled"] and s["src_ip"] == "127.0.0.1"


def test_lone_1149_is_an_attempt_with_unknown_outcome():
    log = Log()
    log.add(5, RCM, 1149, target_user="mallory", ip="198.51.100.9", activity_id=RDP_ACT)
    (s,) = log.build()[0]
    assert s["outcome"] == "unknown" and s["logon_type"] == 10
    assert s["src_ip"] == "198.51.100.9" and s["src_ip_source"] == "1149"


def test_unlock_is_a_source_of_the_session_it_unlocks():
    log = Log()
    log.logon(5, "nina", 0x10, 2)
    unlock = log.logon(500, "nina", 0x20, 7)
    log.logoff(500.1, "nina", 0x20)  # the unlock's own logon id ends at once
    sessions, sources = log.build()
    (s,) = human(sessions)
    assert unlock in records(sources, s)
    assert s["end"] is None


def test_user_names_differing_in_case_or_form_are_one_user():
    log = Log()
    log.logon(5, "Oscar", 0x10, 3, "10.0.0.1")
    log.add(6, "Security", 4625, target_user="CORP\\oscar", logon_type=3, ip="10.0.0.1")
    log.add(7, "Security", 4625, target_user="oscar@corp.local", logon_type=3, ip="10.0.0.1")
    assert {s["user_key"] for s in log.build()[0]} == {"oscar"}


def test_session_id_is_stable_across_rebuilds_and_input_order():
    log = Log()
    rdp_new_logon(log, 10)
    log.logon(100, "bob", 0x77, 3, "10.0.0.9")
    first = sorted(s["session_id"] for s in log.build()[0])
    log.rows.reverse()
    again = sorted(s["session_id"] for s in log.build()[0])
    assert first == again and len(set(first)) == len(first)


def test_empty_events_give_empty_tables():
    sessions, sources = Log().build()
    assert sessions == [] and sources == []


def test_lock_does_not_end_a_session_and_lock_unlock_are_its_sources():
    log = Log()
    log.logon(5, "pia", 0x10, 2)
    lock = log.add(100, "Security", 4800, target_user="pia", target_logon_id=0x10, lsm_session_id=1)
    unlock = log.add(
        200, "Security", 4801, target_user="pia", target_logon_id=0x10, lsm_session_id=1
    )
    sessions, sources = log.build()
    (s,) = human(sessions)
    assert s["end"] is None
    roles = {r["record_id"]: r["role"] for r in sources if r["session_id"] == s["session_id"]}
    assert roles[lock] == "lock" and roles[unlock] == "unlock"


def test_failed_nla_logon_lists_the_connection_261_and_131():
    log = Log()
    r261 = log.add(4.9, RCM, 261, activity_id=RDP_ACT)
    c = log.add(5, RDPCORE, 131, ip="45.146.164.110:50001", activity_id=RDP_ACT)
    log.add(
        5.4,
        "Security",
        4625,
        target_user="backup",
        logon_type=3,
        ip="-",
        status="0xC000006D",
        sub_status="0xC0000064",
    )
    sessions, sources = log.build()
    (s,) = sessions
    assert {r261, c} <= records(sources, s) and s["src_ip"] == "45.146.164.110"


def test_missing_host_key_is_derived_from_the_computer_name():
    log = Log()
    log.logon(5, "quinn", 0x10, 3, "10.0.0.4", host_key=None, host="WS09.corp.local")
    (s,) = log.build()[0]
    assert s["host_key"] == "ws09" and s["host"] == "WS09.corp.local"
