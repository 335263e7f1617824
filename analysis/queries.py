"""The read API over a built case, shared by the command line and the Textual app.

Every function takes a DuckDB connection with the case views (`storage.case.connect`: sessions,
session_sources, users, user_ips, evidence, events, and activity once attribution exists) and a
frozen `Filters`; it returns Arrow tables or a plain dict. User input only ever travels as bound
parameters (normalised through `storage.identity` first), never as SQL text.

This module must not write anything, read files directly, or import the UI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pyarrow as pa

from logonscope.analysis import attribution, tampering, views
from logonscope.analysis.first_users import DERIVED_SUMMARIES
from logonscope.storage import identity

# `Filters(ip=NO_IP)` selects sessions without a source address (console logons, ...).
NO_IP = "-"


@dataclass(frozen=True)
class Filters:
    """What a view shows. Empty/None fields filter nothing; system sessions hidden by default."""

    user: str | None = None  # any form: `CORP\\alice`, `alice@corp`, `Alice`
    ip: str | None = None  # any form (`::ffff:a.b.c.d`, `ip:port`); NO_IP = none
    host: str | None = None  # FQDN or short name
    failed: bool = False  # failures only
    since: dt.datetime | None = None  # sessions overlapping [since, until]
    until: dt.datetime | None = None
    kinds: tuple[str, ...] = ()  # logon_kind names
    outcomes: tuple[str, ...] = ()  # success / failure / unknown
    show_system: bool = False
    search: str | None = None  # case-insensitive substring of user/host/ip/...


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def where(filters: Filters) -> tuple[str, list[Any]]:
    """(SQL condition over the sessions columns, its parameters)."""
    parts: list[str] = []
    params: list[Any] = []
    if filters.user is not None:
        parts.append("user_key IS NOT DISTINCT FROM ?")
        params.append(identity.user_key(filters.user))
    if filters.ip is not None:
        value = ip_value(filters.ip)
        if value is None:
            parts.append("src_ip IS NULL")
        else:
            parts.append("src_ip = ?")
            params.append(value)
    if filters.host is not None:
        parts.append("host_key = ?")
        params.append(identity.host_key(filters.host))
    if filters.failed:
        parts.append("outcome = 'failure'")
    if filters.since is not None:
        parts.append('coalesce("end", start) >= ?')
        params.append(_utc(filters.since))
    if filters.until is not None:
        parts.append("start <= ?")
        params.append(_utc(filters.until))
    if filters.kinds:  # an RDP NLA failure counts as the RDP attempt it is
        parts.append(f"list_contains(?, {views.KIND})")
        params.append(list(filters.kinds))
    if filters.outcomes:
        parts.append("list_contains(?, outcome)")
        params.append(list(filters.outcomes))
    if not filters.show_system:
        parts.append("NOT system")
    if filters.search:
        parts.append(
            "contains(lower(concat_ws(' ', user, domain, host, src_ip, src_host, logon_kind,"
            " outcome, failure_reason, session_id)), ?)"
        )
        params.append(filters.search.lower())
    return (" AND ".join(parts) or "TRUE"), params


def ip_value(ip: str) -> str | None:
    """The `src_ip` that `Filters(ip=ip)` selects (None: sessions without an address)."""
    if ip.strip() in ("", NO_IP):
        return None
    return identity.normalise_ip(ip) or ip.strip().lower()


def host_key(con: duckdb.DuckDBPyConnection, name: str | None) -> str | None:
    """The key of the machine `name` (any of its names, short or full) is listed under: a
    renamed host's old name resolves to the machine (the `host_names` table of the build)."""
    key = identity.host_key(name)
    if key is None or not has_view(con, "host_names"):
        return key
    rows = con.execute("SELECT min(host_key) FROM host_names WHERE name_key = ?", [key]).fetchall()
    return rows[0][0] if rows and rows[0][0] is not None else key


def resolved(con: duckdb.DuckDBPyConnection, filters: Filters) -> Filters:
    """`filters` with the host named by the key of its machine (see `host_key`)."""
    if filters.host is None:
        return filters
    return replace(filters, host=host_key(con, filters.host))


def _filtered(con: duckdb.DuckDBPyConnection, filters: Filters) -> None:
    """Materialise the filtered sessions as temp table `_ls_q` on `con`."""
    cond, params = where(resolved(con, filters))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _ls_q AS SELECT * FROM sessions WHERE {cond}", params
    )


def sessions(
    con: duckdb.DuckDBPyConnection,
    filters: Filters | None = None,
    relation: str = "sessions",
    held: bool = False,
    ordered: bool = False,
) -> pa.Table:
    """Sessions matching `filters`, oldest first. `relation`: where to read them, `sessions`
    or a subset of its rows the caller registered (one user's rows held in memory: the same
    conditions then scan thousands of rows instead of the case). `held`: those rows come
    from `held_sessions` (their kind already resolved); `ordered`: they are oldest first
    already (one user's slice of them), so a filter keeps them so and no sort is needed,
    the larger part of the query for a user with 100k sessions."""
    cond, params = where(resolved(con, filters or Filters()))
    columns = "*" if held else f"* REPLACE ({views.KIND} AS logon_kind)"
    order = "" if ordered else " ORDER BY start, host_key, session_id"
    return con.sql(
        f"SELECT {columns} FROM {views.checked(relation)} WHERE {cond}{order}", params=params
    ).to_arrow_table()


def held_sessions(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Every session as `sessions` gives it (kind resolved), in the stored order: by user,
    then oldest first (unsorted here: the caller checks the order it relies on)."""
    return con.sql(f"SELECT * REPLACE ({views.KIND} AS logon_kind) FROM sessions").to_arrow_table()


# Derived tables built over the sessions a filter state without conditions sees (DESIGN 2):
# `users`/`user_ips` over every session (system ones included and flagged), the `_nonsystem`
# pair over the non-system sessions (what the default filters show). Same SQL, same rows, so
# reading them gives exactly what aggregating the filtered sessions again would.
_USERS_ORDER = "failures DESC, sessions DESC, user_key NULLS LAST"
_USER_IPS_ORDER = views.USER_IPS_ORDER


def summary_table(con: duckdb.DuckDBPyConnection, filters: Filters, kind: str) -> str | None:
    """The derived table (`kind`: "users" or "user_ips") that holds the summary for `filters`
    (user and ip aside), or None when the filters need a fresh aggregate: only system shown or
    hidden, nothing else, and the table built over the same sessions the view now has."""
    if replace(filters, user=None, ip=None, show_system=False) != Filters():
        return None
    users_name, ips_name = DERIVED_SUMMARIES[filters.show_system]
    name = users_name if kind == "users" else ips_name
    if not (has_view(con, users_name) and has_view(con, name)):
        return None
    # A guard against a table left by another build: it must count the sessions there are.
    cond, params = where(replace(filters, user=None, ip=None))
    counted = con.execute(
        f"SELECT (SELECT coalesce(sum(sessions), 0) FROM {users_name}),"
        f" (SELECT count(*) FROM sessions WHERE {cond})",
        params,
    ).fetchall()[0]
    return name if counted[0] == counted[1] else None


def users(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pa.Table:
    """One row per user over the sessions matching `filters`."""
    filters = filters or Filters()
    # A user's row is the same whoever else is counted, so the summary serves a user
    # selection; an address selection changes every count and needs a fresh aggregate.
    derived = summary_table(con, filters, "users") if filters.ip is None else None
    if derived is not None:
        cond, params = where(Filters(user=filters.user, show_system=True))
        return con.sql(
            f"SELECT * FROM {derived} WHERE {cond} ORDER BY {_USERS_ORDER}", params=params
        ).to_arrow_table()
    _filtered(con, filters)
    return con.sql(views.users_sql("_ls_q")).to_arrow_table()


def user_ips(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pa.Table:
    """One row per user + source IP; rarity is computed over the sessions matching `filters`
    without the user/ip selection, so "rare across the case" still means the case."""
    filters = filters or Filters()
    cond, params = where(Filters(user=filters.user, ip=filters.ip, show_system=True))
    derived = summary_table(con, filters, "user_ips")
    if derived is not None:
        return con.sql(
            f"SELECT * FROM {derived} WHERE {cond} ORDER BY {_USER_IPS_ORDER}", params=params
        ).to_arrow_table()
    _filtered(con, replace(filters, user=None, ip=None))
    views.register_ip_networks(con, "_ls_q")
    return con.sql(
        f"SELECT * FROM ({views.user_ips_sql('_ls_q')}) WHERE {cond}", params=params
    ).to_arrow_table()


def of_user(table: pa.Table, user: str | None) -> pa.Table:
    """The rows of a `users` / `user_ips` result that `Filters(user=user)` would select (the
    user in any form; None selects nothing out, as in `Filters`). Lets a caller aggregate once
    per filter state and pick users from it: the selection never changes the rows' values."""
    import pyarrow.compute as pc

    if user is None:
        return table
    key = identity.user_key(user)
    column = table.column("user_key")
    mask = pc.is_null(column) if key is None else pc.fill_null(pc.equal(column, key), False)
    return table.filter(mask)


def has_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the case offers `name` (a view, a registered table or a temp table)."""
    return bool(
        con.execute(
            """SELECT (SELECT count(*) FROM duckdb_views() WHERE view_name = $1 AND NOT internal)
                + (SELECT count(*) FROM duckdb_tables() WHERE table_name = $1)""",
            [name],
        ).fetchall()[0][0]
    )


def session_row(con: duckdb.DuckDBPyConnection, session_id: str) -> pa.Table:
    """The session's row as `sessions` gives it (no rows when the id is unknown). Sessions are
    stored by user, so finding one by id alone scans them all."""
    return con.sql(
        f"SELECT * REPLACE ({views.KIND} AS logon_kind) FROM sessions WHERE session_id = ?",
        params=[session_id],
    ).to_arrow_table()


# The session's source events with the path of their evidence file ($1: the session id).
# session_sources is stored by session id: the filter reads one of its row groups.
_SOURCES_SQL = """
    SELECT s.role, s.channel, s.event_id, s.record_id, s.time, s.evidence_sha256,
           e.path AS evidence_path
    FROM session_sources s
    LEFT JOIN (SELECT sha256, any_value(path) AS path FROM evidence GROUP BY sha256) e
      ON e.sha256 = s.evidence_sha256
    WHERE s.session_id = $1
"""


def session_sources(con: duckdb.DuckDBPyConnection, session_id: str) -> pa.Table:
    """The session's source events: role, channel, event id, record id, time, evidence path."""
    return con.sql(
        _SOURCES_SQL + " ORDER BY s.time, s.record_id", params=[session_id]
    ).to_arrow_table()


def session_activity(con: duckdb.DuckDBPyConnection, session_id: str) -> pa.Table:
    """The activity attributed to the session (no rows until attribution exists)."""
    if not has_view(con, "activity"):
        return attribution.SCHEMA.empty_table()
    return con.sql(
        "SELECT * FROM activity WHERE session_id = ? ORDER BY time, record_id",
        params=[session_id],
    ).to_arrow_table()


def _offered(con: duckdb.DuckDBPyConnection, names: list[str]) -> set[str]:
    """Which of `names` the case offers (`has_view` for several in one query)."""
    return {
        r[0]
        for r in con.execute(
            """SELECT view_name FROM duckdb_views() WHERE list_contains($1, view_name)
                 AND NOT internal
               UNION SELECT table_name FROM duckdb_tables() WHERE list_contains($1, table_name)""",
            [names],
        ).fetchall()
    }


def session_detail(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    known: dict[str, Any] | None = None,
    host_names: list[str] | None = None,
) -> dict[str, Any] | None:
    """The session's columns plus `sources` (`session_sources`), `activity`
    (`session_activity`) as lists of dicts and `session_context`; None when the id is unknown.
    `known`: the session's row as a `sessions` result gave it (the caller has it already,
    which spares the scan of `session_row`); `host_names`: its host's names, when the caller
    keeps them per host (`session_context`)."""
    if known is not None and known.get("session_id") == session_id:
        detail: dict[str, Any] = dict(known)
    else:
        table = session_row(con, session_id)
        if table.num_rows == 0:
            return None
        detail = table.to_pylist()[0]
    host, tampered = detail.get("host_key"), detail.get("tampered")
    offered = _offered(con, ["activity", "host_names", "tampering"])
    # One query for the three parts (each a round trip otherwise); constant SQL, the id and
    # host as parameters. Activity is matched on its session's host and stored by host: the
    # host filter skips the other hosts' row groups.
    parts = [f"(SELECT list(x ORDER BY x.time, x.record_id) FROM ({_SOURCES_SQL}) x)"]
    if "activity" in offered:
        on_host = " AND a.host_key = $2" if host is not None else ""
        parts.append(
            "(SELECT list(a ORDER BY a.time, a.record_id) FROM activity a"
            f" WHERE a.session_id = $1{on_host})"
        )
    names_wanted = host_names is None and host is not None and "host_names" in offered
    if names_wanted:
        parts.append("(SELECT list(name ORDER BY name) FROM host_names WHERE host_key = $2)")
    sql = "SELECT " + ", ".join(parts)
    row = con.sql(sql, params=[session_id, host] if "$2" in sql else [session_id])
    values = [column[0].as_py() or [] for column in row.to_arrow_table().columns]
    detail["sources"] = values[0]
    if host_names is not None and host is not None:
        detail["host_names"] = list(host_names)
    elif names_wanted:
        detail["host_names"] = values[-1]
    if tampered and "tampering" in offered:
        detail["tampering_signs"] = [
            r[0] for r in con.execute(tampering.SESSION_SIGNS_SQL, [session_id]).fetchall()
        ]
    detail["activity"] = values[1] if "activity" in offered else []
    return detail


def session_host_names(con: duckdb.DuckDBPyConnection, host_key: str) -> list[str] | None:
    """Every name the machine `host_key` was seen under, for a caller that keeps them per
    host (`session_detail`, `session_context`); None when the case has no `host_names`."""
    if not has_view(con, "host_names"):
        return None
    rows = con.execute(
        "SELECT name FROM host_names WHERE host_key = ? ORDER BY name", [host_key]
    ).fetchall()
    return [r[0] for r in rows]


def session_context(
    con: duckdb.DuckDBPyConnection, session_id: str, host_key: Any, tampered: Any
) -> dict[str, list[str]]:
    """What a session's row does not hold: every name its host was seen under
    (`host_names`) and, when it is flagged, the signs of tampering it overlaps."""
    context: dict[str, list[str]] = {}
    names = session_host_names(con, host_key) if host_key is not None else None
    if names is not None:
        context["host_names"] = names
    if tampered and has_view(con, "tampering"):
        context["tampering_signs"] = [
            r[0] for r in con.execute(tampering.SESSION_SIGNS_SQL, [session_id]).fetchall()
        ]
    return context
