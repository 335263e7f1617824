"""The built `activity` of a case as the command line and the app list it: by host and time,
every row or only what no session holds. Read-only, parameterised; never imports the UI.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

LISTED = (
    "time",
    "host",
    "channel",
    "event_id",
    "record_id",
    "user",
    "summary",
    "confidence",
    "match_note",
    "session_id",
    "evidence_sha256",
)


def activity_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    unattributed: bool = False,
    host: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> pa.Table:
    """The built `activity` of a case for listing, by host and time: every row, or only those
    no session holds (`unattributed`), on one host (any of its names) or all, within
    [since, until] when given."""
    where: list[str] = []
    params: list[object] = []
    if since is not None:
        where.append("time >= ?")
        params.append(since)
    if until is not None:
        where.append("time <= ?")
        params.append(until)
    if unattributed:
        where.append("session_id IS NULL")
    if host is not None:
        from logonscope.analysis.queries import host_key

        where.append("host_key = ?")
        params.append(host_key(con, host))
    sql = f"SELECT {', '.join(LISTED)} FROM activity"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return con.sql(sql + " ORDER BY host_key, time, record_id", params=params).to_arrow_table()
