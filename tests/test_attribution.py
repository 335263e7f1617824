"""Activity attribution on real events, checked against what the logs say when read by eye.

Velociraptor RDPAuth fixture (dc.windomain.local, 2021-02-12), read by eye: vagrant's console
logon 12:33:51 has the UAC pair 0x513B3/0x513DA; the RDP reconnect at 12:34:25 carries on under
the same 0x513DA, so the one logon id is split by time between two sessions.

| Security record | time | event | SubjectLogonId | session |
|---|---|---|---|---|
| 506405 | 12:33:55 | 4688 explorer.exe | 0x513DA | console 12:33:51 |
| 506476-506478 | 12:34:14-17 | 4688 vm3dservice, vmtoolsd, wscript bginfo.vbs | 0x513DA | console 12:33:51 |
| 506545 | 12:34:32 | 4688 bginfo.exe | 0x513DA | reconnect 12:34:25 |
| 506556, 506557 | 12:34:40 | 4688 ShellExperienceHost.exe | 0x513DA | reconnect 12:34:25 |
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from logonscope.storage.case import connect
from tests.cases import evidence_case
from tests.conftest import RDPAUTH, evidence, run_cli_inline

pytestmark = pytest.mark.evidence


@pytest.fixture(scope="module")
def rdp_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return evidence_case(tmp_path_factory, "velociraptor", evidence(RDPAUTH))


def test_process_creations_land_in_the_session_owning_their_logon_id(rdp_case: Path) -> None:
    con = connect(rdp_case)
    rows = con.execute(
        """SELECT a.summary, a.confidence, s.user_key, s.start, s."end", a.time,
                  list_contains(s.logon_ids, e.subject_logon_id)
           FROM activity a JOIN events e USING (evidence_sha256, record_id)
           JOIN sessions s USING (session_id)
           WHERE a.event_id = 4688 AND s.user_key = 'vagrant'"""
    ).fetchall()
    assert rows, "vagrant's processes are attributed"
    for summary, confidence, _user, start, end, time, owns in rows:
        assert confidence == "logon_id" and owns, summary
        assert start.timestamp() - 2 <= time.timestamp() and (end is None or time <= end)
    by_record = dict(
        con.execute(
            """SELECT a.record_id, strftime(s.start, '%H:%M:%S') || CASE WHEN s.is_reconnect
                  THEN ' reconnect' ELSE ' console' END
           FROM activity a JOIN sessions s USING (session_id)
           WHERE a.event_id = 4688 AND s.user_key = 'vagrant'"""
        ).fetchall()
    )
    assert by_record == {
        506405: "12:33:51 console",
        506476: "12:33:51 console",
        506477: "12:33:51 console",
        506478: "12:33:51 console",
        506545: "12:34:25 reconnect",
        506556: "12:34:25 reconnect",
        506557: "12:34:25 reconnect",
    }


def test_system_processes_stay_unattributed_but_listed(rdp_case: Path) -> None:
    con = connect(rdp_case)
    unattributed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE match_note IS NULL) FROM activity "
        "WHERE session_id IS NULL"
    ).fetchall()[0]
    assert unattributed[0] > 0 and unattributed[1] == 0
    n = con.execute("SELECT sum(n_activity) FROM sessions").fetchall()[0][0]
    assert n == con.execute("SELECT count(session_id) FROM activity").fetchall()[0][0]


def test_session_detail_lists_its_activity(rdp_case: Path) -> None:
    con = connect(rdp_case)
    sid = con.execute(
        "SELECT session_id FROM activity WHERE event_id = 4688 AND session_id IS NOT NULL LIMIT 1"
    ).fetchall()[0][0]
    detail = json.loads(
        run_cli_inline("session", "--case", rdp_case, sid, "--format", "json").stdout
    )
    assert detail["n_activity"] == len(detail["activity"]) > 0
    assert {"summary", "confidence", "time", "record_id"} <= set(detail["activity"][0])


def test_import_attributes_good_rows_and_reports_bad_lines(rdp_case: Path, tmp_path: Path) -> None:
    case = Path(shutil.copytree(rdp_case, tmp_path / "c"))  # imports change it: a copy
    csv_file = tmp_path / "mft.csv"
    csv_file.write_text(
        "time,host,user,description\n"
        "2021-02-12T12:34:35Z,dc.windomain.local,WINDOMAIN\\vagrant,file opened: C:\\secret.docx\n"
        "yesterday,dc,vagrant,bad time\n"
        "2021-02-12T12:33:55Z,DC,vagrant,prefetch: CMD.EXE\n"
        ",dc,vagrant,no time\n"
    )
    jsonl_file = tmp_path / "browser.jsonl"
    jsonl_file.write_text(
        '{"timestamp": "2021-02-12T12:34:36+00:00", "computer": "dc", "username": "vagrant", "message": "visited http://x"}\n'
        "{not json\n"
        '{"timestamp": "2021-02-12T12:34:37Z", "computer": "dc", "username": "vagrant"}\n'
    )
    first = run_cli_inline("import-activity", csv_file, "--case", case)
    assert first.returncode == 0, first.stderr
    assert f"{csv_file}:3: skipped: unreadable time 'yesterday'" in first.stderr
    assert f"{csv_file}:5: skipped: missing time" in first.stderr
    second = run_cli_inline("import-activity", jsonl_file, "--case", case)
    assert f"{jsonl_file}:2: skipped: not JSON" in second.stderr
    assert f"{jsonl_file}:3: skipped: missing description" in second.stderr
    con = connect(case)
    rows = con.execute(
        """SELECT a.summary, a.confidence, s.is_reconnect, strftime(s.start, '%H:%M:%S')
           FROM activity a JOIN sessions s USING (session_id)
           WHERE a.channel IN ('mft.csv', 'browser.jsonl') ORDER BY a.time"""
    ).fetchall()
    assert rows == [
        ("prefetch: CMD.EXE", "user+time", False, "12:33:51"),
        ("file opened: C:\\secret.docx", "user+time", True, "12:34:25"),
        ("visited http://x", "user+time", True, "12:34:25"),
    ]
    assert "already imported" in run_cli_inline("import-activity", csv_file, "--case", case).stderr


def test_explicit_credentials_of_a_reconnected_rdp_user_land_in_that_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Belkasoft DESKTOP-23PS6ES, 2020-08-01: `User` reconnects over RDP at 21:17:25 (LSM 25) and
    types domain credentials (anit.ghosh, administrator) for PM.praivacymatrix.com 21 times (4648
    records 901-909, 915-926, SubjectLogonId 0x1E4ED). 0x1E4ED is the desktop logon it
    reconnects to: 4624 #702, written 2021-02-13 19:56:38 before the clock was set back, earlier
    in record order in the same boot. No 4778 names it; the reconnect learns it through LSM 25's
    session id, so they land in the reconnect by logon id."""
    from tests.conftest import BELKASOFT

    # the run's shared case of the whole Belkasoft folder (its Security and LSM logs and the
    # rest), not an ingest and build of the two logs of its own
    case = evidence_case(
        tmp_path_factory, "belkasoft", evidence(f"{BELKASOFT}/Security.evtx").parent
    )
    rows = (
        connect(case)
        .execute(
            """SELECT a.record_id, a.confidence, s.user, s.logon_type, s.is_reconnect,
                  strftime(s.start, '%H:%M:%S'), a.summary
           FROM activity a JOIN events e USING (evidence_sha256, record_id)
           LEFT JOIN sessions s USING (session_id)
           WHERE a.event_id = 4648 AND e.subject_logon_id = 124141 ORDER BY a.record_id"""
        )
        .fetchall()
    )
    assert [r[0] for r in rows] == [*range(901, 910), *range(915, 927)]
    for _record, confidence, user, logon_type, reconnect, start, summary in rows:
        assert (confidence, user, logon_type, reconnect, start) == (
            "logon_id",
            "User",
            10,
            True,
            "21:17:25",
        )
        assert summary.startswith("explicit credentials for ") and summary.endswith(
            " on PM.praivacymatrix.com"
        )
