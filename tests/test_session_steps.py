"""The session rules as data: the event table is consistent, and single steps run on their own."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from logonscope.analysis.session_rules import EVENT_RULES, SRC_CHANNELS, Rank, Rules
from logonscope.analysis.sessions import STEPS, run_steps
from logonscope.storage.schema import EVENTS_SCHEMA
from logonscope.storage.vocabulary import GATEWAY, KERNEL_GENERAL, LSM, SECURITY, SYSTEM
from tests.session_logs import CONSOLE, RDP_ACT, Log


def _con(log: Log) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("events", pa.Table.from_pylist(log.rows, schema=EVENTS_SCHEMA))
    return con


def test_each_event_has_one_rule_and_every_rank_a_step():
    keys = [(r.channel, r.event_id, r.provider) for r in EVENT_RULES]
    assert len(keys) == len(set(keys))
    assert {r.rnk for r in EVENT_RULES if r.rnk is not None} == set(Rank) - {Rank.NLA}
    # one src code per channel, and back
    assert len(SRC_CHANNELS) == len(set(SRC_CHANNELS.values()))
    assert SRC_CHANNELS["sec"] == SECURITY and SRC_CHANNELS["sys"] == SYSTEM


def test_events_step_keeps_only_ruled_events_and_drops_the_console_activity():
    log = Log()
    log.add(0, SYSTEM, 12, provider=KERNEL_GENERAL)  # boot
    log.add(1, SYSTEM, 12, provider="Some-Other-Provider")  # same id, not a boot
    log.add(2, SECURITY, 4688)  # not a session event
    log.lsm(3, 21, "alice", 2, act=CONSOLE)
    log.lsm(4, 21, "alice", 3, act=RDP_ACT.lower())
    con = _con(log)
    run_steps(con, upto="01_events")
    rows = con.sql(
        "SELECT record_id, kind, rnk, role, marker, act FROM _ls_ev ORDER BY 1"
    ).fetchall()
    assert rows == [
        (1, "boot", None, "boot", "boot", None),
        (4, "session_logon", int(Rank.SESSION), "logon", None, None),
        (5, "session_logon", int(Rank.SESSION), "logon", None, RDP_ACT),
    ]
    # later steps have not run
    later = "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_ls_unit'"
    assert con.execute(later).fetchall() == [(0,)]


@pytest.mark.parametrize(
    ("gap", "uac_window", "units"), [(0.5, 1.0, 1), (1.5, 1.0, 2), (1.5, 2.0, 1)]
)
def test_uac_pair_collapses_within_the_uac_window_of_rules(gap, uac_window, units):
    log = Log()
    log.logon(10, "alice", 0x10, 2, linked_logon_id=0x11, elevated=True)
    log.logon(10 + gap, "alice", 0x11, 2, linked_logon_id=0x10, elevated=False)
    con = _con(log)
    run_steps(con, Rules(uac_window=uac_window), upto="04_units")
    assert con.execute("SELECT count(*) FROM _ls_units").fetchall() == [(units,)]


def test_steps_are_the_sql_files_in_order_and_unknown_steps_are_refused():
    assert list(STEPS) == sorted(STEPS)
    with pytest.raises(ValueError):
        run_steps(duckdb.connect(), upto="99_nothing")
    with pytest.raises(ValueError):
        run_steps(duckdb.connect(), events="events; DROP TABLE x")


def test_lsm_channel_round_trips_through_src():
    assert SRC_CHANNELS["lsm"] == LSM


def _clock_tables(log: Log) -> dict[str, list[tuple[str, str]]]:
    con = _con(log)
    run_steps(con, upto="01b_clock")
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY 1"
        ).fetchall()
    ]
    return {n: [(c[0], c[1]) for c in con.execute(f"DESCRIBE {n}").fetchall()] for n in names}


def test_a_log_without_clock_changes_gets_the_clock_tables_of_one_with_them():
    # a task with no clock change skips the clock step's statements (01b_clock_none.sql
    # declares its tables): the tables, columns and types must be those the step makes
    quiet = Log()
    quiet.logon(10, "alice", 0x10, 2)
    changed = Log()
    changed.logon(10, "alice", 0x10, 2)
    old, new = "2024-03-01T10:00:20Z", "2024-03-01T13:00:20Z"
    changed.add(20, SECURITY, 4616, data=f'{{"PreviousTime": "{old}", "NewTime": "{new}"}}')
    changed.logon(30, "alice", 0x11, 2)
    con = _con(changed)
    run_steps(con, upto="01b_clock")
    assert con.execute("SELECT count(*) FROM _ls_clock").fetchall() == [(1,)]
    assert _clock_tables(quiet) == _clock_tables(changed)


def test_a_log_without_gateway_connects_gets_the_gateway_tables_of_one_with_them():
    # no RD Gateway 302 naming a user: step 08b is skipped (08b_gateway_none.sql declares its
    # tables); one with a 302 that pairs with no session runs the step and finds nothing
    quiet = Log()
    quiet.logon(10, "alice", 0x10, 10, ip="10.0.0.5")
    busy = Log()
    busy.logon(10, "alice", 0x10, 10, ip="10.0.0.5")
    busy.add(12, GATEWAY, 302, target_user="bob", ip="203.0.113.9")
    tables = []
    for log in (quiet, busy):
        con = _con(log)
        run_steps(con, upto="08b_gateway")
        assert con.execute("SELECT count(*) FROM _ls_gw").fetchall() == [(0,)]
        tables.append(
            {
                n: [(c[0], c[1]) for c in con.execute(f"DESCRIBE {n}").fetchall()]
                for n in ("_ls_gw", "_ls_gw303", "_ls_all0")
            }
        )
    assert tables[0] == tables[1]
