"""Each link rule on its own generated scenario: what an investigator reads in the session
row and its sources, beyond the truth.json comparison of tests/test_sessions_truth.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cases import set_shas
from tests.test_sessions_truth import _generate_and_ingest, compare


def _built(factory: pytest.TempPathFactory, scenario: str):
    from logonscope.storage.case import connect

    gen, case = _generate_and_ingest(factory, [scenario], seed=1)
    assert compare(gen, case) == []
    con = connect(case)
    # the case holds other generated sets too: this set's sessions are those of its files
    con.execute(
        """CREATE TEMP TABLE mine AS SELECT DISTINCT session_id FROM session_sources
           WHERE list_contains(?, evidence_sha256)""",
        [set_shas(con, gen)],
    )
    sessions = (
        con.sql("SELECT * FROM sessions WHERE NOT system AND session_id IN (FROM mine)")
        .to_arrow_table()
        .to_pylist()
    )
    sources = (
        con.sql(
            """SELECT s.*, e.target_logon_id FROM session_sources s
           JOIN events e USING (evidence_sha256, record_id)
           WHERE s.session_id IN (FROM mine)"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    return sessions, sources


def _of(sources, session_id: str) -> list[tuple[str, int, str]]:
    return [
        (r["channel"], r["event_id"], r["role"]) for r in sources if r["session_id"] == session_id
    ]


def test_reconnect_without_4778_is_ended_by_the_original_ids_logoff(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    sessions, sources = _built(tmp_path_factory, "reconnect-no-4778")
    first, again = sorted((s for s in sessions if s["logon_type"] == 10), key=lambda s: s["start"])
    assert not first["is_reconnect"] and again["is_reconnect"]
    assert first["end_reason"] == "disconnect"
    assert again["end_reason"] == "logoff"
    (logoff,) = [
        r for r in sources if r["session_id"] == again["session_id"] and r["event_id"] == 4647
    ]
    # the 4647 names the first session's id: the reconnect learned it through LSM 25
    assert logoff["target_logon_id"] in first["logon_ids"]
    assert logoff["target_logon_id"] in again["logon_ids"]
    assert logoff["time"] == again["end"] and logoff["role"] == "logoff"
    assert again["lsm_session_id"] == first["lsm_session_id"]


def test_rdp_logon_without_lsm21_takes_its_lsm_session_from_lsm41(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    sessions, sources = _built(tmp_path_factory, "rdp-no-lsm21")
    (rdp,) = [s for s in sessions if s["logon_type"] == 10]
    assert rdp["lsm_session_id"] == 2 and rdp["end_reason"] == "logoff"
    got = {(ch.split("-")[-1], eid) for ch, eid, _ in _of(sources, rdp["session_id"])}
    # Winlogon 7001/7002 and LSM 23/40/24 name only the LSM session id
    assert {("System", 7001), ("System", 7002)} <= got
    assert {("LocalSessionManager/Operational", e) for e in (41, 42, 23, 40, 24)} <= got


def test_rdp_connection_long_before_the_logon_is_linked_by_activity_id(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    sessions, sources = _built(tmp_path_factory, "rdp-slow-logon")
    (rdp,) = [s for s in sessions if s["logon_type"] == 10]
    (connect,) = [
        r for r in sources if r["session_id"] == rdp["session_id"] and r["event_id"] == 261
    ]
    assert (rdp["start"] - connect["time"]).total_seconds() > 30


def test_logoffs_minutes_after_the_end_are_late_logoffs_that_move_nothing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    sessions, sources = _built(tmp_path_factory, "late-logoff")
    (desk,) = [s for s in sessions if s["logon_type"] == 2 and s["user_key"] == "bob"]
    mine = [r for r in sources if r["session_id"] == desk["session_id"]]
    (logoff,) = [r for r in mine if r["event_id"] == 4647]
    assert desk["end"] == logoff["time"] and desk["end_reason"] == "logoff"
    late = [r for r in mine if r["role"] == "late logoff"]
    assert [r["event_id"] for r in late] == [4634]
    assert (late[0]["time"] - desk["end"]).total_seconds() >= 120
    assert late[0]["target_logon_id"] in desk["logon_ids"]


def test_clock_set_back_keeps_times_as_written_and_flags_the_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    sessions, sources = _built(tmp_path_factory, "clock-change")
    carol = next(s for s in sessions if s["user_key"] == "carol")
    bob = next(s for s in sessions if s["user_key"] == "bob")
    # carol's logoff is written ~3 h before her logon: the clock went back in between
    assert carol["end"] < carol["start"] and carol["clock_changed"]
    assert carol["end_reason"] == "logoff"
    mine = [r for r in sources if r["session_id"] == carol["session_id"]]
    assert max(r["time"] for r in mine) > carol["end"]  # sources keep their written times
    # bob's logon is written before the boot holding it, and nothing ends it
    assert bob["end"] is None and bob["end_reason"] == "none seen"
    assert not bob["clock_changed"]


def test_clock_change_in_rolled_over_logs_equals_truth(tmp_path: Path) -> None:
    """A later Security/System file begins in the era its own first change follows, not in
    the first era: here the two changes land in two rolled-over Security files."""
    from logonscope.storage.case import connect
    from logonscope.storage.ingest import ingest
    from logonscope.storage.scenarios import generate

    gen, case = tmp_path / "gen", tmp_path / "case"
    generate(gen, ["bulk", "clock-change"], events=2500, max_bytes=4096 + 0x10000, seed=6)
    ingest([gen], case, jobs=1)
    files_with_a_change = (
        connect(case)
        .execute(
            """SELECT count(DISTINCT evidence_sha256) FROM events
           WHERE channel = 'Security' AND event_id = 4616"""
        )
        .fetchone()
    )
    assert files_with_a_change == (2,)
    assert compare(gen, case) == []
