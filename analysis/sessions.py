"""Logon sessions: correlate the events of a case into investigator sessions.

`build_sessions(con)` reads the `events` view of a DuckDB connection and returns two Arrow
tables, `sessions` and `session_sources`. Everything is set-based SQL (window functions, ASOF
and equi-joins over temp tables); no Python loop ever walks the events.

The rules are data and text: `analysis.session_rules` says which (channel, event id) is which
kind of event, with which chain rank and source role, and holds every time window (`Rules`);
each step is one SQL file under `analysis/sql/` (numbered, run in order), each creating `_ls_*`
temp tables that the next steps read, so a step can be read, run and inspected on its own
(`run_steps(con, upto=...)`); a result only one later statement reads is a temp view instead
(inlined there: no copy of its rows):

  01_events     the events that take part, joined once to the rule table
  01b_clock     clock changes: each event's era and corrected time (`t`; `tw` as written)
  02_boots      boot epochs per host (logon ids and LSM session ids repeat across boots)
  03_normalise  users and addresses normalised once per distinct value; each event's boot
  04_units      UAC split-token 4624 pairs collapse into one logon unit
  05_attempts   the chain steps of one RDP/console logon cluster into one attempt
  06_sources    privileges, explicit credentials, LSM, RCM and RdpCoreTS events attached
  07_ends       logoff/disconnect/reconnect/shutdown end each attempt
  08_unlocks    unlocks fold into the interactive session they unlock
  08b_gateway   RD Gateway 302/303 (on the gateway) to the RDP session they opened
  09_more       every logoff/lock/unlock of a session's ids inside its span is a source
  10_sessions   one row per attempt

This module must not read or write files of a case (analysis/build.py does that through
storage) nor import the UI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from string import Template
from typing import TYPE_CHECKING

import pyarrow as pa

from logonscope.analysis.session_rules import Rules, event_rules_sql, sql_params
from logonscope.storage import identity
from logonscope.storage.vocabulary import require_identifier

if TYPE_CHECKING:  # the app imports this module for names; DuckDB loads with the first query
    import duckdb

__all__ = [
    "SESSIONS_SCHEMA",
    "SESSION_COLUMNS",
    "SOURCES_SCHEMA",
    "SOURCE_COLUMNS",
    "STEPS",
    "Rules",
    "build_sessions",
    "correlate",
    "run_steps",
]

SESSION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "host",
    "host_key",
    "user",
    "domain",
    "user_key",
    "sid",
    "logon_type",
    "logon_kind",
    "src_ip",
    "src_ip_source",
    "src_ip_class",
    "src_ip_zone",
    "src_host",
    "tunnelled",
    "start",
    "end",
    "end_reason",
    "outcome",
    "failure_reason",
    "logon_ids",
    "lsm_session_id",
    "is_reconnect",
    "elevated",
    "admin",
    "system",
    "n_sources",
    "n_activity",
    "clock_changed",
    "client_tz",
    "gateway_ip",
    "gateway_host",
    # where the source address is (analysis.geo, filled when the tables are assembled)
    "src_country",
    "src_city",
    "src_asn",
    "src_org",
    "clock_changes",
    "tampered",
)
SOURCE_COLUMNS: tuple[str, ...] = (
    "session_id",
    "evidence_sha256",
    "record_id",
    "time",
    "channel",
    "event_id",
    "role",
)


STEPS: tuple[str, ...] = (
    "01_events",
    "01b_clock",
    "02_boots",
    "03_normalise",
    "04_units",
    "05_attempts",
    "06_sources",
    "07_ends",
    "08_unlocks",
    "08b_gateway",
    "09_more",
    "10_sessions",
)


def _sql(name: str, params: dict[str, str]) -> str:
    text = (resources.files("logonscope.analysis") / "sql" / f"{name}.sql").read_text()
    return Template(text).substitute(params)


def _statements(sql: str) -> list[str]:
    # our own files: a statement ends with `;` at the end of a line, never inside a literal
    return [s.strip() for s in sql.split(";\n") if s.strip().rstrip(";").strip()]


def run_steps(
    con: duckdb.DuckDBPyConnection,
    rules: Rules | None = None,
    events: str = "events",
    upto: str | None = None,
    gateway_events: str | None = None,
) -> None:
    """Run the correlation steps in order (through `upto`, inclusive) on `con`, leaving their
    `_ls_*` temp tables behind: the whole pipeline, or the state one step sees.
    `gateway_events`: the RD Gateway events of every host, when `events` holds only some."""
    require_identifier(events)
    if gateway_events is not None:
        require_identifier(gateway_events)
    if upto is not None and upto not in STEPS:
        raise ValueError(f"no such step: {upto!r}")
    params = sql_params(rules or Rules(), events, gateway_events)
    identity.install_macros(con)
    con.execute(event_rules_sql())
    for step in STEPS:
        statements = _statements(_sql(step, params))
        if step in _SHORTCUTS:
            first, idle, instead = _SHORTCUTS[step]
            for statement in statements[:first]:
                con.execute(statement)
            statements = statements[first:]
            if con.execute(f"SELECT NOT EXISTS ({idle})").fetchall()[0][0]:
                statements = _statements(_sql(instead, params))
        for statement in statements:
            con.execute(statement)
        if step == upto:
            return


# Steps that change nothing on most tasks: (statements run first, a query that finds what
# the rest works on, the file run instead when it finds nothing). With nothing to work on,
# the rest of the step would only make empty tables, which the other file declares (with
# the same columns and types) without planning a statement each (~5 ms apiece).
_SHORTCUTS = {
    # no clock change on these hosts
    "01b_clock": (1, "FROM _ls_chg1", "01b_clock_none"),
    # no RD Gateway connect naming a user (_ls_gw's `g`): no pair, no 303, nothing inserted
    "08b_gateway": (
        0,
        "FROM _ls_e WHERE kind = 'gateway_connect' AND uk IS NOT NULL",
        "08b_gateway_none",
    ),
}


# How `build_sessions` returns its rows; a build's tasks skip it (the assembly sorts).
_ORDER = {
    "session_rows": "ORDER BY s.start, s.host_key, s.session_id",
    "source_rows": "ORDER BY s.start, s.session_id, e.t, e.record_id",
}


def build_sessions(
    con: duckdb.DuckDBPyConnection,
    rules: Rules | None = None,
    events: str = "events",
    gateway_events: str | None = None,
) -> tuple[pa.Table, pa.Table]:
    """(sessions, session_sources) from the `events` view (or another relation) of `con`;
    RD Gateway events from `gateway_events` (default: `events`): a gateway's log explains
    sessions on other hosts.

    Leaves `_ls_*` temp tables behind on `con` (cheap; useful when debugging a rule).
    """
    require_identifier(events)
    params = sql_params(rules or Rules(), events, gateway_events)
    with _unordered(con):
        _correlate(con, rules, events, gateway_events)
        sessions = con.sql(_sql("session_rows", {**params, "order": _ORDER["session_rows"]}))
        sessions = sessions.to_arrow_table()
        sources = con.sql(_sql("source_rows", {**params, "order": _ORDER["source_rows"]}))
        sources = sources.to_arrow_table()
    return _typed(sessions, SESSIONS_SCHEMA), _typed(sources, SOURCES_SCHEMA)


def correlate(
    con: duckdb.DuckDBPyConnection,
    rules: Rules | None = None,
    events: str = "events",
    gateway_events: str | None = None,
) -> None:
    """What `build_sessions` computes, left on `con` as the temp tables `_ls_rows` (sessions)
    and `_ls_src_rows` (session_sources), in no order: a build's task reads them in SQL
    (attribution, its Parquet parts) instead of through Arrow, and the assembly sorts."""
    require_identifier(events)
    params = {**sql_params(rules or Rules(), events, gateway_events), "order": ""}
    before = _temp_tables(con)
    with _unordered(con):
        _correlate(con, rules, events, gateway_events)
        # the steps' working tables are done with: their memory goes to what follows (the
        # rows, the views, attribution), so a task's peak is lower and tasks can be larger
        for table in sorted(_temp_tables(con) - before - _KEPT):
            con.execute(f"DROP TABLE {table}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ls_rows AS {_sql('session_rows', params)}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ls_src_rows AS {_sql('source_rows', params)}")


# The steps' tables that what follows step 10 reads: the session and source rows, the session
# views (analysis.session_views) and attribution. Every other table the steps made is dropped
# once they are done; the first copy of the events is the largest (a quarter of a task's memory).
_KEPT = frozenset(
    ("_ls_e", "_ls_all", "_ls_s", "_ls_s0", "_ls_sha", "_ls_erab", "_ls_boot")
    + ("_ls_clock", "_ls_chg", "_ls_chgx")
)


def _temp_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    return {name for (name,) in rows if name.startswith("_ls_")}


@contextmanager
def _unordered(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    # every output is explicitly ordered (or sorted later): let DuckDB materialise any order
    row = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    keep_order = bool(row[0]) if row else True
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if keep_order else 'false'}")


def _correlate(
    con: duckdb.DuckDBPyConnection,
    rules: Rules | None,
    events: str,
    gateway_events: str | None,
) -> None:
    run_steps(con, rules, events, gateway_events=gateway_events)
    ips = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT src_ip FROM _ls_s WHERE src_ip IS NOT NULL"
        ).fetchall()
    ]
    con.register("_ls_ipclass", identity.ip_class_table(ips))


_TS = pa.timestamp("us", tz="UTC")
SESSIONS_SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("host", pa.string()),
        ("host_key", pa.string()),
        ("user", pa.string()),
        ("domain", pa.string()),
        ("user_key", pa.string()),
        ("sid", pa.string()),
        ("logon_type", pa.int64()),
        ("logon_kind", pa.string()),
        ("src_ip", pa.string()),
        ("src_ip_source", pa.string()),
        ("src_ip_class", pa.string()),
        ("src_ip_zone", pa.string()),
        ("src_host", pa.string()),
        ("tunnelled", pa.bool_()),
        ("start", _TS),
        ("end", _TS),
        ("end_reason", pa.string()),
        ("outcome", pa.string()),
        ("failure_reason", pa.string()),
        ("logon_ids", pa.list_(pa.int64())),
        ("lsm_session_id", pa.int64()),
        ("is_reconnect", pa.bool_()),
        ("elevated", pa.bool_()),
        ("admin", pa.bool_()),
        ("system", pa.bool_()),
        ("n_sources", pa.int64()),
        ("n_activity", pa.int64()),
        ("clock_changed", pa.bool_()),
        ("client_tz", pa.string()),
        ("gateway_ip", pa.string()),
        ("gateway_host", pa.string()),
        ("src_country", pa.string()),
        ("src_city", pa.string()),
        ("src_asn", pa.int64()),
        ("src_org", pa.string()),
        # the clock changes it spans, in words (old -> new, the record that set it)
        ("clock_changes", pa.list_(pa.string())),
        # a log clear or missing records on its host during its span (analysis.tampering)
        ("tampered", pa.bool_()),
    ]
)
SOURCES_SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("evidence_sha256", pa.string()),
        ("record_id", pa.int64()),
        ("time", _TS),
        ("channel", pa.string()),
        ("event_id", pa.int32()),
        ("role", pa.string()),
    ]
)


def _typed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return table.select(schema.names).cast(schema)
