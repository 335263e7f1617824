"""The generator's RDP-source scenarios write what Windows writes: RdpCoreTS 140 beside (or
instead of) the 4625, RdpCoreTS 104 in the connection, and an RD Gateway's 302/303 in the
gateway host's own log; their truth says which session each belongs to."""

from __future__ import annotations

from pathlib import Path

from logonscope.storage.scenarios import generate
from logonscope.storage.vocabulary import GATEWAY, RDPCORE
from tests.test_scenarios import _events, _sessions, load_set


def test_rdp_nla_140_writes_140_with_and_without_its_4625_and_a_client_time_zone(
    tmp_path: Path,
) -> None:
    generate(tmp_path, ["rdp-nla-140"], seed=5)
    truth, records = load_set(tmp_path)
    both = _sessions(truth, outcome="failure", logon_type=3)
    alone = _sessions(truth, outcome="failure", logon_type=10)
    assert len(both) == 6 and len(alone) == 3
    assert all(sorted(_events(s)) == [131, 140, 261, 4625] for s in both)
    assert all(sorted(_events(s)) == [131, 140, 261] and s["user"] == "" for s in alone)
    for s in both + alone:
        rec = {x["event_id"]: records[(x["file"], x["record_id"])] for x in s["sources"]}
        assert rec[140]["fields"]["IPString"] == s["src_ip"]
        assert rec[140]["activity_id"] == rec[131]["activity_id"]  # one connection
    (win,) = _sessions(truth, outcome="success", logon_type=10)
    assert win["client_tz"] == "UTC-5"
    recs = [records[(x["file"], x["record_id"])] for x in win["sources"]]
    (tz,) = [r for r in recs if (r["channel"], r["event_id"]) == (RDPCORE, 104)]
    (conn,) = [r for r in recs if (r["channel"], r["event_id"]) == (RDPCORE, 131)]
    assert tz["fields"]["TimezoneBiasHour"] == "[-5]"
    assert tz["activity_id"] == conn["activity_id"]


def test_rdp_gateway_writes_302_303_on_the_gateway_and_the_logon_from_its_address(
    tmp_path: Path,
) -> None:
    generate(tmp_path, ["rdp-gateway"], seed=5)
    truth, records = load_set(tmp_path)
    gw_files = {f["file"] for f in truth["files"] if f["channel"] == GATEWAY}
    assert gw_files == {"WS01/Microsoft-Windows-TerminalServices-Gateway%4Operational.evtx"}
    via = [s for s in truth["sessions"] if s.get("src_ip_source") == "gateway"]
    assert [s["user"] for s in via] == ["alice", "bob"]
    resources = []
    for s in via:
        assert s["host"] == "SRV01.corp.example.com" and s["gateway_ip"] == "10.20.0.12"
        recs = [records[(x["file"], x["record_id"])] for x in s["sources"]]
        gw = [r for r in recs if r["channel"] == GATEWAY]
        assert [r["event_id"] for r in gw] == [302, 303]
        assert {r["computer"] for r in gw} == {"WS01.corp.example.com"}
        assert {r["fields"]["IpAddress"] for r in gw} == {s["src_ip"]}
        assert {r["fields"]["Username"] for r in gw} == {f"CORP\\{s['user']}"}
        resources.append(gw[0]["fields"]["Resource"])
        (conn,) = [r for r in recs if (r["channel"], r["event_id"]) == (RDPCORE, 131)]
        assert conn["fields"]["ClientIP"].startswith("10.20.0.12:")  # the target sees the gateway
    assert resources == ["SRV01.corp.example.com", "srv01"]
    # a connection to a host whose logs are not in the set belongs to no session
    credited = {(x["file"], x["record_id"]) for s in truth["sessions"] for x in s["sources"]}
    lone = [k for k, r in records.items() if r["event_id"] == 302 and k not in credited]
    assert [records[k]["fields"]["Resource"] for k in lone] == ["SRV09.corp.example.com"]


def test_a_gateway_log_added_later_reaches_sessions_built_in_another_task(tmp_path: Path) -> None:
    """Sessions are built per group of hosts; the gateway's log lives on another host. Adding
    it rebuilds the target's sessions, and a task holding only the target still sees it."""
    from logonscope.analysis.build import build
    from logonscope.storage.case import connect
    from logonscope.storage.ingest import ingest

    gen, case = tmp_path / "gen", tmp_path / "case"
    generate(gen, ["rdp-gateway"], seed=5)

    def via_gateway() -> list[tuple]:
        con = connect(case)
        return con.execute(
            "SELECT user, src_ip, src_ip_source, gateway_ip FROM sessions "
            "WHERE logon_type = 10 ORDER BY start"
        ).fetchall()

    ingest([gen / "SRV01"], case, jobs=1)
    build(case, jobs=1, task_events=1)
    assert [r[2] for r in via_gateway()] == ["131", "131"]
    ingest([gen / "WS01"], case, jobs=1)
    report = build(case, jobs=1, task_events=1)  # one host per task
    assert "srv01" in report.hosts_rebuilt
    assert via_gateway() == [
        ("alice", "81.2.69.160", "gateway", "10.20.0.12"),
        ("bob", "92.63.197.48", "gateway", "10.20.0.12"),
    ]
