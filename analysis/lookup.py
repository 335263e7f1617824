"""Look up the original events behind a session, and the facets a filter dialog offers.

Read-only, parameterised DuckDB over the case views (`events`, `sessions`): user input is
only ever a bound parameter or a registered Arrow table, never SQL text. Returns Arrow tables
and plain dicts; never imports the UI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

# The fields of an event a responder reads first, in the Sources tab.
KEY_FIELDS = (
    "target_user",
    "target_domain",
    "subject_user",
    "logon_type",
    "ip",
    "port",
    "workstation",
    "target_logon_id",
    "subject_logon_id",
    "lsm_session_id",
    "status",
    "sub_status",
    "logon_process",
    "auth_package",
    "process_name",
)


@dataclass(frozen=True)
class Facets:
    """Distinct values the filters can take in this case (system sessions included)."""

    hosts: tuple[str, ...]
    kinds: tuple[str, ...]
    outcomes: tuple[str, ...]
    first: Any
    last: Any
    # a host's other names (a renamed host: its earlier names; NAME.domain spellings)
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def label(self, host: str) -> str:
        """How a host list shows `host`: with the other names it was seen under."""
        others = self.names.get(host, ())
        return f"{host}  (also {', '.join(others)})" if others else host


def _has(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.sql(
        "SELECT 1 FROM duckdb_views() WHERE view_name = ? UNION ALL "
        "SELECT 1 FROM duckdb_tables() WHERE table_name = ?",
        params=[name, name],
    ).fetchall()
    return bool(rows)


# A machine's name in lists: the name it wrote last (a renamed host shows its new name),
# among the machines that have sessions.
_LATEST_NAMES = """
    SELECT arg_max(name, last_seen) AS name, list(name ORDER BY first_seen, name) AS names
    FROM host_names
    WHERE host_key IN (SELECT DISTINCT host_key FROM sessions)
    GROUP BY host_key ORDER BY 1
"""


def host_names(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """Every name the machine called `name` (any of its names) was seen under, as written."""
    from logonscope.analysis.queries import host_key

    if not _has(con, "host_names"):
        return [name]
    rows = con.execute(
        "SELECT name FROM host_names WHERE host_key = ? ORDER BY name", [host_key(con, name)]
    ).fetchall()
    return [r[0] for r in rows] or [name]


def host_list(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """One row per machine: its name (the latest), key, every name seen, events, first and
    last seen -- the host list a responder checks renames in."""
    if not _has(con, "host_names"):
        return pa.table({"host": pa.array([], pa.string())})
    return con.sql(
        """SELECT arg_max(name, last_seen) AS host, host_key,
                  list(name ORDER BY first_seen, name) AS names, count(*) AS n_names,
                  sum(events) AS events, min(first_seen) AS first_seen,
                  max(last_seen) AS last_seen
           FROM host_names GROUP BY host_key ORDER BY host"""
    ).to_arrow_table()


def facets(con: duckdb.DuckDBPyConnection) -> Facets:
    if not _has(con, "sessions"):
        return Facets((), (), (), None, None)

    def distinct(column: str) -> tuple[str, ...]:
        # column names are constants of this module, never user input
        rows = con.sql(
            f'SELECT DISTINCT "{column}" FROM sessions WHERE "{column}" IS NOT NULL ORDER BY 1'
        ).fetchall()
        return tuple(str(r[0]) for r in rows)

    first, last = con.sql(
        'SELECT min(start), max(coalesce("end", start)) FROM sessions'
    ).fetchall()[0]
    if _has(con, "host_names"):  # one per machine, under its latest name
        rows = con.sql(_LATEST_NAMES).fetchall()
        return Facets(
            tuple(r[0] for r in rows),
            distinct("logon_kind"),
            distinct("outcome"),
            first,
            last,
            {r[0]: tuple(n for n in r[1] if n != r[0]) for r in rows},
        )
    # one name per host_key (a host seen as NAME and NAME.domain is one host)
    hosts = tuple(
        str(r[0])
        for r in con.sql(
            "SELECT mode(host) FROM sessions WHERE host IS NOT NULL GROUP BY host_key ORDER BY 1"
        ).fetchall()
    )
    return Facets(hosts, distinct("logon_kind"), distinct("outcome"), first, last)


def source_events(
    con: duckdb.DuckDBPyConnection, sources: pa.Table, case_dir: Path | None = None
) -> pa.Table:
    """`sources` (rows of session_sources) with the key fields of each original event.
    `case_dir`: the case's folder, so only the events files of the sources' evidence are read
    (a case of 10 M events has hundreds; the `events` view opens every one: ~5x the time)."""
    wanted = ["time", "channel", "event_id", "role"]
    keys = sources.select(
        [c for c in wanted if c in sources.column_names]
        + [c for c in sources.column_names if c not in wanted]
    )
    if keys.num_rows == 0 or "record_id" not in keys.column_names:
        return keys
    shas = sorted({s for s in keys.column("evidence_sha256").to_pylist() if s})
    ids = sorted({r for r in keys.column("record_id").to_pylist() if r is not None})
    files = _event_files(con, case_dir, shas) if ids else None
    if files:
        # Expressions, not SQL text: the paths and values stay values. The record range
        # skips the row groups (time-sorted files, record ids rising with time) outside it.
        column = duckdb.ColumnExpression
        wanted_rows = (
            column("evidence_sha256").isin(*(duckdb.ConstantExpression(s) for s in shas))
            & column("record_id").between(
                duckdb.ConstantExpression(ids[0]), duckdb.ConstantExpression(ids[-1])
            )
            & column("record_id").isin(*(duckdb.ConstantExpression(r) for r in ids))
        )
        found = (
            con.read_parquet(files)
            .filter(wanted_rows)
            .select(*(column(c) for c in ("evidence_sha256", "record_id", *KEY_FIELDS)))
            .to_arrow_table()
        )
    else:
        fields = ", ".join(f'"{f}"' for f in KEY_FIELDS)
        # Parameters only (no temp objects): the file list narrows the scan to these
        # evidence files; the exact pairs are then matched by an Arrow join.
        found = con.sql(
            f"""SELECT evidence_sha256, record_id, {fields} FROM events
                WHERE list_contains(?, evidence_sha256) AND list_contains(?, record_id)""",
            params=[shas, ids],
        ).to_arrow_table()
    joined = keys.join(found, ["evidence_sha256", "record_id"], join_type="left outer")
    # a total order (records of two files can share a time and a record id): stable output
    keys_order = [
        (c, "ascending")
        for c in ("time", "record_id", "channel", "event_id", "evidence_sha256")
        if c in joined.column_names
    ]
    order = pc.sort_indices(joined, sort_keys=keys_order)
    return joined.take(order)


def _event_files(
    con: duckdb.DuckDBPyConnection, case_dir: Path | None, shas: list[str]
) -> list[str] | None:
    """The events files holding the records of evidence `shas` (the `evidence` table lists
    them, relative to the case), or None when some evidence lists none."""
    if case_dir is None or not shas or not _has(con, "evidence"):
        return None
    rows = con.execute(
        "SELECT sha256, event_files FROM evidence WHERE list_contains(?, sha256)", [shas]
    ).fetchall()
    listed = {sha: files for sha, files in rows if files}
    if set(listed) != set(shas):
        return None
    return sorted({str(Path(case_dir) / f) for files in listed.values() for f in files})


def event(
    con: duckdb.DuckDBPyConnection, evidence_sha256: str, record_id: int
) -> dict[str, Any] | None:
    """The whole stored event (every column; `data` decoded from its JSON text)."""
    table = con.sql(
        "SELECT * FROM events WHERE evidence_sha256 = ? AND record_id = ? LIMIT 1",
        params=[evidence_sha256, int(record_id)],
    ).to_arrow_table()
    if table.num_rows == 0:
        return None
    row: dict[str, Any] = table.to_pylist()[0]
    if isinstance(row.get("data"), str):
        try:
            row["data"] = json.loads(row["data"])
        except ValueError:
            pass  # kept as the text it is
    if _has(con, "evidence"):
        found = con.sql(
            "SELECT path FROM evidence WHERE sha256 = ?", params=[evidence_sha256]
        ).fetchall()
        row["evidence_path"] = found[0][0] if found else None
    return row
