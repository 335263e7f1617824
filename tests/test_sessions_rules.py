"""One focused test per correlation rule of DESIGN 2: merging and ends (fields and flags:
test_sessions_rules_fields), on small events tables built in DuckDB (tests/session_logs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from logonscope.analysis.sessions import Rules
from logonscope.storage.vocabulary import RCM
from tests.session_logs import (
    CONSOLE,
    RDP_ACT,
    T0,
    Alone,
    Log,
    human,
    rdp_new_logon,
    records,
)

# on one worker: the module's logs built once (`Alone`)
pytestmark = pytest.mark.xdist_group("sessions_rules")

ALONE = Alone()


built = ALONE.fixture()  # every log of this module, built once


# --- merging -------------------------------------------------------------------------------


@ALONE.add
def rdp_steps(log: Log) -> dict[str, int]:
    return rdp_new_logon(log, 10)


def test_rdp_logon_steps_merge_into_one_session_with_all_sources(built):
    r, sessions, sources = built(rdp_steps)
    (s,) = human(sessions)
    assert s["logon_type"] == 10 and s["logon_kind"] == "RemoteInteractive"
    assert s["outcome"] == "success" and s["end_reason"] == "none seen" and s["end"] is None
    assert set(r.values()) <= records(sources, s)
    assert sorted(s["logon_ids"]) == [0x4001, 0x5001, 0x5002]
    assert s["lsm_session_id"] == 2


def test_nla_network_logon_is_not_a_session_of_its_own(built):
    sessions = built(rdp_steps).sessions
    assert [s["logon_type"] for s in human(sessions)] == [10]


def test_merge_window_is_configurable():
    log = Log()
    rdp_new_logon(log, 10, gap=8.0)  # 1149 -> 4624 type 10 eight seconds apart
    split, _ = log.build(Rules(window=5))
    merged, _ = log.build(Rules(window=10))
    assert len(human(split)) == 2
    assert len(human(merged)) == 1


@ALONE.add
def network_logon_and_logoff(log: Log) -> None:
    log.logon(5, "bob", 0x77, 3, "10.0.0.9", workstation="LAPTOP9")
    log.logoff(6.5, "bob", 0x77)


def test_plain_network_logon_stays_its_own_session_ended_by_4634(built):
    (s,) = human(built(network_logon_and_logoff).sessions)
    assert s["logon_kind"] == "Network" and s["end_reason"] == "logoff"
    assert s["end"] - s["start"] == dt.timedelta(seconds=1.5)
    assert s["src_host"] == "LAPTOP9" and s["src_ip"] == "10.0.0.9"


@ALONE.add
def two_quick_network_logons(log: Log) -> None:
    log.logon(5, "bob", 0x77, 3, "10.0.0.9")
    log.logon(5.2, "bob", 0x78, 3, "10.0.0.9")


def test_two_quick_network_logons_are_two_sessions(built):
    assert len(human(built(two_quick_network_logons).sessions)) == 2


@ALONE.add
def stray_console_261(log: Log) -> int:
    rdp_new_logon(log, 10)
    return log.add(11, RCM, 261, activity_id=CONSOLE)  # constant console id: links nothing


def test_activity_id_links_rcm_and_lsm_but_console_activity_links_nothing(built):
    stray, sessions, sources = built(stray_console_261)
    (s,) = human(sessions)
    assert stray not in records(sources, s)


# --- ends ----------------------------------------------------------------------------------


@ALONE.add
def ended_by_4647(log: Log) -> int:
    log.uac_pair(5, "carol", 0x100, 0x101, 2, "127.0.0.1")
    return log.logoff(300, "carol", 0x101, 4647)


def test_end_by_4647_on_the_logon_id(built):
    end, sessions, sources = built(ended_by_4647)
    (s,) = human(sessions)
    assert s["end_reason"] == "logoff" and s["end"] == T0 + dt.timedelta(seconds=300)
    assert end in records(sources, s)


@ALONE.add
def lsm_end_in_the_next_boot(log: Log) -> None:
    log.logon(5, "carol", 0x100, 2, "127.0.0.1")
    log.lsm(6, 21, "CORP\\carol", 1, "LOCAL")
    log.add(100, "System", 6006)  # shutdown
    log.add(200, "System", 6005)  # boot
    log.lsm(300, 23, "CORP\\carol", 1)  # same LSM id, next boot: not this session


def test_end_by_lsm_session_id_within_one_boot_only(built):
    (s,) = human(built(lsm_end_in_the_next_boot).sessions)
    assert s["end_reason"] == "shutdown"
    assert s["end"] == T0 + dt.timedelta(seconds=100)


@ALONE.add
def logoff_in_the_next_boot(log: Log) -> None:
    log.logon(5, "dave", 0x3E7E, 3, "10.0.0.5")
    log.add(50, "Security", 4608)  # boot (no shutdown seen: a crash)
    log.logoff(60, "dave", 0x3E7E)  # same id, new boot: someone else's logoff


def test_logon_ids_are_matched_within_one_boot(built):
    (s,) = human(built(logoff_in_the_next_boot).sessions)
    assert s["end_reason"] == "shutdown" and s["end"] == T0 + dt.timedelta(seconds=50)


@ALONE.add
def shutdown_with_two_open(log: Log) -> int:
    log.logon(5, "erin", 0x200, 2)
    log.logon(6, "frank", 0x300, 3, "10.1.1.1")
    return log.add(100, "Security", 1100)


def test_shutdown_closes_every_open_session(built):
    shut, sessions, sources = built(shutdown_with_two_open)
    assert len(human(sessions)) == 2
    for s in human(sessions):
        assert s["end_reason"] == "shutdown" and shut in records(sources, s)


@ALONE.add
def no_end(log: Log) -> None:
    log.logon(5, "erin", 0x200, 2)


def test_no_end_seen_leaves_end_null(built):
    (s,) = human(built(no_end).sessions)
    assert s["end"] is None and s["end_reason"] == "none seen"


@ALONE.add
def reconnect(log: Log) -> dict[str, Any]:
    # console logon (UAC pair), LSM session 1
    log.uac_pair(0, "vagrant", 0xA1, 0xA2, 2, "127.0.0.1")
    log.lsm(1, 21, "CORP\\vagrant", 1, "LOCAL")
    # RDP reconnect to it: NLA, 1149, temporary type-10 pair, 4779/LSM 24 of the console,
    # 4778 + LSM 25 on the ORIGINAL id / LSM session
    log.add(59, RCM, 261, activity_id=RDP_ACT)
    r: dict[str, Any] = {}
    r["nla"] = log.logon(60, "vagrant", 0xB1, 3, "192.168.38.1")
    r["1149"] = log.add(
        60.04, RCM, 1149, target_user="vagrant", ip="192.168.38.1", activity_id=RDP_ACT
    )
    log.uac_pair(62, "vagrant", 0xC1, 0xC2, 10, "192.168.38.1")
    r["disc"] = log.add(
        62.3, "Security", 4779, target_user="vagrant", target_logon_id=0xA2, ip="LOCAL"
    )
    log.lsm(62.8, 24, "CORP\\vagrant", 1, "LOCAL")
    r["4778"] = log.add(
        64,
        "Security",
        4778,
        target_user="vagrant",
        target_logon_id=0xA2,
        ip="192.168.38.1",
        workstation="silversurfer",
    )
    r["25"] = log.lsm(65, 25, "CORP\\vagrant", 1, "192.168.38.1", act=RDP_ACT)
    r["temp"] = [log.logoff(65.2, "vagrant", 0xC2), log.logoff(65.3, "vagrant", 0xC1)]
    r["off"] = log.logoff(75, "vagrant", 0xA2, 4647)
    return r


def test_reconnect_is_a_new_session_ended_on_the_original_id_not_the_temporary_ones(built):
    r, sessions, sources = built(reconnect)
    console, rc = sorted(human(sessions), key=lambda s: s["start"])
    assert console["end_reason"] == "disconnect"
    assert console["end"] == T0 + dt.timedelta(seconds=62.3)
    assert r["disc"] in records(sources, console)
    assert rc["is_reconnect"] and rc["end_reason"] == "logoff"
    assert rc["start"] == T0 + dt.timedelta(seconds=60)
    assert rc["end"] == T0 + dt.timedelta(seconds=75)
    assert {r["nla"], r["1149"], r["4778"], r["25"], r["off"]} <= records(sources, rc)
    # the temporary ids' logoffs are evidence of the session, but they end nothing
    assert set(r["temp"]) <= records(sources, rc)
    assert rc["end"] > T0 + dt.timedelta(seconds=65.3)
    assert rc["src_ip"] == "192.168.38.1" and rc["src_host"] == "silversurfer"


@ALONE.add
def unaudited_disconnect(log: Log) -> None:
    log.logon(0, "gina", 0xA1, 2)
    log.lsm(1, 21, "CORP\\gina", 1, "LOCAL")
    log.lsm(50, 25, "CORP\\gina", 1, "10.9.9.9", act=RDP_ACT)


def test_unaudited_disconnect_is_capped_by_the_reconnect(built):
    console, rc = sorted(human(built(unaudited_disconnect).sessions), key=lambda s: s["start"])
    assert console["end_reason"] == "disconnect"
    assert console["end"] == rc["start"] == T0 + dt.timedelta(seconds=50)
