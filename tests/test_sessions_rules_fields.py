"""One focused test per correlation rule of DESIGN 2: flags and fields of a session (merging
and ends: test_sessions_rules), on small events tables built in DuckDB (tests/session_logs).
"""

from __future__ import annotations

import pytest

from logonscope.storage.vocabulary import RCM, RDPCORE
from tests.session_logs import (
    RDP_ACT,
    Alone,
    Log,
    human,
    rdp_new_logon,
    records,
)

# on one worker: the module's logs built once (`Alone`)
pytestmark = pytest.mark.xdist_group("sessions_rules_fields")

ALONE = Alone()


built = ALONE.fixture()  # every log of this module, built once


# --- flags and fields ----------------------------------------------------------------------


@ALONE.add
def uac_split_token(log: Log) -> None:
    log.uac_pair(5, "hank", 0x10, 0x11, 2)


def test_uac_split_token_is_one_elevated_session_with_both_ids(built):
    (s,) = human(built(uac_split_token).sessions)
    assert sorted(s["logon_ids"]) == [0x10, 0x11] and s["elevated"] and not s["admin"]


@ALONE.add
def privileged_logon(log: Log) -> None:
    log.logon(5, "ivan", 0x10, 3, "10.0.0.2")
    log.priv(5.0001, "ivan", 0x10)


def test_4672_marks_admin(built):
    (s,) = human(built(privileged_logon).sessions)
    assert s["admin"]


SYSTEM_ACCOUNTS = [
    ("WS01$", 3),
    ("SYSTEM", 5),
    ("DWM-1", 2),
    ("UMFD-0", 2),
    ("ANONYMOUS LOGON", 3),
    ("svc_backup", 5),
    ("LOCAL SERVICE", 5),
]


def one_logon(log: Log, user: str, lt: int) -> None:
    log.logon(5, user, 0x10, lt)


for _user, _lt in SYSTEM_ACCOUNTS:
    ALONE.add(one_logon, _user, _lt)


@pytest.mark.parametrize("user,lt", SYSTEM_ACCOUNTS)
def test_system_accounts_are_kept_but_marked(built, user, lt):
    sessions = built(one_logon, user, lt).sessions
    assert len(sessions) == 1 and sessions[0]["system"]


LOGON_KINDS = [
    (2, "Interactive"),
    (3, "Network"),
    (4, "Batch"),
    (5, "Service"),
    (8, "NetworkCleartext"),
    (9, "NewCredentials"),
    (10, "RemoteInteractive"),
    (11, "CachedInteractive"),
]
for _lt, _ in LOGON_KINDS:
    ALONE.add(one_logon, "judy", _lt)


@pytest.mark.parametrize("lt,kind", LOGON_KINDS)
def test_logon_kind_names(built, lt, kind):
    assert built(one_logon, "judy", lt).sessions[0]["logon_kind"] == kind


FAILURE_STATUSES = [
    ("0xC000006D", "0xC000006A", "wrong password"),
    ("0xC000006D", "0xC0000064", "no such user"),
    ("0xC0000234", "0x0", "account locked out"),
    ("0xC000006E", "0xC0000072", "account disabled"),
    ("0xC000015B", "0x00000000", "logon type not granted"),
]


def one_failure(log: Log, status: str, sub: str) -> None:
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


for _status, _sub, _ in FAILURE_STATUSES:
    ALONE.add(one_failure, _status, _sub)


@pytest.mark.parametrize("status,sub,reason", FAILURE_STATUSES)
def test_failure_status_is_translated(built, status, sub, reason):
    (s,) = built(one_failure, status, sub).sessions
    assert s["outcome"] == "failure" and s["failure_reason"] == reason
    assert s["start"] == s["end"]


@ALONE.add
def five_failures(log: Log) -> None:
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


def test_each_failed_attempt_is_its_own_session(built):
    assert len(built(five_failures).sessions) == 5


@ALONE.add
def failed_nla_after_131(log: Log) -> int:
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
    return c


def test_failed_nla_logon_without_address_takes_the_131_client_address(built):
    c, sessions, sources = built(failed_nla_after_131)
    (s,) = sessions
    assert s["src_ip"] == "2001:db8::7" and s["src_ip_source"] == "131"
    assert c in records(sources, s)


def rdp_from(log: Log, ip: str) -> None:
    rdp_new_logon(log, 10, ip=ip)


ALONE.add(rdp_from, "81.2.69.142")
ALONE.add(rdp_from, "127.0.0.1")


def test_src_ip_comes_from_the_best_source_and_says_which(built):
    (s,) = human(built(rdp_from, "81.2.69.142").sessions)
    assert s["src_ip"] == "81.2.69.142" and s["src_ip_source"] == "131"
    assert s["src_ip_class"] == "public"


def test_rdp_from_loopback_is_tunnelled(built):
    (s,) = human(built(rdp_from, "127.0.0.1").sessions)
    assert s["tunnelled"] and s["src_ip_class"] == "loopback"


@ALONE.add
def console_from_loopback(log: Log) -> None:
    log.logon(5, "leo", 0x10, 2, "127.0.0.1")


def test_console_loopback_is_not_tunnelled(built):
    (s,) = human(built(console_from_loopback).sessions)
    assert not s["tunnelled"] and s["src_ip"] == "127.0.0.1"


@ALONE.add
def lone_1149(log: Log) -> None:
    log.add(5, RCM, 1149, target_user="mallory", ip="198.51.100.9", activity_id=RDP_ACT)


def test_lone_1149_is_an_attempt_with_unknown_outcome(built):
    (s,) = built(lone_1149).sessions
    assert s["outcome"] == "unknown" and s["logon_type"] == 10
    assert s["src_ip"] == "198.51.100.9" and s["src_ip_source"] == "1149"


@ALONE.add
def unlock(log: Log) -> int:
    log.logon(5, "nina", 0x10, 2)
    unlock = log.logon(500, "nina", 0x20, 7)
    log.logoff(500.1, "nina", 0x20)  # the unlock's own logon id ends at once
    return unlock


def test_unlock_is_a_source_of_the_session_it_unlocks(built):
    unlocked, sessions, sources = built(unlock)
    (s,) = human(sessions)
    assert unlocked in records(sources, s)
    assert s["end"] is None


@ALONE.add
def one_user_three_spellings(log: Log) -> None:
    log.logon(5, "Oscar", 0x10, 3, "10.0.0.1")
    log.add(6, "Security", 4625, target_user="CORP\\oscar", logon_type=3, ip="10.0.0.1")
    log.add(7, "Security", 4625, target_user="oscar@corp.local", logon_type=3, ip="10.0.0.1")


def test_user_names_differing_in_case_or_form_are_one_user(built):
    sessions = built(one_user_three_spellings).sessions
    assert len(sessions) == 3
    assert {s["user_key"] for s in sessions} == {"oscar"}


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


@ALONE.add
def lock_and_unlock(log: Log) -> tuple[int, int]:
    log.logon(5, "pia", 0x10, 2)
    lock = log.add(100, "Security", 4800, target_user="pia", target_logon_id=0x10, lsm_session_id=1)
    unlock = log.add(
        200, "Security", 4801, target_user="pia", target_logon_id=0x10, lsm_session_id=1
    )
    return lock, unlock


def test_lock_does_not_end_a_session_and_lock_unlock_are_its_sources(built):
    (lock, unlocked), sessions, sources = built(lock_and_unlock)
    (s,) = human(sessions)
    assert s["end"] is None
    roles = {r["record_id"]: r["role"] for r in sources if r["session_id"] == s["session_id"]}
    assert roles[lock] == "lock" and roles[unlocked] == "unlock"


@ALONE.add
def failed_nla_with_its_connection(log: Log) -> tuple[int, int]:
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
    return r261, c


def test_failed_nla_logon_lists_the_connection_261_and_131(built):
    (r261, c), sessions, sources = built(failed_nla_with_its_connection)
    (s,) = sessions
    assert {r261, c} <= records(sources, s) and s["src_ip"] == "45.146.164.110"


@ALONE.add
def no_host_key(log: Log) -> None:
    log.logon(5, "quinn", 0x10, 3, "10.0.0.4", host_key=None, host="WS09.corp.local")


def test_missing_host_key_is_derived_from_the_computer_name(built):
    (s,) = built(no_host_key).sessions
    assert s["host_key"] == "ws09" and s["host"] == "WS09.corp.local"
