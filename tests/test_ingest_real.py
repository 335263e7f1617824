"""Ingest of the real public samples in ../shared/evidence: every record stored or counted.

Counts are checked against an independent read with the bare `evtx` parser, not against the
code under test; logon columns against values read by eye from the events themselves.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import evtx
import pytest

from logonscope.storage.case import connect
from logonscope.storage.chunks import CHUNK_SIZE, HEADER_SIZE
from logonscope.storage.ingest import ingest
from tests.conftest import BELKASOFT, EVIDENCE, RDPAUTH, evidence, run_cli_inline

# one worker ingests every sample once for the module (full_case) and shares it
pytestmark = [pytest.mark.evidence, pytest.mark.xdist_group("ingest_real")]


@functools.cache
def _bare_records(path: Path) -> list[dict]:
    """Every record `evtx` yields, decoded, skipping the ones it reports as errors (read once
    per file for the module: several tests walk every sample; callers only read the list)."""
    out = []
    records = evtx.PyEvtxParser(str(path)).records_json()
    while True:
        try:
            out.append(json.loads(next(records)["data"])["Event"])
        except StopIteration:
            return out
        except RuntimeError:
            continue


def _recovered(errors: list[str]) -> int:
    """Records python-evtx read that evtx gave up on, as the per-chunk error lines say."""
    return sum(int(n) for e in errors for n in re.findall(r"python-evtx recovered (\d+)", e))


def _event_id(system: dict) -> int | None:
    value = system.get("EventID")
    value = value["#text"] if isinstance(value, dict) else value
    return None if value is None else int(value)


@pytest.fixture(scope="module")
def full_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    evidence("")
    case = tmp_path_factory.mktemp("case") / "c"
    # what is stored is checked here, not sessions (the samples' builds are checked elsewhere)
    # nor two jobs (test_evidence_is_never_written ingests with two): one job spawns no pool,
    # 2.5 CPU s against 3.5-4.4
    result = run_cli_inline(
        "ingest", EVIDENCE, "--case", case, "--quiet", "--no-build", "--jobs", "1"
    )
    assert result.returncode == 0, result.stderr
    return case


def test_every_record_of_every_file_is_counted(full_case: Path) -> None:
    con = connect(full_case)
    rows = con.execute("select path, records, errors from evidence").fetchall()
    stored = {path: (records, errors) for path, records, errors in rows}
    files = sorted(p for p in EVIDENCE.rglob("*.evtx"))
    assert len(stored) == len(files)
    for path in files:
        records, errors = stored[str(path)]
        # python-evtx reads some records evtx gives up on; the errors say how many, per chunk.
        assert records == len(_bare_records(path)) + _recovered(errors), path


def test_two_copies_of_one_log_are_stored_once(full_case: Path) -> None:
    keys = set()
    for path in EVIDENCE.rglob("*.evtx"):
        for event in _bare_records(path):
            system = event["System"]
            created = (system.get("TimeCreated") or {}).get("#attributes", {}).get("SystemTime", "")
            keys.add(
                (
                    system.get("Computer"),
                    system.get("Channel"),
                    system.get("EventRecordID"),
                    created[:26],
                    _event_id(system),
                )
            )
    con = connect(full_case)
    errors = [e for (row,) in con.execute("select errors from evidence").fetchall() for e in row]
    assert _recovered(errors) == 1  # a damaged record only python-evtx reads, kept
    assert con.execute("select count(*) from events").fetchone()[0] == len(keys) + 1
    copies = con.execute(
        "select records, stored, duplicates from evidence where path like '%security_bad_string_cache.evtx'"
    ).fetchone()
    assert copies == (2261, 0, 2261)


def test_reingest_stores_nothing_new_and_says_so(full_case: Path) -> None:
    before = connect(full_case).execute("select count(*) from events").fetchone()[0]
    # one job: the files are known by their hash, which two jobs would spawn a pool to learn
    result = run_cli_inline(
        "ingest", EVIDENCE, "--case", full_case, "--quiet", "--no-build", "--jobs", "1"
    )
    assert result.returncode == 0
    assert "nothing new to ingest" in result.stderr
    assert "43 file(s) already in the case" in result.stderr
    assert connect(full_case).execute("select count(*) from events").fetchone()[0] == before


def test_adding_one_more_file_adds_only_it(tmp_path: Path) -> None:
    lsm = evidence(f"{RDPAUTH}/RDPAuth_LocalSessionManager.evtx")
    rcm = evidence(f"{RDPAUTH}/RDPAuth_RemoteConnectionManager.evtx")
    case = tmp_path / "c"
    ingest([lsm], case, jobs=1)
    report = ingest([lsm, rcm], case, jobs=1)
    assert [(Path(f.source).name, f.status) for f in report.files] == [
        ("RDPAuth_LocalSessionManager.evtx", "known"),
        ("RDPAuth_RemoteConnectionManager.evtx", "stored"),
    ]
    con = connect(case)
    assert con.execute("select count(*) from evidence").fetchone()[0] == 2
    assert con.execute("select count(*) from events").fetchone()[0] == 17 + 4


def test_evidence_is_never_written(tmp_path: Path) -> None:
    folder = evidence(RDPAUTH)
    before = {
        p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in folder.iterdir()
    }
    ingest([folder], tmp_path / "c", jobs=2)
    after = {
        p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in folder.iterdir()
    }
    assert after == before


def test_evidence_table_records_sha256_and_parser(tmp_path: Path) -> None:
    path = evidence(f"{RDPAUTH}/RDPAuth_Security.evtx")
    ingest([path], tmp_path / "c", jobs=1)
    row = (
        connect(tmp_path / "c")
        .execute("select path, sha256, size, records, skipped, errors, parser, hosts from evidence")
        .fetchone()
    )
    assert row == (
        str(path),
        hashlib.sha256(path.read_bytes()).hexdigest(),
        path.stat().st_size,
        789,
        0,
        [],
        "evtx",
        ["dc.windomain.local"],
    )


# The python-evtx cross-check reads a fixed sample of the RDPAuth logs, not all of them
# (python-evtx costs ~2.5 ms a record): every file, and in each the chunks that hold every
# event id the file has (checked below); Security's chunks 3 and 9 add no event id.
_SAMPLE_CHUNKS = {
    "RDPAuth_LocalSessionManager.evtx": (0,),
    "RDPAuth_RemoteConnectionManager.evtx": (0,),
    "RDPAuth_Security.evtx": (0, 1, 2, 4, 5, 6, 7, 8),
    "RDPAuth_System.evtx": (0, 1),
}


def _sample(source: Path, chunks: tuple[int, ...], out: Path) -> Path:
    """`source`'s header (its chunk count and checksum redone) and the chosen chunks: chunks
    are self-contained, so each record parses as in the whole file."""
    data = source.read_bytes()
    header = bytearray(data[:HEADER_SIZE])
    struct.pack_into("<QQ", header, 8, 0, len(chunks) - 1)  # oldest, current chunk
    struct.pack_into("<H", header, 42, len(chunks))
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
    body = b"".join(
        data[HEADER_SIZE + n * CHUNK_SIZE : HEADER_SIZE + (n + 1) * CHUNK_SIZE] for n in chunks
    )
    out.write_bytes(bytes(header) + body)
    return out


def test_forced_python_evtx_reads_the_same_records_as_evtx(tmp_path: Path) -> None:
    folder = evidence(RDPAUTH)
    assert sorted(p.name for p in folder.iterdir()) == sorted(_SAMPLE_CHUNKS)
    (tmp_path / "sample").mkdir()
    for name, chunks in _SAMPLE_CHUNKS.items():
        sample = _sample(folder / name, chunks, tmp_path / "sample" / name)
        ids = {_event_id(e["System"]) for e in _bare_records(sample)}
        assert ids == {_event_id(e["System"]) for e in _bare_records(folder / name)}, name
    ingest([tmp_path / "sample"], tmp_path / "fast", jobs=1, parser="evtx")
    ingest([tmp_path / "sample"], tmp_path / "slow", jobs=1, parser="python-evtx")
    # python-evtx truncates FILETIME to the microsecond where evtx rounds: compare to the ms.
    columns = (
        "record_id, date_trunc('millisecond', time), host, channel, event_id, target_user, target_logon_id, "
        "linked_logon_id, logon_type, ip, lsm_session_id, activity_id"
    )
    query = f"select {columns} from events order by channel, record_id"
    fast, slow = (
        connect(tmp_path / "fast").execute(query).fetchall(),
        connect(tmp_path / "slow").execute(query).fetchall(),
    )
    assert len(fast) == 687 + 186 + 17 + 4  # of 789 + 186 + 17 + 4 in the whole files
    assert slow == fast
    parsers = connect(tmp_path / "slow").execute("select distinct parser from evidence").fetchall()
    assert parsers == [("python-evtx",)]


def test_dirty_file_with_stale_chunk_count_is_read_whole_by_the_fallback(tmp_path: Path) -> None:
    # python-evtx's Evtx.records() gives 389 of 739 here: the header's chunk count is stale.
    path = evidence("Velocidex__evtx/testdata/Security.evtx")
    report = ingest([path], tmp_path / "c", jobs=1, parser="python-evtx")
    assert report.files[0].records == 739 and report.files[0].parser == "python-evtx"


def test_corrupt_chunks_are_counted_and_the_rest_kept(tmp_path: Path) -> None:
    path = evidence("omerbenamram__evtx/samples/sample_with_a_bad_chunk_magic.evtx")
    # what the ingest stores and says is checked, not sessions: no build (~1 CPU s)
    result = run_cli_inline("ingest", path, "--case", tmp_path / "c", "--quiet", "--no-build")
    assert result.returncode == 0
    assert "chunk 6: bad magic" in result.stderr and "chunk 10: bad magic" in result.stderr
    assert "sample_with_a_bad_chunk_magic.evtx" in result.stderr
    assert connect(tmp_path / "c").execute("select count(*) from events").fetchone()[0] == 270


def test_truncated_file_keeps_what_is_readable_and_counts_the_rest(tmp_path: Path) -> None:
    source = evidence(f"{BELKASOFT}/Security.evtx")
    cut = tmp_path / "cut.evtx"
    cut.write_bytes(source.read_bytes()[:100_000])
    result = run_cli_inline("ingest", cut, "--case", tmp_path / "c", "--quiet", "--no-build")
    assert result.returncode == 0
    assert f"warning {cut}:" in result.stderr and "truncated" in result.stderr
    row = connect(tmp_path / "c").execute("select records, skipped from evidence").fetchone()
    assert row[0] == len(_bare_records(cut)) == 92
    assert row[1] > 0  # the records of the chunk cut in half, from its header


def test_files_are_recognised_by_signature_and_found_in_zips(tmp_path: Path) -> None:
    import zipfile

    lsm = evidence(f"{RDPAUTH}/RDPAuth_LocalSessionManager.evtx")
    renamed = tmp_path / "in" / "collected.bin"
    renamed.parent.mkdir()
    renamed.write_bytes(lsm.read_bytes())
    archive = tmp_path / "in" / "triage.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(
            evidence(f"{RDPAUTH}/RDPAuth_RemoteConnectionManager.evtx"), "C/Windows/Logs/rcm.evtx"
        )
    report = ingest([tmp_path / "in"], tmp_path / "c", jobs=1)
    assert sorted(f.source for f in report.of("stored")) == [
        str(renamed),
        f"{archive}!C/Windows/Logs/rcm.evtx",
    ]
    assert connect(tmp_path / "c").execute("select count(*) from events").fetchone()[0] == 21


# --- extracted logon columns on real events (values read from the events themselves) -----


def _of(case: Path, sources: list[Path]) -> Any:
    """A connection to `case` whose `events` are those stored from `sources` (files, or
    folders of them) alone: the tests below read their files' records out of `full_case`
    (every sample ingested once) instead of ingesting the files again."""
    paths = [str(p) for f in sources for p in (sorted(f.rglob("*.evtx")) if f.is_dir() else [f])]
    con = connect(case)
    con.execute("CREATE TEMP TABLE _files AS SELECT unnest(?::VARCHAR[]) AS path", [paths])
    assert con.execute("SELECT count(*) FROM evidence JOIN _files USING (path)").fetchone() == (
        len(paths),
    )
    con.execute(
        "CREATE TEMP VIEW events AS SELECT * FROM memory.main.events "
        "WHERE evidence_sha256 IN (SELECT sha256 FROM evidence JOIN _files USING (path))"
    )
    return con


@pytest.fixture(scope="module")
def rdp_case(full_case: Path) -> Callable[[], Any]:
    """Connections to the events of five samples with logon columns to check."""
    files = [
        evidence(RDPAUTH),
        evidence(f"{BELKASOFT}/Security.evtx"),
        evidence(
            "omerbenamram__evtx/samples/2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS_4Operational.evtx"
        ),
        evidence(
            "mdecrevoisier__EVTX-to-MITRE-Attack/TA0001-Initial_access/T1078-Valid_accounts/ID1149-RDP_success_logins_to_multiple_hosts.evtx"
        ),
        evidence("sans-blue-team__DeepBlueCLI/evtx/smb-password-guessing-security.evtx"),
    ]
    return lambda: _of(full_case, files)


def _one(case: Callable[[], Any], where: str, columns: str) -> tuple:
    rows = case().execute(f"select {columns} from events where {where}").fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_4624_rdp_logon_columns(rdp_case: Path) -> None:
    row = _one(
        rdp_case,
        "event_id = 4624 and record_id = 893 and host = 'DESKTOP-23PS6ES'",
        "time, target_user, target_domain, target_sid, target_logon_id, linked_logon_id, logon_type, "
        "elevated, ip, port, workstation, logon_process, auth_package, subject_logon_id, process_name",
    )
    assert row == (
        dt.datetime(2020, 8, 1, 21, 17, 25, 722949, tzinfo=dt.timezone.utc),
        "User",
        "DESKTOP-23PS6ES",
        "S-1-5-21-672274782-2342008316-3472871522-1001",
        0x36685C,
        0x36687C,
        10,
        True,
        "0.0.0.0",
        0,
        "DESKTOP-23PS6ES",
        "User32 ",
        "Negotiate",
        0x3E7,
        r"C:\Windows\System32\svchost.exe",
    )


def test_4625_failure_columns(rdp_case: Path) -> None:
    row = _one(
        rdp_case,
        "event_id = 4625 and host = 'DESKTOP-M5SN04R' and record_id = "
        "(select min(record_id) from events where event_id = 4625 and host = 'DESKTOP-M5SN04R')",
        "logon_type, status, sub_status, failure_reason, ip, target_user",
    )
    assert row[0] == 3
    assert row[1] == "0xC000006D" and row[2] in {"0xC000006A", "0xC0000064"}
    assert row[3] == "%%2313" and row[4] == "192.168.198.149"


def test_lsm_columns_and_activity_id(rdp_case: Path) -> None:
    rows = (
        rdp_case()
        .execute(
            "select event_id, target_user, target_domain, lsm_session_id, ip, activity_id from events "
            "where channel like '%LocalSessionManager%' and event_id in (21, 25) order by time"
        )
        .fetchall()
    )
    assert rows[0][:5] == (21, "vagrant", "WINDOMAIN", 1, "LOCAL")
    assert rows[0][5] == "61A55000-55E5-1017-0000-000000000000"  # the constant console id
    assert rows[1][:5] == (25, "vagrant", "WINDOMAIN", 1, "192.168.38.1")


def test_security_4778_4779_columns(rdp_case: Path) -> None:
    row = _one(
        rdp_case,
        "event_id = 4778 and host = 'dc.windomain.local'",
        "target_user, target_domain, target_logon_id, workstation, ip",
    )
    assert row[0] == "vagrant" and row[2] is not None
    assert row[3] == "silversurfer" and row[4] == "192.168.38.1"


def test_rcm_1149_and_rdpcorets_131_columns(rdp_case: Path) -> None:
    row = _one(rdp_case, "event_id = 1149 and host = 'dc.windomain.local'", "target_user, ip")
    assert row == ("vagrant", "192.168.38.1")
    wef = (
        rdp_case()
        .execute(
            "select distinct target_user, ip from events where event_id = 1149 and host <> 'dc.windomain.local'"
        )
        .fetchall()
    )
    assert wef == [("admmig", "10.23.123.11")]  # EventID written as a string in WEF files
    ports = (
        rdp_case()
        .execute(
            "select count(*), count(port), min(ip) from events where event_id = 131 "
            "and channel like '%RdpCoreTS%'"
        )
        .fetchone()
    )
    assert ports[0] == ports[1] == 126 and ":" not in ports[2]


def test_winlogon_and_shutdown_columns(rdp_case: Path) -> None:
    tsids = (
        rdp_case()
        .execute(
            "select lsm_session_id, target_sid from events where channel = 'System' and event_id in (7001, 7002) "
            "and provider like '%Winlogon%' order by time"
        )
        .fetchall()
    )
    assert tsids and all(t[0] is not None and t[1].startswith("S-1-5-21") for t in tsids)
    row = _one(rdp_case, "channel = 'System' and event_id = 1074", "target_user, process_name")
    assert row[0] == "vagrant" and row[1]


def test_records_without_a_time_are_kept_and_flagged(rdp_case: Path) -> None:
    nulls = rdp_case().execute("select count(*) from events where time is null").fetchone()[0]
    assert nulls == 0


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads any file; see test_bad_input for the root case"
)
def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "locked.evtx"
    path.write_bytes(evidence(f"{RDPAUTH}/RDPAuth_LocalSessionManager.evtx").read_bytes())
    path.chmod(0)
    result = run_cli_inline("ingest", path, "--case", tmp_path / "c", "--quiet")
    assert result.returncode == 2 and "permission denied" in result.stderr.lower()


def test_data_holds_the_whole_payload_of_every_record(full_case: Path) -> None:
    """`data` is EventData (or UserData) exactly as the parser gave it, for every record,
    including forwarded events that carry RenderingInfo after their EventData."""
    files = [
        evidence(RDPAUTH),
        evidence(
            "mdecrevoisier__EVTX-to-MITRE-Attack/TA0001-Initial_access/T1078-Valid_accounts/ID1149-RDP_success_logins_to_multiple_hosts.evtx"
        ),
        evidence("williballenthin__python-evtx/tests/data/system.evtx"),
    ]
    stored = {
        (host, channel, rid): data
        for host, channel, rid, data in _of(full_case, files)
        .execute("select host, channel, record_id, data from events")
        .fetchall()
    }
    paths = [p for f in files for p in (sorted(f.rglob("*.evtx")) if f.is_dir() else [f])]
    seen = 0
    for path in paths:
        for event in _bare_records(path):
            system = event["System"]
            payload = event.get("EventData", event.get("UserData"))
            data = stored[
                (system.get("Computer"), system.get("Channel"), int(system["EventRecordID"]))
            ]
            assert (json.loads(data) if data is not None else None) == payload, path
            seen += 1
    assert seen == len(stored) == 789 + 186 + 17 + 4 + 11 + 1601
