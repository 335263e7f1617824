"""Host identity (renamed hosts are one machine) and signs of tampering (log clears, missing
records), on generated scenarios with their truth and on the real Belkasoft logs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.cases import evidence_case, scenario_case
from tests.conftest import BELKASOFT, evidence, run_cli_inline


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return scenario_case(tmp_path_factory, ["host-rename"], seed=1)


@pytest.fixture(scope="module")
def cleared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return scenario_case(tmp_path_factory, ["log-cleared"], seed=1)


def test_renamed_host_is_one_machine_in_sessions_users_and_filters(renamed):
    from logonscope.analysis import lookup, queries
    from logonscope.storage.case import connect

    gen, case = renamed
    truth = json.loads((gen / "truth.json").read_text())
    written = {s["host"] for s in truth["sessions"]}
    assert written == {"SRV01.corp.example.com", "WKS-7.corp.example.com"}
    con = connect(case)
    # both names, one machine under its latest name; each session keeps the name it wrote
    assert {r[0] for r in con.execute("SELECT DISTINCT host_key FROM sessions").fetchall()} == {
        "wks-7"
    }
    assert {r[0] for r in con.execute("SELECT DISTINCT host FROM sessions").fetchall()} == written
    users = {
        u["user_key"]: u for u in queries.users(con, queries.Filters(show_system=True)).to_pylist()
    }
    assert users["system"]["n_hosts"] == 1 and users["system"]["hosts"] == ["wks-7"]
    # the old name, short or full, selects the machine's every session
    every = queries.sessions(con, queries.Filters(show_system=True)).num_rows
    for name in ("SRV01", "srv01.corp.example.com", "WKS-7"):
        assert queries.sessions(con, queries.Filters(host=name, show_system=True)).num_rows == every
    facets = lookup.facets(con)
    assert len(facets.hosts) == 1 and facets.hosts[0] == "WKS-7.corp.example.com"
    assert lookup.host_names(con, "srv01") == ["SRV01.corp.example.com", "WKS-7.corp.example.com"]
    detail = queries.session_detail(con, queries.sessions(con).to_pylist()[0]["session_id"])
    assert detail is not None
    assert detail["host_names"] == ["SRV01.corp.example.com", "WKS-7.corp.example.com"]


def test_cli_host_option_resolves_an_old_name(renamed):
    _gen, case = renamed
    old = run_cli_inline("sessions", "--case", case, "--host", "SRV01", "--format", "json")
    new = run_cli_inline("sessions", "--case", case, "--host", "wks-7", "--format", "json")
    assert old.returncode == 0, old.stderr
    rows = json.loads(old.stdout)
    assert rows and rows == json.loads(new.stdout)
    assert {r["user"] for r in rows} == {"alice", "bob"}


def test_log_cleared_signs_equal_truth(cleared):
    from logonscope.storage.case import connect

    gen, case = cleared
    truth = json.loads((gen / "truth.json").read_text())
    con = connect(case)
    sha = {
        Path(p).resolve(): s for p, s in con.execute("SELECT path, sha256 FROM evidence").fetchall()
    }
    want = sorted(
        (
            t["kind"],
            t["host"],
            t["channel"],
            sha[(gen / t["file"]).resolve()],
            t["record_id"],
            t["record_to"],
            t["user"],
        )
        for t in truth["tampering"]
    )
    got = sorted(
        con.execute(
            'SELECT kind, host, channel, evidence_sha256, record_id, record_to, "user" '
            "FROM tampering"
        ).fetchall()
    )
    assert got == want and len(got) == 3
    flagged = {r[0] for r in con.execute("SELECT user_key FROM sessions WHERE tampered").fetchall()}
    assert flagged == {s["user"] for s in truth["sessions"] if s["tampered"]} == {"dave"}
    from logonscope.analysis import queries

    (sid,) = [
        r[0] for r in con.execute("SELECT session_id FROM sessions WHERE tampered").fetchall()
    ]
    signs = queries.session_detail(con, sid)["tampering_signs"]
    assert [s.split(":")[0] for s in signs] == ["records missing", "log cleared", "log cleared"]
    assert "6 record ids" in signs[0] and signs[1].endswith("by CORP\\dave")


def test_tampering_command_lists_every_sign(cleared):
    _gen, case = cleared
    out = run_cli_inline("tampering", "--case", case, "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [(r["kind"], r["channel"]) for r in rows] == [
        ("records missing", "Security"),
        ("log cleared", "Security"),
        ("log cleared", "System"),
    ]
    assert rows[0]["missing"] == 6 and rows[1]["user"] == "CORP\\dave"
    text = run_cli_inline("tampering", "--case", case)
    assert "records missing" in text.stdout and "CORP\\dave" in text.stdout


@pytest.mark.evidence
def test_belkasoft_names_are_one_host(tmp_path_factory: pytest.TempPathFactory):
    from logonscope.analysis import lookup, queries
    from logonscope.storage.case import connect

    case = evidence_case(
        tmp_path_factory, "belkasoft", evidence(f"{BELKASOFT}/Security.evtx").parent
    )
    con = connect(case)
    keys = {r[0] for r in con.execute("SELECT DISTINCT host_key FROM sessions").fetchall()}
    assert keys == {"desktop-23ps6es"}
    names = lookup.host_names(con, "WIN-AN5B2T7E4GI")
    assert {"WIN-AN5B2T7E4GI", "DESKTOP-23PS6ES", "DESKTOP-23PS6ES.praivacymatrix.com"} <= set(
        names
    )
    assert len(lookup.facets(con).hosts) == 1
    users = queries.users(con, queries.Filters(show_system=True)).to_pylist()
    assert all(u["n_hosts"] == 1 for u in users)
    every = queries.sessions(con, queries.Filters(show_system=True)).num_rows
    old = queries.sessions(con, queries.Filters(host="WIN-AN5B2T7E4GI", show_system=True))
    assert old.num_rows == every


def test_one_machine_is_keyed_by_its_latest_name_deterministically():
    from logonscope.analysis.hosts import canonical_hosts

    # win-old -> desk -> desk2: the name no other replaced is the key, whatever the counts
    pairs = [("desk", "win-old"), ("desk2", "desk")]
    assert canonical_hosts(pairs, {"win-old": 900, "desk": 50, "desk2": 1}) == {
        "win-old": "desk2",
        "desk": "desk2",
        "desk2": "desk2",
    }
    # two later names of one old one: the busier, then the alphabetically first
    forks = [("b", "a"), ("c", "a")]
    assert canonical_hosts(forks, {"b": 5, "c": 9})["a"] == "c"
    assert canonical_hosts(forks, {})["a"] == "b"
    assert canonical_hosts([], {"x": 3}) == {}


def test_detail_shows_the_clock_changes_a_session_spans(tmp_path_factory: pytest.TempPathFactory):
    from logonscope.analysis import queries
    from logonscope.storage.case import connect
    from logonscope.tui.widgets.detail import summary_table

    gen, case = scenario_case(tmp_path_factory, ["clock-change"], seed=1)
    truth = json.loads((gen / "truth.json").read_text())
    (spanning,) = [s for s in truth["sessions"] if s["clock_changed"] and s["user"] == "carol"]
    con = connect(case)
    (sid,) = [
        r[0]
        for r in con.execute("SELECT session_id, user FROM sessions WHERE clock_changed").fetchall()
        if r[1].lower() == spanning["user"].lower()
    ]
    detail = queries.session_detail(con, sid)
    assert detail is not None
    (change,) = detail["clock_changes"]
    old, new = change.split(" UTC")[0].split(" -> ")
    shift = dt.datetime.fromisoformat(new) - dt.datetime.fromisoformat(old)
    assert shift == dt.timedelta(hours=-3)  # the scenario sets the clock back 3 h
    assert "(Security 4616 record " in change or "(System Kernel-General 1 record " in change
    rows = dict(zip(*summary_table(detail).to_pydict().values(), strict=True))
    assert rows["clock_changed"] == "yes" and rows["clock_changes"] == change
    unchanged = con.execute("SELECT session_id FROM sessions WHERE NOT clock_changed").fetchall()
    assert queries.session_detail(con, unchanged[0][0])["clock_changes"] is None


@pytest.mark.evidence
def test_real_security_log_clear_is_listed_with_who_cleared_it(tmp_path: Path):
    from logonscope.analysis import tampering
    from logonscope.analysis.build import build
    from logonscope.storage.case import connect
    from logonscope.storage.ingest import ingest

    sample = evidence("sans-blue-team__DeepBlueCLI/evtx/password-spray.evtx")
    ingest([sample], tmp_path / "case", jobs=1)
    build(tmp_path / "case")
    rows = tampering.listed(connect(tmp_path / "case")).to_pylist()
    assert [(r["kind"], r["channel"], r["record_id"], r["user"]) for r in rows] == [
        ("log cleared", "Security", 42803, "DESKTOP-JR78RLP\\jwrig")
    ]
