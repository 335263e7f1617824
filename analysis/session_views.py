"""Three notions of a session over the same events, and how they relate.

- *investigator* sessions (`sessions`): every attempt to gain access, reconnects split; what
  the correlation steps of `analysis.sessions` build.
- *Windows logon* sessions (`logon_sessions`): one per LSA logon id per boot on a host, its
  4624 paired with the first 4634/4647 of the id, as Takajo and Velociraptor pair them.
- *desktop* sessions (`desktop_sessions`): one per LSM session id per boot, alive across
  disconnects and reconnects: how long a desktop lived and from which addresses it was used.

A Windows logon or desktop session lists its member events and the investigator sessions that
hold any of them (`session_ids`): sharing an event is what relates the three. They are built
per host, in the same task and on the same connection as the investigator sessions, from the
temp tables the correlation steps leave behind (`build_views`), so no event is read twice.

This module must not read files of a case (analysis/build.py does) nor import the UI.
"""

from __future__ import annotations

from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from logonscope.analysis.session_rules import SHARED_LOGON_IDS, src_channel_sql
from logonscope.analysis.sessions import SESSIONS_SCHEMA

if TYPE_CHECKING:  # the app imports this module for names; DuckDB loads with the first query
    import duckdb

# The views a responder switches between, in the order `v` cycles them.
VIEWS = ("investigator", "logon", "desktop")
# The derived table and the id column of each view.
TABLES = {
    "investigator": ("sessions", "session_id"),
    "logon": ("logon_sessions", "logon_session_id"),
    "desktop": ("desktop_sessions", "desktop_session_id"),
}
LABELS = {
    "investigator": "investigator sessions",
    "logon": "Windows logon sessions",
    "desktop": "desktop sessions",
}

_TS = pa.timestamp("us", tz="UTC")


def _as_in_sessions(*names: str) -> list[pa.Field]:
    """Columns the views share with `sessions`, typed once there (a view never drifts)."""
    return [SESSIONS_SCHEMA.field(name) for name in names]


MEMBER = pa.struct(
    [
        ("time", _TS),
        ("channel", pa.string()),
        ("event_id", pa.int32()),
        ("record_id", pa.int64()),
        ("evidence_sha256", pa.string()),
    ]
)
LOGON_SCHEMA = pa.schema(
    [
        ("logon_session_id", pa.string()),
        *_as_in_sessions("host", "host_key"),
        ("boot", pa.int64()),
        ("logon_id", pa.int64()),
        ("linked_logon_id", pa.int64()),
        *_as_in_sessions("user", "domain", "user_key", "sid", "logon_type", "logon_kind"),
        *_as_in_sessions("src_ip", "elevated", "start", "end", "end_reason", "system"),
        ("n_members", pa.int64()),
        ("session_ids", pa.list_(pa.string())),
        ("members", pa.list_(MEMBER)),
    ]
)
DESKTOP_SCHEMA = pa.schema(
    [
        ("desktop_session_id", pa.string()),
        *_as_in_sessions("host", "host_key"),
        ("boot", pa.int64()),
        ("lsm_session_id", pa.int64()),
        *_as_in_sessions("user", "domain", "user_key", "start", "end", "end_reason"),
        ("src_ips", pa.list_(pa.string())),
        ("n_connects", pa.int64()),
        ("n_disconnects", pa.int64()),
        *_as_in_sessions("system"),
        ("n_members", pa.int64()),
        ("session_ids", pa.list_(pa.string())),
        ("members", pa.list_(MEMBER)),
    ]
)
SCHEMAS = {"logon_sessions": LOGON_SCHEMA, "desktop_sessions": DESKTOP_SCHEMA}
# How the derived view tables are stored: a host's rows together, in time order.
ORDER = "host_key, start"


def _sql(name: str) -> str:
    text = (resources.files("logonscope.analysis") / "sql" / f"{name}.sql").read_text()
    params = {"shared_ids": str(SHARED_LOGON_IDS), "view_channel": src_channel_sql("src")}
    return Template(text).substitute(params)


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";\n") if s.strip().rstrip(";").strip()]


def build_views(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """`logon_sessions` and `desktop_sessions` of the events `analysis.sessions.build_sessions`
    just correlated on `con` (it reads the `_ls_*` temp tables that run left behind)."""
    out: dict[str, pa.Table] = {}
    for table, temp in correlate_views(con).items():
        schema = SCHEMAS[table]
        result = con.sql(f"SELECT * FROM {temp} ORDER BY {ORDER}").to_arrow_table()
        out[table] = result.select(schema.names).cast(schema)
    return out


def correlate_views(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The views' rows left on `con` as temp tables, in no order: table -> temp table name."""
    temps = {"logon_sessions": "_ls_vl", "desktop_sessions": "_ls_vd"}
    for step in ("views_logon", "views_desktop"):
        for statement in _statements(_sql(step)):
            con.execute(statement)
    return temps


def view_name(view: str | None) -> str:
    """The view a name stands for (`investigator` when None); ValueError for another name."""
    name = (view or "investigator").strip().lower()
    if name not in TABLES:
        raise ValueError(f"no such view {view!r}: one of {', '.join(VIEWS)}")
    return name


def next_view(view: str) -> str:
    """The view `v` switches to after `view`."""
    return VIEWS[(VIEWS.index(view_name(view)) + 1) % len(VIEWS)]


def members_rows(members: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A view row's members, oldest first (as plain dicts)."""
    return sorted(members or [], key=lambda m: (m["time"], m["record_id"]))
