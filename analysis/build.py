"""Build the derived tables of a case: sessions, session_sources, users, user_ips (and the
last two over non-system sessions only: users_nonsystem, user_ips_nonsystem).

`build(case_dir)` reads the case through `storage.case.connect`, computes the tables with
`analysis.sessions` / `analysis.views`, and writes them with `storage.case.write_derived`
(atomic per table). A `build_info` table remembers, per host, which evidence files the
sessions were built from and with which rules version, so that:

- nothing is rebuilt when the evidence set has not changed (`ensure_built` is cheap: it compares
  one digest of the evidence list);
- when evidence changes, only the hosts whose set of evidence files changed are re-correlated
  (sessions are per host); the others' rows are kept as they were.

This module does no file I/O of its own: storage reads and writes; it must not import the UI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from logonscope.analysis import attribution, views
from logonscope.analysis import sessions as sessions_mod
from logonscope.analysis.queries import has_view
from logonscope.storage import identity
from logonscope.storage.case import connect, write_derived

# Bump when a correlation rule changes: every host is then rebuilt once.
RULES_VERSION = "sessions-3"
DERIVED = (
    "sessions",
    "session_sources",
    "users",
    "user_ips",
    "activity",
    "host_aliases",
    "build_info",
)

BUILD_INFO_SCHEMA = pa.schema(
    [
        ("host_key", pa.string()),
        ("host_digest", pa.string()),
        ("evidence_digest", pa.string()),
        ("rules_version", pa.string()),
        ("built_at", pa.timestamp("us", tz="UTC")),
    ]
)

Progress = Callable[[str], None]


@dataclass
class BuildReport:
    rebuilt: bool = False
    hosts_rebuilt: list[str] = field(default_factory=list)
    hosts_kept: int = 0
    events: int = 0
    sessions: int = 0
    sources: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.rebuilt:
            return "sessions up to date"
        return (
            f"sessions built: {self.sessions:,} sessions, {self.sources:,} sources, "
            f"{len(self.hosts_rebuilt)} host(s) re-correlated, {self.hosts_kept} kept, "
            f"in {self.seconds:.1f} s"
        )


def evidence_digest(con: duckdb.DuckDBPyConnection) -> str:
    """One digest of the case's evidence set and the rules version."""
    shas = [
        row[0]
        for row in con.execute("SELECT DISTINCT sha256 FROM evidence ORDER BY sha256").fetchall()
    ]
    return hashlib.sha256("\n".join([RULES_VERSION, *shas]).encode()).hexdigest()


def host_digests(con: duckdb.DuckDBPyConnection) -> dict[str | None, str]:
    """Per host_key: a digest of the evidence files holding its events (+ rules version)."""
    rows = con.execute(
        """SELECT host_key, string_agg(DISTINCT evidence_sha256, ',' ORDER BY evidence_sha256)
           FROM events GROUP BY host_key"""
    ).fetchall()
    return {h: hashlib.sha256(f"{RULES_VERSION}|{s}".encode()).hexdigest() for h, s in rows}


def _previous(con: duckdb.DuckDBPyConnection) -> tuple[str | None, dict[str | None, str]]:
    if not all(has_view(con, name) for name in DERIVED):
        return None, {}
    rows = con.execute(
        "SELECT host_key, host_digest, evidence_digest, rules_version FROM build_info"
    ).fetchall()
    if not rows or any(r[3] != RULES_VERSION for r in rows):
        return None, {}
    return rows[0][2], {r[0]: r[1] for r in rows}


def is_stale(case_dir: Path | str) -> bool:
    """True when derived tables are missing or were built from another evidence set/rules."""
    con = connect(Path(case_dir))
    try:
        digest, _ = _previous(con)
        return digest != evidence_digest(con)
    finally:
        con.close()


def ensure_built(case_dir: Path | str, progress: Progress | None = None) -> BuildReport:
    """Build the derived tables if they are missing or stale; otherwise do nothing."""
    if is_stale(case_dir):
        return build(case_dir, progress)
    return BuildReport()


def build(
    case_dir: Path | str,
    progress: Progress | None = None,
    force: bool = False,
    rules: sessions_mod.Rules | None = None,
) -> BuildReport:
    """(Re)build sessions, session_sources, users, user_ips under `case_dir/derived/`."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    report = BuildReport(rebuilt=True)
    con = connect(Path(case_dir))
    try:
        ev_digest = evidence_digest(con)
        old_digest, old_hosts = (None, {}) if force else _previous(con)
        digests = host_digests(con)
        changed = [h for h, d in digests.items() if old_hosts.get(h) != d]
        incremental = old_digest is not None and len(changed) < len(digests)
        report.hosts_rebuilt = sorted(h or "" for h in changed)
        report.hosts_kept = len(digests) - len(changed)
        say(f"correlating sessions for {len(changed)} host(s)")
        if incremental:
            con.register("_ls_changed", pa.table({"host_key": pa.array(changed, pa.string())}))
            con.execute(
                """CREATE OR REPLACE TEMP VIEW _ls_events_sub AS SELECT * FROM events
                   WHERE host_key IN (SELECT host_key FROM _ls_changed)
                      OR (host_key IS NULL AND EXISTS (SELECT 1 FROM _ls_changed
                                                       WHERE host_key IS NULL))"""
            )
            new_s, new_src = sessions_mod.build_sessions(con, rules, events="_ls_events_sub")
            con.register("_ls_new_s", new_s)
            con.register("_ls_new_src", new_src)
            sess = con.sql(
                """SELECT * FROM sessions WHERE host_key IS NULL
                       OR host_key NOT IN (SELECT host_key FROM _ls_changed WHERE host_key
                                           IS NOT NULL)
                   UNION ALL BY NAME SELECT * FROM _ls_new_s
                   ORDER BY start, host_key, session_id"""
            ).to_arrow_table()
            src = con.sql(
                """SELECT * FROM session_sources WHERE session_id IN (
                       SELECT session_id FROM sessions WHERE host_key IS NULL OR host_key
                       NOT IN (SELECT host_key FROM _ls_changed WHERE host_key IS NOT NULL))
                   UNION ALL BY NAME SELECT * FROM _ls_new_src"""
            ).to_arrow_table()
            sess = sess.select(sessions_mod.SESSIONS_SCHEMA.names).cast(
                sessions_mod.SESSIONS_SCHEMA
            )
            src = src.select(sessions_mod.SOURCES_SCHEMA.names).cast(sessions_mod.SOURCES_SCHEMA)
        else:
            sess, src = sessions_mod.build_sessions(con, rules)
        say("attributing activity to sessions")
        con.register("_ls_built", sess)
        con.register("_ls_built_src", src)
        activity = attribution.attribute(
            con, "_ls_built", "_ls_built_src", with_imported=has_view(con, "imported")
        )
        con.register("_ls_activity", activity)
        sess = con.sql(
            """SELECT s.* REPLACE (coalesce(a.n, 0) AS n_activity)
               FROM _ls_built s LEFT JOIN (SELECT session_id, count(*) AS n FROM _ls_activity
                                           WHERE session_id IS NOT NULL GROUP BY 1) a
               USING (session_id)
               -- stored by user then time: a user's sessions sit in few row groups
               ORDER BY s.user_key, s.start, s.host_key, s.session_id"""
        ).to_arrow_table()
        sess = sess.select(sessions_mod.SESSIONS_SCHEMA.names).cast(sessions_mod.SESSIONS_SCHEMA)
        say("summarising users and source addresses")
        con.register("_ls_built", sess)
        tables = views.build_views(con, "_ls_built")
        # the same summaries over what the default filters show (system sessions hidden), so
        # the app's first screen reads them instead of aggregating (analysis.queries)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _ls_built_nonsystem AS "
            "SELECT * FROM _ls_built WHERE NOT system"
        )
        for name, table in views.build_views(con, "_ls_built_nonsystem").items():
            tables[f"{name}_nonsystem"] = table
        # renamed hosts: one machine under several names (storage.identity)
        tables["host_aliases"] = con.sql(identity.host_aliases_sql()).to_arrow_table()
        now = dt.datetime.now(dt.timezone.utc)
        if not digests:  # an empty case is built too: remember it
            digests = {None: ""}
        info = pa.table(
            {
                "host_key": pa.array(list(digests), pa.string()),
                "host_digest": pa.array(list(digests.values()), pa.string()),
                "evidence_digest": pa.array([ev_digest] * len(digests), pa.string()),
                "rules_version": pa.array([RULES_VERSION] * len(digests), pa.string()),
                "built_at": pa.array(
                    [now] * len(digests), BUILD_INFO_SCHEMA.field("built_at").type
                ),
            },
            schema=BUILD_INFO_SCHEMA,
        )
        counted = con.execute("SELECT count(*) FROM events").fetchone()
        report.events = int(counted[0]) if counted else 0
    finally:
        con.close()
    # build_info last: a crash before it leaves the case "stale", so the next read rebuilds.
    src = src.sort_by(
        [("session_id", "ascending"), ("time", "ascending")]
    )  # one session: one row group
    write_derived(
        Path(case_dir), {"sessions": sess, "session_sources": src, "activity": activity, **tables}
    )
    write_derived(Path(case_dir), {"build_info": info})
    report.sessions, report.sources = sess.num_rows, src.num_rows
    report.seconds = time.perf_counter() - started
    say(report.summary())
    return report
