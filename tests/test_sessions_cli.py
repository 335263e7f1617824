"""`logonscope sessions|users|user-ips|session` and the derived-table build, as a user runs them.

Uses the Velociraptor RDPAuth and Belkasoft samples from ../shared/evidence (skipped when absent).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cases import evidence_case
from tests.conftest import BELKASOFT, RDPAUTH, evidence, run_cli_inline

pytestmark = pytest.mark.evidence


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The RDPAuth folder's case, shared with the other modules that only read it."""
    return evidence_case(tmp_path_factory, "velociraptor", evidence(RDPAUTH))


def _json(*args: str):
    done = run_cli_inline(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sessions_json_is_an_array_of_session_objects_with_utc_times(case):
    rows = _json("sessions", "--case", case, "--format", "json")
    assert [r["user_key"] for r in rows] == ["vagrant", "vagrant"]
    from logonscope.analysis.sessions import SESSION_COLUMNS

    assert list(rows[0]) == list(SESSION_COLUMNS)
    assert all(r["start"].endswith("Z") and r["end"].endswith("Z") for r in rows)
    assert (case / "derived" / "sessions.parquet").exists()


def test_all_includes_system_sessions(case):
    hidden = _json("sessions", "--case", case, "--format", "json")
    everything = _json("sessions", "--case", case, "--format", "json", "--all")
    assert len(everything) > len(hidden)
    assert any(r["system"] for r in everything) and not any(r["system"] for r in hidden)


def test_filters_user_any_form_ip_time_and_failed(case):
    rows = _json(
        "sessions",
        "--case",
        case,
        "--format",
        "json",
        "--user",
        "WINDOMAIN\\Vagrant",
        "--ip",
        "::ffff:192.168.38.1",
    )
    assert len(rows) == 1 and rows[0]["is_reconnect"] and rows[0]["src_host"] == "silversurfer"
    assert _json("sessions", "--case", case, "--format", "json", "--failed") == []
    late = _json("sessions", "--case", case, "--format", "json", "--since", "2021-02-12T12:34:29Z")
    assert [r["logon_kind"] for r in late] == ["RemoteInteractive"]
    early = _json("sessions", "--case", case, "--format", "json", "--until", "2021-02-12T12:34:00")
    assert [r["logon_kind"] for r in early] == ["Interactive"]
    assert (
        _json(
            "sessions",
            "--case",
            case,
            "--format",
            "json",
            "--host",
            "DC.windomain.local",
            "--kind",
            "RemoteInteractive",
        )[0]["host_key"]
        == "dc"
    )


def test_csv_and_jsonl_formats(case):
    out = run_cli_inline("sessions", "--case", case, "--format", "csv").stdout
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 2 and table[0]["user_key"] == "vagrant"
    lines = run_cli_inline("sessions", "--case", case, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["user_key"] for line in lines] == ["vagrant", "vagrant"]


def test_table_format_prints_rows(case):
    done = run_cli_inline("sessions", "--case", case)
    assert done.returncode == 0 and "vagrant" in done.stdout and "(2 rows)" in done.stdout


def test_users_and_user_ips(case):
    (user,) = _json("users", "--case", case, "--format", "json")
    assert user["user_key"] == "vagrant" and user["sessions"] == 2 and user["reconnects"] == 1
    assert user["n_src_ips"] == 2 and user["hosts"] == ["dc"]
    ips = _json("user-ips", "--case", case, "--format", "json", "--user", "vagrant")
    assert {r["src_ip"] for r in ips} == {"127.0.0.1", "192.168.38.1"}
    rdp = next(r for r in ips if r["src_ip"] == "192.168.38.1")
    assert rdp["src_ip_class"] == "private" and rdp["src_network"] == "192.168.38.0/24"
    assert rdp["user_share"] == 0.5 and rdp["case_users"] == 1


def test_session_detail_json_has_sources_with_evidence_paths(case):
    rc = next(r for r in _json("sessions", "--case", case, "--format", "json") if r["is_reconnect"])
    detail = _json("session", "--case", case, rc["session_id"], "--format", "json")
    assert detail["session_id"] == rc["session_id"]
    assert all(a["session_id"] == rc["session_id"] for a in detail["activity"])
    roles = {(s["event_id"], s["role"]) for s in detail["sources"]}
    assert {(4778, "reconnect"), (25, "reconnect"), (1149, "auth"), (4647, "logoff")} <= roles
    assert all(
        s["evidence_path"].endswith(".evtx") and s["time"].endswith("Z") for s in detail["sources"]
    )
    table = run_cli_inline("session", "--case", case, rc["session_id"])
    assert table.returncode == 0 and "silversurfer" in table.stdout


def test_bad_usage_exits_2(case, tmp_path):
    unknown = run_cli_inline("session", "--case", case, "no-such-id", "--format", "json")
    assert unknown.returncode == 2 and "no session" in unknown.stderr
    not_case = run_cli_inline("sessions", "--case", tmp_path / "nothing")
    assert not_case.returncode == 2
    bad_time = run_cli_inline("sessions", "--case", case, "--since", "yesterday-ish")
    assert bad_time.returncode == 2 and "ISO 8601" in bad_time.stderr


def test_query_sees_the_derived_views(case):
    _json("sessions", "--case", case, "--format", "json")  # builds if needed
    rows = _json(
        "query",
        "--case",
        case,
        "--format",
        "json",
        "SELECT count(*) AS n FROM session_sources JOIN sessions USING (session_id)"
        " JOIN users USING (user_key) JOIN user_ips USING (user_key, src_ip)"
        " WHERE (SELECT count(*) FROM host_aliases) = 0",
    )
    assert rows[0]["n"] > 0


def test_build_is_skipped_when_evidence_is_unchanged_and_per_host_when_it_changes(tmp_path: Path):
    from logonscope.analysis.build import build, ensure_built
    from logonscope.analysis.build_state import is_stale
    from logonscope.storage.case import connect
    from logonscope.storage.ingest import ingest

    root = tmp_path / "case"
    ingest([evidence(f"{RDPAUTH}/RDPAuth_Security.evtx").parent], root, jobs=1)
    first = build(root)
    assert first.rebuilt and first.hosts_rebuilt == ["dc"]
    assert not is_stale(root) and not ensure_built(root).rebuilt
    before = (
        connect(root)
        .sql("SELECT session_id FROM sessions WHERE host_key = 'dc' ORDER BY 1")
        .fetchall()
    )

    ingest([evidence(f"{BELKASOFT}/Security.evtx").parent], root, jobs=1)
    assert is_stale(root)
    second = ensure_built(root)
    assert second.rebuilt and "dc" not in second.hosts_rebuilt and second.hosts_kept == 1
    con = connect(root)
    after = con.sql("SELECT session_id FROM sessions WHERE host_key = 'dc' ORDER BY 1").fetchall()
    assert after == before
    full = build(root, force=True)
    assert full.sessions == second.sessions and full.sources == second.sources


def test_a_command_on_a_built_case_opens_it_once(case, monkeypatch):
    """The staleness check reads the case's files; only the command's own query opens it."""
    from logonscope.storage import connection

    opened: list[object] = []
    real = connection.connect

    def counting(where=None, *args, **kwargs):
        if where is not None:
            opened.append(where)
        return real(where, *args, **kwargs)

    monkeypatch.setattr(connection, "connect", counting)
    assert _json("sessions", "--case", str(case), "--format", "json", "--all")
    assert len(opened) == 1
