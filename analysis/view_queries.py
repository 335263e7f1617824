"""Read the three session views of a built case (`analysis.session_views`): lists under the
same `Filters` as the sessions, one view session with its members and contained investigator
sessions, and, for an investigator session, the Windows logon and desktop sessions it is in.

User input only travels as bound parameters (normalised through `storage.identity`); view
names pick among our own table names. Must not write anything nor import the UI.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from logonscope.analysis import queries
from logonscope.analysis.queries import NO_IP, Filters, has_view
from logonscope.analysis.session_views import TABLES, view_name
from logonscope.storage import identity

# The investigator-session columns listed for the sessions a view session contains.
CONTAINED = (
    "session_id",
    "start",
    "end",
    "user",
    "logon_kind",
    "src_ip",
    "outcome",
    "is_reconnect",
    "end_reason",
)


def view_where(view: str, filters: Filters) -> tuple[str, list[Any]]:
    """(SQL condition over a Windows logon / desktop view's columns, its parameters)."""
    parts: list[str] = []
    params: list[Any] = []
    if filters.user is not None:
        parts.append("user_key IS NOT DISTINCT FROM ?")
        params.append(identity.user_key(filters.user))
    if filters.ip is not None:
        column = "src_ip" if view == "logon" else "src_ips"
        if filters.ip.strip() in ("", NO_IP):
            parts.append("src_ip IS NULL" if view == "logon" else "len(src_ips) = 0")
        else:
            ip = identity.normalise_ip(filters.ip) or filters.ip.strip().lower()
            parts.append("src_ip = ?" if view == "logon" else f"list_contains({column}, ?)")
            params.append(ip)
    if filters.host is not None:
        parts.append("host_key = ?")
        params.append(identity.host_key(filters.host))
    # a Windows logon or desktop session exists only once a logon succeeded
    if filters.failed or (filters.outcomes and "success" not in filters.outcomes):
        parts.append("FALSE")
    if filters.since is not None:
        parts.append('coalesce("end", start) >= ?')
        params.append(queries._utc(filters.since))
    if filters.until is not None:
        parts.append("start <= ?")
        params.append(queries._utc(filters.until))
    if filters.kinds:
        parts.append("list_contains(?, logon_kind)" if view == "logon" else "FALSE")
        params.extend([list(filters.kinds)] if view == "logon" else [])
    if not filters.show_system:
        parts.append("NOT system")
    if filters.search:
        ips = "src_ip" if view == "logon" else "array_to_string(src_ips, ' ')"
        parts.append(
            f"contains(lower(concat_ws(' ', user, domain, host, {ips}, {TABLES[view][1]})), ?)"
        )
        params.append(filters.search.lower())
    return (" AND ".join(parts) or "TRUE"), params


def view_sessions(
    con: duckdb.DuckDBPyConnection,
    view: str | None,
    filters: Filters | None = None,
    members: bool = False,
) -> pa.Table:
    """The sessions of `view` matching `filters`, oldest first; their member events only
    with `members` (a view session's detail lists them too)."""
    name = view_name(view)
    filters = filters or Filters()
    if name == "investigator":
        return queries.sessions(con, filters)
    table, key = TABLES[name]
    cond, params = view_where(name, filters)
    return con.sql(
        f"SELECT * {'' if members else 'EXCLUDE (members)'} FROM {table} WHERE {cond} "
        f"ORDER BY start, host_key, {key}",
        params=params,
    ).to_arrow_table()


def _members(con: duckdb.DuckDBPyConnection, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The member events with the evidence file each was read from."""
    if not members:
        return []
    con.register("_ls_vm", pa.Table.from_pylist(members))
    try:
        found: list[dict[str, Any]] = (
            con.sql(
                """SELECT m.time, m.channel, m.event_id, m.record_id, m.evidence_sha256,
                          e.path AS evidence_path
                   FROM _ls_vm m LEFT JOIN (SELECT sha256, any_value(path) AS path
                                            FROM evidence GROUP BY sha256) e
                     ON e.sha256 = m.evidence_sha256
                   ORDER BY m.time, m.record_id"""
            )
            .to_arrow_table()
            .to_pylist()
        )
        return found
    finally:
        con.unregister("_ls_vm")


def _contained(
    con: duckdb.DuckDBPyConnection, ids: list[str], host_key: Any
) -> list[dict[str, Any]]:
    if not ids:
        return []
    cols = ", ".join(f'"{c}"' for c in CONTAINED)
    found: list[dict[str, Any]] = (
        con.sql(
            f"SELECT {cols} FROM sessions WHERE host_key IS NOT DISTINCT FROM ? "
            "AND list_contains(?, session_id) ORDER BY start, session_id",
            params=[host_key, ids],
        )
        .to_arrow_table()
        .to_pylist()
    )
    return found


def view_detail(
    con: duckdb.DuckDBPyConnection, view: str | None, view_id: str
) -> dict[str, Any] | None:
    """One session of `view`: its columns, `members` (its events, oldest first) and
    `sessions` (the investigator sessions it contains); an investigator session's detail
    also says which Windows logon and desktop sessions it is in (`related`). None when the
    id is unknown."""
    name = view_name(view)
    if name == "investigator":
        detail = queries.session_detail(con, view_id)
        if detail is not None:
            detail["related"] = related(con, view_id, detail.get("host_key"))
        return detail
    table, key = TABLES[name]
    if not has_view(con, table):
        return None
    rows = con.sql(f"SELECT * FROM {table} WHERE {key} = ?", params=[view_id]).to_arrow_table()
    if rows.num_rows == 0:
        return None
    found: dict[str, Any] = rows.to_pylist()[0]
    found["members"] = _members(con, found.pop("members") or [])
    found["sessions"] = _contained(con, found["session_ids"], found["host_key"])
    return found


def related(
    con: duckdb.DuckDBPyConnection, session_id: str, host_key: Any
) -> dict[str, list[dict[str, Any]]]:
    """The Windows logon and desktop sessions holding events of investigator session
    `session_id` (on its host: the views are stored by host)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in ("logon", "desktop"):
        table, key = TABLES[name]
        if not has_view(con, table):
            out[table] = []
            continue
        out[table] = (
            con.sql(
                f"SELECT * EXCLUDE (members) FROM {table} "
                "WHERE host_key IS NOT DISTINCT FROM ? AND list_contains(session_ids, ?) "
                f"ORDER BY start, {key}",
                params=[host_key, session_id],
            )
            .to_arrow_table()
            .to_pylist()
        )
    return out


def related_ids(con: duckdb.DuckDBPyConnection, session_id: str, host_key: Any) -> dict[str, Any]:
    """`logon_session_ids` and `desktop_session_ids` of an investigator session: what the
    command line's `session` JSON and the Python API add to the session's row."""
    found = related(con, session_id, host_key)
    return {
        "logon_session_ids": [r["logon_session_id"] for r in found["logon_sessions"]],
        "desktop_session_ids": [r["desktop_session_id"] for r in found["desktop_sessions"]],
    }
