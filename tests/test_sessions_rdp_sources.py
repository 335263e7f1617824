"""The RDP sources the anchors use: RdpCoreTS 140 (a failed RDP logon with the client
address), RdpCoreTS 104 (the client's time zone) and RD Gateway 302/303 (the external client
behind a gateway), one focused test per rule on small events tables."""

from __future__ import annotations

import json

import pytest

from logonscope.analysis.sessions import Rules
from logonscope.storage.vocabulary import GATEWAY, RCM, RDPCORE
from tests.session_logs import RDP_ACT, Alone, Log, human, rdp_new_logon, records

# on one worker: the module's logs built once (`Alone`)
pytestmark = pytest.mark.xdist_group("sessions_rdp_sources")

OTHER_ACT = "0B7E2C11-5D3A-4C2B-9E01-77AA55CC0000"
GW_SHA = "b" * 64

# The 140 and 104 tests' logs, each on a host of its own, built together (tests/session_logs);
# the gateway tests build alone: a gateway's log explains sessions on other hosts.
ALONE = Alone()


built = ALONE.fixture()  # every log of this module, built once


def nla_failure(log: Log, at: float, ip: str, act: str, user: str = "admin") -> dict[str, int]:
    """What a failed NLA logon writes: 261, 131 (ip:port), 4625 type 3 without an address,
    then RdpCoreTS 140 with the address."""
    return {
        "261": log.add(at, RCM, 261, activity_id=act),
        "131": log.add(at + 0.01, RDPCORE, 131, ip=ip, port=50001, activity_id=act),
        "4625": log.add(
            at + 0.2,
            "Security",
            4625,
            target_user=user,
            logon_type=3,
            ip="-",
            status="0xC000006D",
            sub_status="0xC0000064",
        ),
        "140": log.add(at + 0.23, RDPCORE, 140, ip=ip, activity_id=act),
    }


@ALONE.add
def one_nla_failure(log: Log) -> dict[str, int]:
    return nla_failure(log, 5, "45.146.164.110", RDP_ACT)


def test_a_140_and_its_4625_are_one_failure_listing_both(built):
    r, sessions, sources = built(one_nla_failure)
    (s,) = sessions
    assert s["outcome"] == "failure" and s["user"] == "admin"
    assert s["src_ip"] == "45.146.164.110"
    assert records(sources, s) == set(r.values())


@ALONE.add
def six_nla_failures(log: Log) -> None:
    acts = [f"{i:08X}-1B01-40FC-AEEF-3C971C730000" for i in range(6)]
    for i, act in enumerate(acts):
        nla_failure(log, 5 + i * 0.6, "45.146.164.110", act)


def test_a_brute_force_pairs_each_140_with_its_own_4625(built):
    _, sessions, sources = built(six_nla_failures)
    assert len(sessions) == 6
    assert all(len(records(sources, s)) == 4 for s in sessions)
    assert {s["outcome"] for s in sessions} == {"failure"}


@ALONE.add
def lone_140(log: Log) -> set[int]:
    r261 = log.add(5, RCM, 261, activity_id=RDP_ACT)
    c131 = log.add(5.01, RDPCORE, 131, ip="91.240.118.172", port=50001, activity_id=RDP_ACT)
    f140 = log.add(5.9, RDPCORE, 140, ip="91.240.118.172", activity_id=RDP_ACT)
    return {r261, c131, f140}


def test_a_140_without_a_4625_is_a_failed_rdp_attempt_of_its_own(built):
    steps, sessions, sources = built(lone_140)
    (s,) = sessions
    assert (s["outcome"], s["logon_type"], s["logon_kind"]) == ("failure", 10, "RemoteInteractive")
    assert s["src_ip"] == "91.240.118.172" and s["user"] is None
    assert s["failure_reason"] is not None and "password" in s["failure_reason"].lower()
    assert records(sources, s) == steps


@ALONE.add
def old_140(log: Log) -> None:
    log.add(5, RDPCORE, 140, data=json.dumps({"IPString": "91.240.118.172"}))


def test_a_140_reads_the_address_from_the_event_data_of_older_cases(built):
    (s,) = built(old_140).sessions
    assert s["src_ip"] == "91.240.118.172" and s["src_ip_source"] == "140"


@ALONE.add
def other_140s(log: Log) -> None:
    nla_failure(log, 5, "45.146.164.110", RDP_ACT)
    log.add(5.3, RDPCORE, 140, ip="185.220.101.47", activity_id=OTHER_ACT)
    log.add(5.2 + Rules().rdp_failure_window + 1, RDPCORE, 140, ip="45.146.164.110")


def test_a_140_from_another_address_or_too_late_is_not_the_4625s(built):
    sessions = built(other_140s).sessions
    assert len(sessions) == 3 and {s["outcome"] for s in sessions} == {"failure"}
    assert sorted(s["src_ip"] for s in sessions) == [
        "185.220.101.47",
        "45.146.164.110",
        "45.146.164.110",
    ]


@ALONE.add
def rdp_with_104(log: Log) -> dict[str, int]:
    r = rdp_new_logon(log, 10, ip="81.2.69.142")
    r["tz"] = log.add(11.5, RDPCORE, 104, activity_id=RDP_ACT, data='{"TimezoneBiasHour": "[-5]"}')
    return r


def test_the_client_time_zone_of_104_is_shown_on_its_rdp_session(built):
    r, sessions, sources = built(rdp_with_104)
    (s,) = human(sessions)
    assert s["client_tz"] == "UTC-5"
    assert {r["tz"], r["131"]} <= records(sources, s)
    roles = {x["record_id"]: x["role"] for x in sources}
    assert roles[r["tz"]] == "client"


def rdp_with_a_104(log: Log, act: str, data: str) -> None:
    rdp_new_logon(log, 10)
    log.add(11.5, RDPCORE, 104, activity_id=act, data=data)


ALONE.add(rdp_with_a_104, OTHER_ACT, '{"TimezoneBiasHour": "[3]"}')
ALONE.add(rdp_with_a_104, RDP_ACT, '{"TimezoneBiasHour": "[x]; --"}')


def test_a_104_of_another_connection_or_garbage_sets_no_time_zone(built):
    other = built(rdp_with_a_104, OTHER_ACT, '{"TimezoneBiasHour": "[3]"}').sessions
    garbage = built(rdp_with_a_104, RDP_ACT, '{"TimezoneBiasHour": "[x]; --"}').sessions
    assert [s["client_tz"] for s in human(other)] == [None]
    assert [s["client_tz"] for s in human(garbage)] == [None]


def gateway(log: Log, sec: float, event_id: int, user: str, ip: str, resource: str) -> int:
    """An RD Gateway event, in the gateway's own log (another host, another file)."""
    rid = log.add(
        sec,
        GATEWAY,
        event_id,
        evidence_sha256=GW_SHA,
        host="RDG01.corp.local",
        host_key="rdg01",
        target_user=user,
        target_domain="CORP",
        ip=ip,
        data=json.dumps(
            {"EventInfo": {"Username": f"CORP\\{user}", "IpAddress": ip, "Resource": resource}}
        ),
    )
    return rid


def test_a_gateway_302_gives_the_external_client_behind_the_gateway_address():
    log = Log()
    g302 = gateway(log, 9.2, 302, "alice", "81.2.69.160", "ws01.corp.local")
    r = rdp_new_logon(log, 10, ip="10.20.0.40")
    log.logoff(400, "alice", 0x5002, 4647)
    g303 = gateway(log, 401, 303, "alice", "81.2.69.160", "ws01.corp.local")
    sessions, sources = log.build()
    (s,) = human(sessions)
    assert (s["src_ip"], s["src_ip_source"]) == ("81.2.69.160", "gateway")
    assert s["src_ip_class"] == "public"
    assert (s["gateway_ip"], s["gateway_host"]) == ("10.20.0.40", "RDG01.corp.local")
    assert {g302, g303, r["131"]} <= records(sources, s)
    assert s["end_reason"] == "logoff"


def test_a_gateway_302_for_another_user_resource_or_time_is_not_used():
    log = Log()
    gateway(log, 9.2, 302, "bob", "81.2.69.160", "WS01")
    gateway(log, 9.3, 302, "alice", "81.2.69.161", "WS02.corp.local")
    gateway(log, 9.5 - Rules().gateway_window - 5, 302, "alice", "81.2.69.162", "WS01")
    rdp_new_logon(log, 10, ip="10.20.0.40")
    sessions, sources = log.build()
    (s,) = human(sessions)
    assert (s["src_ip"], s["src_ip_source"], s["gateway_ip"]) == ("10.20.0.40", "131", None)
    assert not [x for x in sources if x["channel"] == GATEWAY]


def test_gateway_events_from_another_relation_explain_this_hosts_sessions():
    """A build task holds some hosts' events; the gateway's come from every host."""
    import duckdb
    import pyarrow as pa

    from logonscope.analysis.sessions import build_sessions
    from logonscope.storage.schema import EVENTS_SCHEMA

    log = Log()
    gateway(log, 9.2, 302, "alice", "81.2.69.160", "WS01")
    rdp_new_logon(log, 10, ip="10.20.0.40")
    table = pa.Table.from_pylist(log.rows, schema=EVENTS_SCHEMA)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("task_events", table.filter(pa.compute.equal(table["host_key"], "ws01")))
    con.register("gw_events", table.filter(pa.compute.equal(table["channel"], GATEWAY)))
    sessions, _ = build_sessions(con, events="task_events", gateway_events="gw_events")
    (s,) = [x for x in sessions.to_pylist() if not x["system"]]
    assert (s["src_ip"], s["src_ip_source"]) == ("81.2.69.160", "gateway")


def test_detail_says_in_words_where_the_address_came_from_and_shows_gateway_and_time_zone():
    from logonscope.tui.widgets.detail import summary_table

    log = Log()
    gateway(log, 9.2, 302, "alice", "81.2.69.160", "WS01")
    rdp_new_logon(log, 10, ip="10.20.0.40")
    log.add(11.5, RDPCORE, 104, activity_id=RDP_ACT, data='{"TimezoneBiasHour": "[2]"}')
    (s,) = human(log.build()[0])
    rows = dict(zip(*summary_table(s).to_pydict().values(), strict=True))
    assert rows["src_ip"] == "81.2.69.160"
    assert "RD Gateway" in rows["src_ip_source"] and "external client" in rows["src_ip_source"]
    assert (rows["gateway_ip"], rows["gateway_host"]) == ("10.20.0.40", "RDG01.corp.local")
    assert rows["client_tz"] == "UTC+2"
    plain = Log()
    rdp_new_logon(plain, 10)
    (p,) = human(plain.build()[0])
    shown = summary_table(p).column("field").to_pylist()
    assert "src_ip_source" in shown and not {"gateway_ip", "gateway_host", "client_tz"} & set(shown)
