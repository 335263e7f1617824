"""Timelines for the tools responders already use: Timesketch JSONL and Timeline Explorer CSV.

Sessions, a session's source events and its activity become time-stamped records: `datetime`,
`timestamp_desc`, a one-line `message` and a `data_type` first, then the row's own columns.
A session gives a record at its start (`Logon`, `Failed logon`, ...) and one at its end
(`Session end`) when it has one; a source event or an activity row gives one record at its
time. Records without a time are left out (both tools need one).

- `timesketch`: JSON Lines with Timesketch's required fields (`message`, `datetime` as
  ISO 8601 `+00:00`, `timestamp_desc`) and `timestamp` (microseconds since the epoch).
- `tle`: CSV for Eric Zimmerman's Timeline Explorer: times as `YYYY-MM-DD HH:MM:SS.ffffff`
  (UTC), which it sorts and filters as dates, with the CSV hygiene of `tui.output`.

Records are ordered by time, then by what each one is, then by a key unique to it (session id,
evidence file and record id): the same case exports the same bytes on every run, so two exports
diff cleanly. Column names in the SQL are this module's constants; the rows travel as
registered Arrow tables, never as SQL text.
"""

from __future__ import annotations

from typing import IO

import pyarrow as pa
import pyarrow.compute as pc

from logonscope.tui.format_names import TIMELINE_FORMATS

__all__ = ["TIMELINE_FORMATS", "records", "timeline_kind", "write_records", "write_timeline"]

# What a session's start record says, by outcome; its end record is `SESSION_END`.
START_DESC = {"success": "Logon", "failure": "Failed logon"}
UNKNOWN_DESC = "Logon attempt (outcome unknown)"
SESSION_END = "Session end"
EVENT_DESC = "Event Recorded"
DATA_TYPES = {
    "sessions": "logonscope:session",
    "sources": "logonscope:session:source",
    "activity": "logonscope:session:activity",
}
HELPERS = ("_rank", "_key")


def timeline_kind(table: pa.Table) -> str | None:
    """What rows `table` holds ("sessions", "sources", "activity"), or None when it has no
    time to put on a timeline (the users and user_ips summaries)."""
    names = set(table.column_names)
    if {"session_id", "start"} <= names:
        return "sessions"
    if {"time", "role"} <= names:
        return "sources"
    if {"time", "summary"} <= names:
        return "activity"
    return None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(kind: str, relation: str, names: set[str]) -> str:
    """SELECT of the records for one table (`relation`, registered) of `kind`."""

    def c(name: str) -> str:  # a column of the row, NULL when the table lacks it
        return _q(name) if name in names else "NULL"

    data_type = f"'{DATA_TYPES[kind]}' AS data_type"
    if kind == "sessions":
        who = (
            f"coalesce(nullif(concat_ws('\\', nullif({c('domain')}, ''), nullif({c('user')}, '')),"
            " ''), '?')"
        )
        where = f"concat_ws(' ', {who}, 'on ' || coalesce({c('host')}, {c('host_key')}),"
        where += f" '(' || {c('logon_kind')} || ')', 'from ' || {c('src_ip')},"
        where += f" '[' || {c('src_host')} || ']')"
        outcome = c("outcome")
        start_desc = (
            f"CASE {outcome} "
            + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in START_DESC.items())
            + f" ELSE '{UNKNOWN_DESC}' END"
        )
        attempts = f"' (' || {c('attempts')} || ' attempts)'"
        reason = f"' - ' || {c('failure_reason')}"
        return f"""
            SELECT {c("start")} AS datetime, {start_desc} AS timestamp_desc,
                   concat({start_desc}, ': ', {where}, {attempts}, {reason}) AS message,
                   {data_type}, 0 AS _rank, {c("session_id")} AS _key, *
            FROM {relation} WHERE {c("start")} IS NOT NULL
            UNION ALL BY NAME
            SELECT {c("end")} AS datetime, '{SESSION_END}' AS timestamp_desc,
                   concat('{SESSION_END}: ', {where}, ' (' || {c("end_reason")} || ')')
                       AS message,
                   {data_type}, 1 AS _rank, {c("session_id")} AS _key, *
            FROM {relation}
            WHERE {c("end")} IS NOT NULL AND {outcome} IS DISTINCT FROM 'failure'"""
    key = (
        f"concat_ws('/', {c('evidence_sha256')}, lpad(CAST({c('record_id')} AS VARCHAR), 20, '0'))"
    )
    event = f"concat_ws(' ', {c('channel')}, CAST({c('event_id')} AS VARCHAR))"
    if kind == "sources":
        who = f"nullif(concat_ws('\\', nullif({c('target_domain')}, ''), {c('target_user')}), '')"
        detail = (
            f"concat_ws(' ', {event}, '(' || {c('role')} || ')', {who},"
            f" 'type ' || {c('logon_type')}, 'from ' || {c('ip')},"
            f" '[' || {c('workstation')} || ']', 'status ' || {c('status')})"
        )
        rank = 2
    else:
        detail = f"concat_ws(': ', {event}, {c('summary')})"
        rank = 3
    return f"""
        SELECT {c("time")} AS datetime, '{EVENT_DESC}' AS timestamp_desc, {detail} AS message,
               {data_type}, {rank} AS _rank, {key} AS _key, *
        FROM {relation} WHERE {c("time")} IS NOT NULL"""


def records(*tables: pa.Table) -> pa.Table:
    """The timeline records of `tables` (sessions, sources and/or activity), merged in one
    stable order. A table with nothing to put on a timeline is a ValueError."""
    from logonscope.storage.connection import close, connect

    con = connect()
    try:
        parts = []
        for i, table in enumerate(tables):
            kind = timeline_kind(table)
            if kind is None:
                raise ValueError("no time to put on a timeline (sessions, sources or activity)")
            con.register(f"_t{i}", table)
            parts.append(_select(kind, f"_t{i}", set(table.column_names)))
        first = "datetime, timestamp_desc, message, data_type"
        # streamed out of DuckDB (a sort there would have to fit its memory budget without a
        # case folder to spill to), then sorted by Arrow
        reader = con.sql(
            f"SELECT {first}, * EXCLUDE ({first}) FROM ({' UNION ALL BY NAME '.join(parts)})"
        ).to_arrow_reader(batch_size=65_536)
        unsorted = reader.read_all()
    finally:
        close(con)
    keys = [(name, "ascending") for name in ("datetime", *HELPERS)]
    order = pc.sort_indices(unsorted, sort_keys=keys)  # nulls last, as DuckDB orders
    return unsorted.take(order).drop_columns(list(HELPERS))


def write_timeline(table: pa.Table, fmt: str, out: IO[str]) -> None:
    """Write `table` (sessions, sources or activity) as a `fmt` timeline to `out`."""
    write_records(records(table), fmt, out)


def write_records(timeline: pa.Table, fmt: str, out: IO[str]) -> None:
    """Write `records` output as Timesketch JSONL or Timeline Explorer CSV, through the
    command line's own JSONL and CSV writers (same escaping, same CSV hygiene)."""
    from logonscope.storage.connection import close, connect
    from logonscope.tui.output import write

    if fmt not in TIMELINE_FORMATS:
        raise ValueError(f"unknown timeline format {fmt!r}")
    con = connect()
    try:
        con.register("_r", timeline)
        if fmt == "timesketch":
            sql = (
                "SELECT message, strftime(datetime, '%Y-%m-%dT%H:%M:%S.%f+00:00') AS datetime,"
                " epoch_us(datetime) AS timestamp, timestamp_desc,"
                " * EXCLUDE (message, datetime, timestamp_desc) FROM _r"
            )
        else:  # every time as Timeline Explorer reads a date, in UTC
            stamps = ", ".join(
                f"strftime({_q(f.name)}, '%Y-%m-%d %H:%M:%S.%f') AS {_q(f.name)}"
                for f in timeline.schema
                if pa.types.is_timestamp(f.type)
            )
            sql = f"SELECT * REPLACE ({stamps}) FROM _r"
        table = con.sql(sql).to_arrow_table()
    finally:
        close(con)
    write(table, "jsonl" if fmt == "timesketch" else "csv", out)
