"""The last part of a build (`analysis.build`): the derived tables written from the tasks' parts.

The tasks (`analysis.build_parts`) leave per-task Parquet parts of sessions, sources,
activity, tampering and the two session views. `assemble` sorts each table once (DuckDB
spills within its memory limit) and writes it, adding the previous rows of hosts that did not
change. The tables are independent of one another, so they are written side by side, one
cursor per table (they share the connection's memory limit): the assembly runs after every
task, alone, and a single table's write leaves a core idle (the sort's merge and the Parquet
encoding are one thread each). DuckDB's share of the memory budget shrinks by a quarter so
that the second pipeline's Arrow batches fit in it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa

from logonscope.analysis import attribution, geo, session_views, tampering, views
from logonscope.analysis import build_parts as parts
from logonscope.analysis import sessions as sessions_mod
from logonscope.analysis.build_parts import DERIVED
from logonscope.analysis.queries import has_view
from logonscope.storage import case as case_folder
from logonscope.storage import connection, geoip, identity

# Stored order of the tables written from parts (ties broken, so the order never depends
# on the tasks); sessions are stored by user then time (a user's sessions in few row groups).
_ORDER = {
    # one session: one row group
    "session_sources": "session_id, time, record_id, role, channel, evidence_sha256",
    "activity": "host_key, time, record_id, channel, evidence_sha256",
    "tampering": "host_key, time, channel, record_id",
    **{
        name: f"{session_views.ORDER}, {schema.names[0]}"
        for name, schema in session_views.SCHEMAS.items()
    },
}
# table -> (its parts' name, schema), the largest first: the longest write starts first
_TABLES = {
    "session_sources": ("sources", sessions_mod.SOURCES_SCHEMA),
    "logon_sessions": ("logon_sessions", session_views.LOGON_SCHEMA),
    "desktop_sessions": ("desktop_sessions", session_views.DESKTOP_SCHEMA),
    "activity": ("activity", attribution.SCHEMA),
    "tampering": ("tampering", tampering.SCHEMA),
}


# Columns of nearly unique values (ids, times, counts, lists, summaries): written without a
# dictionary, which the Parquet writer would build for every row group and then abandon
# (~30 % of a table's write, and larger files). The others (hosts, users, addresses, kinds)
# repeat: a dictionary makes them smaller and cheaper.
_UNIQUE = frozenset(
    {
        "session_id",
        "logon_session_id",
        "desktop_session_id",
        "record_id",
        "time",
        "start",
        "end",
        "summary",
        "members",
        "session_ids",
        "logon_ids",
        "logon_id",
        "linked_logon_id",
        "lsm_session_id",
        "n_sources",
        "n_activity",
        "n_members",
    }
)


def _dictionary(schema: pa.Schema) -> list[str]:
    return [name for name in schema.names if name not in _UNIQUE]


def _columns(schema: pa.Schema) -> str:
    return ", ".join('"' + name.replace('"', '""') + '"' for name in schema.names)


def assemble(
    root: Path,
    work: Path,
    kept: list[str],
    places: Iterable[geoip.Database] = (),
    events: int | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[int, int]:
    """Write the derived tables from the tasks' parts and the kept hosts' previous rows.
    Source addresses are located with the `places` databases (none: the address columns
    stay blank). Returns (sessions, sources) counted. `events`: the case's events, when
    known (a small case is assembled on one DuckDB thread). `con`: a `case.connect` of
    `root` made before the tasks wrote their parts (the build's own), used and left open;
    without it the assembly opens one."""
    threads = None if events is None else parts.threads_for(events, None)
    own = con is None
    if con is None:
        con = case_folder.connect(root, threads=threads)
    else:
        con.execute(f"SET threads = {int(threads)}" if threads else "RESET threads")
    try:
        schemas = {part: schema for part, schema in _TABLES.values()}
        schemas["sessions"] = sessions_mod.SESSIONS_SCHEMA
        # Arrow tables are registered per cursor; views made from relations are shared
        arrow = {"_ls_kept": pa.table({"host_key": pa.array(kept, pa.string())})}
        for name, schema in schemas.items():
            written = sorted(str(p) for p in work.glob(f"part-*-{name}.parquet"))
            if written:  # none when every task failed or had no events
                con.read_parquet(written).create_view(f"_ls_new_{name}")
            else:
                arrow[f"_ls_new_{name}"] = schema.empty_table()
        for name, table in arrow.items():
            con.register(name, table)
        old = bool(kept) and all(has_view(con, n) for n in DERIVED)
        if old:
            # the kept sources read the previous sessions: taken before `sessions` is replaced
            con.execute(
                "CREATE OR REPLACE TABLE _ls_kept_sessions AS SELECT session_id FROM sessions "
                "WHERE host_key IN (SELECT * FROM _ls_kept)"
            )
        jobs: list[Callable[[duckdb.DuckDBPyConnection], None]] = [
            partial(_write_sessions, root=root, old=old, places=list(places))
        ]
        for table, (part, schema) in _TABLES.items():
            jobs.append(partial(_write, root=root, table=table, part=part, schema=schema, old=old))
        _run(con, jobs, arrow)
        n_sessions = con.execute("SELECT count(*) FROM _ls_final").fetchall()[0][0]
        sources_file = root / case_folder.DERIVED / "session_sources.parquet"
        n_sources = con.read_parquet(str(sources_file)).aggregate("count(*)").fetchall()[0][0]
    finally:
        if own:
            connection.close(con)
    return int(n_sessions), int(n_sources)


def _run(
    con: duckdb.DuckDBPyConnection,
    jobs: list[Callable[[duckdb.DuckDBPyConnection], None]],
    arrow: dict[str, pa.Table],
) -> None:
    """Each job on a cursor of its own (with the `arrow` tables registered), as many at a
    time as there are cores."""
    width = max(1, min(len(jobs), os.cpu_count() or 1))
    if width > 1:
        # each write pipeline holds Arrow batches and Parquet buffers beside DuckDB's memory
        # (~160 MB more for a second one at 10 M): DuckDB gets less, the process stays within
        # the budget as with one table at a time
        limit = max(connection.MIN_MEMORY, connection.memory_budget() * 3 // 4)
        con.execute(f"SET memory_limit = '{limit >> 20}MB'")
    cursors = [case_folder.cursor(con) for _ in jobs]
    for cur in cursors:
        for name, table in arrow.items():
            cur.register(name, table)
    try:
        with ThreadPoolExecutor(width) as pool:
            for future in [pool.submit(job, cur) for job, cur in zip(jobs, cursors, strict=True)]:
                future.result()
    finally:
        for cur in cursors:
            cur.close()


def _write(
    cur: duckdb.DuckDBPyConnection,
    root: Path,
    table: str,
    part: str,
    schema: pa.Schema,
    old: bool,
) -> None:
    cols = _columns(schema)
    if not old:
        previous = ""
    elif table == "session_sources":
        previous = (
            f"UNION ALL SELECT {cols} FROM session_sources "
            "WHERE session_id IN (SELECT session_id FROM _ls_kept_sessions)"
        )
    else:
        previous = (
            f"UNION ALL SELECT {cols} FROM {table} WHERE host_key IN (SELECT * FROM _ls_kept)"
        )
    relation = cur.sql(f"SELECT {cols} FROM _ls_new_{part} {previous} ORDER BY {_ORDER[table]}")
    case_folder.write_derived_relation(root, table, relation, schema, _dictionary(schema))


def _write_sessions(
    cur: duckdb.DuckDBPyConnection, root: Path, old: bool, places: Iterable[geoip.Database]
) -> None:
    """The sessions table, then what is summarised from it (users, user+IP, host aliases)."""
    cols = _columns(sessions_mod.SESSIONS_SCHEMA)
    previous = (
        f"UNION ALL SELECT {cols} FROM sessions WHERE host_key IN (SELECT * FROM _ls_kept)"
        if old
        else ""
    )
    cur.execute(
        f"CREATE OR REPLACE TEMP VIEW _ls_all_sessions AS "
        f"SELECT {cols} FROM _ls_new_sessions {previous}"
    )
    # every address located again: kept hosts too, so a new database needs no re-correlation
    geo.register_places(cur, "_ls_all_sessions", places)
    case_folder.write_derived_relation(
        root,
        "sessions",
        cur.sql(
            f"{geo.located_sql('_ls_all_sessions')} ORDER BY user_key, start, host_key, session_id"
        ),
        sessions_mod.SESSIONS_SCHEMA,
        _dictionary(sessions_mod.SESSIONS_SCHEMA),
    )
    cur.read_parquet(str(root / case_folder.DERIVED / "sessions.parquet")).create_view("_ls_final")
    tables = views.build_views(cur, "_ls_final")
    # the same summaries over what the default filters show (system sessions hidden), so
    # the app's first screen reads them instead of aggregating (analysis.queries)
    cur.execute(
        "CREATE OR REPLACE TEMP VIEW _ls_final_nonsystem AS SELECT * FROM _ls_final WHERE NOT system"
    )
    for name, table in views.build_views(cur, "_ls_final_nonsystem").items():
        tables[f"{name}_nonsystem"] = table
    # renamed hosts: one machine under several names (storage.identity)
    tables["host_aliases"] = cur.sql(identity.host_aliases_sql()).to_arrow_table()
    case_folder.write_derived(root, tables)
