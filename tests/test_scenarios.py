"""The scenario generator writes realistic, deterministic evidence and a consistent truth.json."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from logonscope.storage.scenarios import SCENARIOS, generate
from logonscope.storage.vocabulary import GATEWAY
from tests.evtx_readback import check_crcs, parse_time, read_python, read_rust

ROOT = Path(__file__).resolve().parent.parent
TRUTH_KEYS = [
    "seed",
    "scenarios",
    "files",
    "sessions",
    "activity",
    "logon_sessions",
    "desktop_sessions",
    "tampering",
]
SESSION_KEYS = [
    "key",
    "host",
    "user",
    "domain",
    "logon_type",
    "src_ip",
    "start",
    "end",
    "end_reason",
    "outcome",
    "is_reconnect",
    "system",
    "admin",
    "elevated",
    "clock_changed",
    "tampered",
    "sources",
]
# What only some sources tell (an RD Gateway, RdpCoreTS 104): named where a scenario makes it.
OPTIONAL_SESSION_KEYS = {"src_ip_source", "gateway_ip", "client_tz"}
ACTIVITY_KEYS = ["file", "host", "channel", "event_id", "record_id", "session", "confidence"]
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def load_set(out: Path) -> tuple[dict[str, Any], dict[tuple[str, int], dict[str, Any]]]:
    """truth.json and every record of the set, keyed by (relative file, EventRecordID)."""
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    records = {}
    for f in truth["files"]:
        for rec in read_rust(out / f["file"]):
            records[(f["file"], rec["record_id"])] = rec
    return truth, records


def assert_truth_consistent(out: Path) -> dict[str, Any]:
    truth, records = load_set(out)
    assert [k for k in truth if k != "facts"] == TRUTH_KEYS  # facts: only some scenarios
    listed = {f["file"] for f in truth["files"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.evtx")}
    assert listed == on_disk
    for f in truth["files"]:
        recs = [r for (name, _), r in records.items() if name == f["file"]]
        assert len(recs) == f["records"]
        assert {r["channel"] for r in recs} == {f["channel"]}
        names = {f["host"], *f.get("renamed_to", [])}  # a renamed host writes either name
        assert {r["computer"] for r in recs} <= names
    keys = [s["key"] for s in truth["sessions"]]
    assert len(keys) == len(set(keys))
    for s in truth["sessions"]:
        assert [k for k in s if k not in OPTIONAL_SESSION_KEYS] == SESSION_KEYS
        assert ISO_Z.match(s["start"]), s
        assert s["end"] is None or ISO_Z.match(s["end"])
        assert s["end_reason"] in ("logoff", "disconnect", "shutdown", "none seen")
        assert s["outcome"] in ("success", "failure", "unknown")
        assert s["sources"], s
        if s["outcome"] == "failure":
            assert s["end"] == s["start"]
        elif s["end"] is not None and not s["clock_changed"]:
            assert s["end"] >= s["start"]  # times as written: a clock set back breaks this
        assert (s["end"] is None) == (s["end_reason"] == "none seen" and s["outcome"] != "failure")
        for src in s["sources"]:
            rec = records[(src["file"], src["record_id"])]  # every source exists ...
            assert (rec["channel"], rec["event_id"]) == (
                src["channel"],
                src["event_id"],
            )  # ... as said
            # an RD Gateway writes in its own log, on the gateway host
            assert rec["computer"] == s["host"] or rec["channel"] == GATEWAY
        start = parse_time(s["start"])
        first_logon = [
            records[(x["file"], x["record_id"])]
            for x in s["sources"]
            if x["event_id"] in (4624, 4625)
        ]
        if first_logon:  # start = the first logon (or failure) event of the attempt
            assert min(r["time"] for r in first_logon) == start
    sessions = {s["key"]: s for s in truth["sessions"]}
    for a in truth["activity"]:
        assert list(a) == ACTIVITY_KEYS
        rec = records[(a["file"], a["record_id"])]
        assert (rec["channel"], rec["event_id"], rec["computer"]) == (
            a["channel"],
            a["event_id"],
            a["host"],
        )
        if a["session"] is not None:
            s = sessions[a["session"]]
            assert (
                a["confidence"] in ("logon_id", "user+time", "host+time") and s["host"] == a["host"]
            )
            t = rec["time"]
            if not s["clock_changed"]:
                assert parse_time(s["start"]) <= t
                assert s["end"] is None or t <= parse_time(s["end"])
    # the Windows logon and desktop sessions: each names records that exist on its host, its
    # logon id or LSM session id in them, and investigator sessions of the truth
    machine = {}  # any name of a host -> every name it wrote (a renamed host has several)
    for f in truth["files"]:
        names = {f["host"], *f.get("renamed_to", [])}
        for name in names:
            machine[name] = machine.get(name, set()) | names
    for kind, ids in (("logon_sessions", "logon_id"), ("desktop_sessions", "lsm_session_id")):
        for v in truth[kind]:
            assert v["sources"] and set(v["sessions"]) <= set(sessions), v
            assert ISO_Z.match(v["start"]) and (v["end"] is None or ISO_Z.match(v["end"]))
            for src in v["sources"]:
                rec = records[(src["file"], src["record_id"])]
                assert rec["computer"] in machine.get(v["host"], {v["host"]}) and v[ids] is not None
    return truth


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_writes_a_truth_whose_records_all_exist(
    scenario: str, tmp_path: Path
) -> None:
    result = generate(tmp_path, [scenario], events=3000 if scenario == "bulk" else None, seed=7)
    truth = assert_truth_consistent(tmp_path)
    assert truth["seed"] == 7 and truth["scenarios"] == [scenario]
    assert result.records == sum(f["records"] for f in truth["files"]) > 0
    assert truth["sessions"]


def _sessions(truth: dict[str, Any], **match: Any) -> list[dict[str, Any]]:
    return [s for s in truth["sessions"] if all(s[k] == v for k, v in match.items())]


def _events(s: dict[str, Any]) -> list[int]:
    return [x["event_id"] for x in s["sources"]]


def test_rdp_bruteforce_is_nla_failures_then_a_full_rdp_logon_from_the_same_public_ip(
    tmp_path: Path,
) -> None:
    generate(tmp_path, ["rdp-bruteforce"])
    truth, records = load_set(tmp_path)
    fails = _sessions(truth, outcome="failure")
    assert len(fails) >= 20
    ip = fails[0]["src_ip"]
    assert all(f["src_ip"] == ip and f["logon_type"] == 3 for f in fails)
    for f in fails:
        assert sorted(_events(f)) == [131, 261, 4625]
        fail = next(
            records[(x["file"], x["record_id"])] for x in f["sources"] if x["event_id"] == 4625
        )
        assert fail["fields"]["IpAddress"] == "-" and fail["fields"]["LogonType"] == 3
    (win,) = _sessions(truth, outcome="success", logon_type=10)
    assert win["src_ip"] == ip and win["admin"] and win["elevated"] and not win["system"]
    assert _events(win)[:12] == [261, 4624, 1149, 131, 4648, 4624, 4624, 4672, 41, 21, 7001, 22]
    steps = [records[(x["file"], x["record_id"])] for x in win["sources"]]
    nla = steps[1]
    assert nla["fields"]["LogonType"] == 3 and nla["fields"]["WorkstationName"] == ""
    assert [r["fields"]["LogonType"] for r in steps[5:7]] == [10, 10]
    assert steps[5]["fields"]["TargetLinkedLogonId"] == steps[6]["fields"]["TargetLogonId"]
    assert steps[5]["fields"]["LogonProcessName"] == "User32 "
    assert steps[3]["fields"]["ClientIP"].startswith(ip + ":")
    rdp_acts = {
        r["activity_id"] for r in steps if r["channel"] != "Security" and r["event_id"] != 7001
    }
    assert len(rdp_acts) == 1 and rdp_acts != {None}  # one ActivityID per RDP connection
    assert win["end_reason"] == "disconnect" and _events(win)[-4:] == [40, 4779, 24, 4634]


def test_a_reconnect_is_a_new_session_ended_on_the_original_logon_id(tmp_path: Path) -> None:
    generate(tmp_path, ["rdp-reconnect"], hosts=2)
    truth, records = load_set(tmp_path)
    first, again = _sessions(truth, user="dave", logon_type=10)
    assert not first["is_reconnect"] and again["is_reconnect"]
    assert first["src_ip"] != again["src_ip"] == "81.2.69.160"
    assert first["end_reason"] == "disconnect"
    recs = [records[(x["file"], x["record_id"])] for x in again["sources"]]
    by_id = Counter(r["event_id"] for r in recs)
    assert by_id[4778] == by_id[25] == 1
    temporary = [
        r["fields"]["TargetLogonId"]
        for r in recs
        if r["event_id"] == 4624 and r["fields"]["LogonType"] == 10
    ]
    original_limited = next(r["fields"]["LogonID"] for r in recs if r["event_id"] == 4778)
    assert original_limited not in temporary
    logoff = next(r for r in recs if r["event_id"] == 4647)
    assert logoff["fields"]["TargetLogonId"] == original_limited
    assert again["end_reason"] == "logoff" and parse_time(again["end"]) == logoff["time"]
    temp_offs = [
        r for r in recs if r["event_id"] == 4634 and r["fields"]["TargetLogonId"] in temporary
    ]
    assert len(temp_offs) == 2 and all(r["time"] < logoff["time"] for r in temp_offs)
    assert max(r["time"] for r in temp_offs) - min(r["time"] for r in recs) < timedelta(seconds=10)


def test_console_has_a_uac_pair_lock_unlock_and_a_failed_unlock(tmp_path: Path) -> None:
    generate(tmp_path, ["console"])
    truth, records = load_set(tmp_path)
    (s,) = _sessions(truth, user="alice", logon_type=2)
    recs = [records[(x["file"], x["record_id"])] for x in s["sources"]]
    pair = [r for r in recs if r["event_id"] == 4624 and r["fields"]["LogonType"] == 2]
    assert (
        len(pair) == 2
        and pair[0]["fields"]["TargetLinkedLogonId"] == pair[1]["fields"]["TargetLogonId"]
    )
    assert {r["event_id"] for r in recs} >= {4800, 4801, 4647, 21, 22, 23, 7001, 7002}
    assert [r["fields"]["LogonType"] for r in recs if r["event_id"] == 4624][2:] == [7, 7]
    lsm = [r for r in recs if r["channel"].endswith("LocalSessionManager/Operational")]
    assert {r["activity_id"] for r in lsm} == {"61A55000-55E5-1017-0000-000000000000"}
    assert all(r["fields"].get("Address", "LOCAL") == "LOCAL" for r in lsm)
    (failed,) = _sessions(truth, user="alice", logon_type=7)
    assert failed["outcome"] == "failure" and failed["start"] == failed["end"]
    assert s["end_reason"] == "logoff" and s["admin"] and s["elevated"]


def test_lateral_movement_activity_is_attributed_by_logon_id(tmp_path: Path) -> None:
    generate(tmp_path, ["lateral"])
    truth, _ = load_set(tmp_path)
    (net,) = _sessions(truth, user="alice", logon_type=3)
    assert net["src_ip"] == "10.20.0.12" and net["end_reason"] == "logoff"
    acts = [a for a in truth["activity"] if a["session"] == net["key"]]
    assert Counter(a["event_id"] for a in acts) == Counter(
        {5140: 2, 5145: 1, 4697: 1, 4688: 3, 7045: 1}
    )
    assert {a["confidence"] for a in acts if a["event_id"] == 7045} == {"user+time"}
    assert any(
        a["event_id"] == 4648 and a["host"] != net["host"] and a["session"]
        for a in truth["activity"]
    )
    assert any(f["channel"] == "System" and f["host"] == net["host"] for f in truth["files"])


def test_reboot_closes_open_sessions_and_logon_ids_repeat_after_boot(tmp_path: Path) -> None:
    generate(tmp_path, ["reboot"])
    truth, records = load_set(tmp_path)
    carol = _sessions(truth, user="carol")
    assert len(carol) == 2 and all(s["end_reason"] == "shutdown" for s in carol)
    ends = [
        next(records[(x["file"], x["record_id"])] for x in s["sources"] if x["event_id"] == 4624)
        for s in carol
    ]
    assert ends[0]["fields"]["TargetLogonId"] == ends[1]["fields"]["TargetLogonId"]
    assert 1074 in _events(carol[0])  # a clean restart: ended at its first shutdown marker
    system_ids = Counter(r["event_id"] for (f, _), r in records.items() if r["channel"] == "System")
    assert system_ids[6008] == 1 and system_ids[6005] >= 3 and system_ids[12] >= 3
    assert system_ids[13] == system_ids[6006] == system_ids[1074] == 1


def test_noise_sessions_are_marked_system(tmp_path: Path) -> None:
    generate(tmp_path, ["noise"], hosts=2)
    truth, _ = load_set(tmp_path)
    assert truth["sessions"] and all(s["system"] for s in truth["sessions"])
    assert {s["logon_type"] for s in truth["sessions"]} <= {0, 3, 5}


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    a, b, c = (generate(tmp_path / n, None, seed=s) for n, s in (("a", 1), ("b", 1), ("c", 2)))
    for f in a.files:
        assert (a.out / f["file"]).read_bytes() == (b.out / f["file"]).read_bytes()
    assert a.truth.read_bytes() == b.truth.read_bytes() != c.truth.read_bytes()


def test_the_default_set_is_a_small_mixed_demo(tmp_path: Path) -> None:
    result = generate(tmp_path)
    truth = assert_truth_consistent(tmp_path)
    assert 2000 <= result.records <= 6000
    assert len({f["host"] for f in truth["files"]}) >= 3
    people = {s["user"] for s in truth["sessions"] if not s["system"] and s["outcome"] == "success"}
    assert {"alice", "dave", "carol", "svc_backup"} <= people
    assert _sessions(truth, user="dave", src_ip="81.2.69.160")
    assert _sessions(truth, is_reconnect=True) and _sessions(truth, outcome="failure")


def test_bulk_streams_into_rolled_over_files(tmp_path: Path) -> None:
    result = generate(tmp_path, ["bulk"], hosts=2, events=12000, max_bytes=4096 + 3 * 0x10000)
    names = {Path(f["file"]).name for f in result.files}
    assert "Security-002.evtx" in names
    assert all((tmp_path / f["file"]).stat().st_size <= 4096 + 3 * 0x10000 for f in result.files)
    assert result.records >= 12000
    assert_truth_consistent(tmp_path)


# --- both parsers agree on a multi-chunk set written by the command line -------------------


def _norm(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (bool, int)):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return _norm(value.get("#text"))
    text = str(value).replace("\r\n", "\n")
    if re.fullmatch(r"0x[0-9a-fA-F]+", text):
        return str(int(text, 16))
    if re.fullmatch(
        r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?", text
    ):
        return text.strip("{}").upper()
    if re.fullmatch(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)?", text):
        return parse_time(text)
    return text


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return abs(a - b) <= timedelta(microseconds=50)
    return a == b


def _read_python_chunk(job: tuple[str, int]) -> list:
    return read_python(*job)


# Enough records for every host's Security log to span several chunks (2 to 4 of them;
# checked below): the cross-check still crosses chunk boundaries, and python-evtx is slow.
CROSS_CHECK_EVENTS = 1000


def test_generate_a_multi_chunk_set_that_both_parsers_read_in_full_and_agree_on(
    tmp_path: Path,
) -> None:
    from tests.conftest import run_cli_inline

    out = tmp_path / "set"
    proc = run_cli_inline(
        "generate", "--out", out, "--hosts", "3", "--events", str(CROSS_CHECK_EVENTS)
    )
    assert proc.returncode == 0, proc.stderr
    assert "records" in proc.stdout and "truth.json" in proc.stdout
    truth = json.loads((out / "truth.json").read_text())
    assert len({f["host"] for f in truth["files"]}) == 3
    chunks = {f["file"]: check_crcs(out / f["file"]) for f in truth["files"]}
    security = [n for f, n in chunks.items() if f.endswith("/Security.evtx")]
    assert len(security) == 3 and min(security) > 1, chunks
    jobs = [(str(out / name), i) for name, n in chunks.items() for i in range(n)]
    with ProcessPoolExecutor(max_workers=2) as pool:  # python-evtx is slow: share the chunks
        parts = dict(zip(jobs, pool.map(_read_python_chunk, jobs, chunksize=4), strict=True))
    total = 0
    for f in truth["files"]:
        rust = read_rust(out / f["file"])
        python = [r for i in range(chunks[f["file"]]) for r in parts[(str(out / f["file"]), i)]]
        assert len(rust) == len(python) == f["records"]
        total += len(rust)
        for r, p in zip(rust, python, strict=True):
            assert (r["record_id"], r["event_id"], r["channel"], r["computer"]) == (
                p["record_id"],
                p["event_id"],
                p["channel"],
                p["computer"],
            )
            assert abs(r["time"] - p["time"]) < timedelta(milliseconds=1)
            assert list(r["fields"]) == list(p["fields"]), (f["file"], r["record_id"])
            for k in r["fields"]:
                a, b = _norm(r["fields"][k]), _norm(p["fields"][k])
                assert _same(a, b), (f["file"], r["record_id"], k, a, b)
    assert total >= CROSS_CHECK_EVENTS


# --- the catalog's layouts are the real ones ---------------------------------------------------

REAL = {
    "Velocidex__velociraptor/artifacts/testdata/files/RDPAuth_Security.evtx": [
        4624,
        4634,
        4647,
        4648,
        4672,
        4688,
        4778,
        4779,
        5140,
        4608,
        1100,
    ],
    "Velocidex__velociraptor/artifacts/testdata/files/RDPAuth_LocalSessionManager.evtx": [
        21,
        22,
        23,
        24,
        25,
        40,
        41,
        42,
    ],
    "Velocidex__velociraptor/artifacts/testdata/files/RDPAuth_RemoteConnectionManager.evtx": [
        261,
        1149,
    ],
    "Velocidex__velociraptor/artifacts/testdata/files/RDPAuth_System.evtx": [
        1074,
        7001,
        7002,
        12,
        13,
    ],
    "sans-blue-team__DeepBlueCLI/evtx/smb-password-guessing-security.evtx": [4625],
    "omerbenamram__evtx/samples/2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS_4Operational.evtx": [
        131,
        140,
    ],
    "AndrewRathbun__DFIRArtifactMuseum/Windows/EventLogs/Win10/BelkasoftCTF_InsiderThreat/Microsoft-Windows-RemoteDesktopServices-RdpCoreTS_4Operational.evtx": [
        104
    ],
    "AndrewRathbun__DFIRArtifactMuseum/Windows/EventLogs/Win10/BelkasoftCTF_InsiderThreat/System.evtx": [
        7045
    ],
}


def _real_layouts(
    path: Path, wanted: list[int]
) -> dict[tuple[str, int], tuple[str, int | None, list[str]]]:
    import evtx as rust

    out = {}
    it = iter(rust.PyEvtxParser(str(path)).records_json())
    while True:
        try:
            rec = next(it)
        except StopIteration:
            break
        except RuntimeError:  # a corrupt record in a real sample: keep going
            continue
        ev = json.loads(rec["data"])["Event"]
        s = ev["System"]
        eid = s["EventID"]["#text"] if isinstance(s["EventID"], dict) else int(s["EventID"])
        key = (s["Channel"], int(eid))
        if int(eid) not in wanted or key in out:
            continue
        body = ev.get("EventData") or ev.get("UserData") or {}
        if "UserData" in ev:
            (body,) = body.values()
        names = [k for k in (body or {}) if k != "#attributes"]
        out[key] = (s["Provider"]["#attributes"]["Name"], s.get("Version"), names)
    return out


@pytest.mark.evidence
def test_the_catalog_uses_the_providers_versions_and_field_names_of_real_events() -> None:
    from logonscope.storage.scenarios import catalog as c
    from tests.conftest import evidence

    ours = {(v.channel, v.event_id): v for v in vars(c).values() if isinstance(v, c.EventType)}
    checked = 0
    for rel, ids in REAL.items():
        for (channel, eid), (provider, version, names) in _real_layouts(evidence(rel), ids).items():
            et = ours[(channel, eid)]
            assert et.provider == provider, (channel, eid)
            assert list(et.layout.names) == names, (channel, eid)
            assert et.version == version, (channel, eid)
            checked += 1
    assert checked >= 25


def test_generate_refuses_a_folder_that_already_holds_a_set_and_bad_counts(tmp_path: Path) -> None:
    from tests.conftest import run_cli_inline

    first = run_cli_inline("generate", "--out", tmp_path, "--scenario", "console")
    assert first.returncode == 0, first.stderr
    assert "records" in first.stdout and "SRV01/Security.evtx" in first.stdout
    again = run_cli_inline("generate", "--out", tmp_path)
    assert again.returncode == 2 and "truth.json" in again.stderr
    assert run_cli_inline("generate", "--out", tmp_path / "x", "--hosts", "0").returncode == 2
    assert run_cli_inline("generate", "--out", tmp_path / "y", "--scenario", "nope").returncode == 2
    lone = run_cli_inline(
        "generate", "--out", tmp_path / "z", "--scenario", "lateral", "--hosts", "1"
    )
    assert lone.returncode == 2 and "2 hosts" in lone.stderr


def test_storage_never_imports_the_ui() -> None:
    code = (
        "import sys, logonscope.storage.scenarios, logonscope.storage.evtx_writer; "
        "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich') or m.startswith('logonscope.tui')])"
    )
    got = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert got.stdout.strip() == "[]"
