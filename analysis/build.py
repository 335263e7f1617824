"""Build the derived tables of a case: sessions, session_sources, users, user_ips (and the
last two over non-system sessions only: users_nonsystem, user_ips_nonsystem).

`build(case_dir)` reads the case through `storage.case.connect`, computes the tables with
`analysis.sessions` / `analysis.views`, and writes them with `storage.case.write_derived*`
(atomic per table). It runs under the case lock (a second builder waits, then finds the case
built), and within the memory budget of `storage.connection`: sessions are per host, so hosts
are correlated and attributed in tasks of bounded size (in parallel worker processes, each
with its share of the budget), and the tables are assembled by DuckDB, spilling to disk. A `build_info` table remembers, per host, which evidence files the
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
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from logonscope.analysis import attribution, identity, views
from logonscope.analysis import sessions as sessions_mod
from logonscope.analysis.queries import has_view
from logonscope.storage import case as case_folder
from logonscope.storage import connection
from logonscope.storage.schema import EVENTS_SCHEMA

# Bump when a correlation rule changes: every host is then rebuilt once.
RULES_VERSION = "sessions-2"
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
# Events per correlation task: bounds what one task holds (its DuckDB share plus the Arrow
# tables it returns); a host is never split, sessions being per host.
TASK_EVENTS = 300_000


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


def reads_derived(sql: str) -> bool:
    """True when `sql` names a derived table (DuckDB's own parser says which tables it
    reads); SQL it cannot parse names none: running it reports the error."""
    derived = {*DERIVED, "users_nonsystem", "user_ips_nonsystem"}
    try:
        statements = duckdb.extract_statements(sql)
        names = {n for st in statements for n in duckdb.get_table_names(st.query)}
    except duckdb.Error:
        return False
    return any(name.lower() in derived for name in names)


def is_stale(case_dir: Path | str) -> bool:
    """True when derived tables are missing or were built from another evidence set/rules."""
    con = case_folder.connect(Path(case_dir))
    try:
        digest, _ = _previous(con)
        return digest != evidence_digest(con)
    finally:
        connection.close(con)


def ensure_built(
    case_dir: Path | str, progress: Progress | None = None, jobs: int | None = None
) -> BuildReport:
    """Build the derived tables if they are missing or stale; otherwise do nothing.

    Concurrent callers queue on the case lock; the ones after the first find the case built.
    """
    if not is_stale(case_dir):
        return BuildReport()
    with _locked(case_dir, progress):
        if not is_stale(case_dir):
            return BuildReport()
        return _build(Path(case_dir), progress, jobs=jobs)


def build(
    case_dir: Path | str,
    progress: Progress | None = None,
    force: bool = False,
    rules: sessions_mod.Rules | None = None,
    jobs: int | None = None,
    task_events: int = TASK_EVENTS,
) -> BuildReport:
    """(Re)build sessions, session_sources, users, user_ips under `case_dir/derived/`.

    `jobs` worker processes (default: all cores) share the memory budget; `task_events`
    is the size of one correlation task (tests make it small to exercise the split).
    """
    with _locked(case_dir, progress):
        return _build(Path(case_dir), progress, force, rules, jobs, task_events)


def _locked(case_dir: Path | str, progress: Progress | None):  # noqa: ANN202
    say = progress or (lambda _msg: None)
    return case_folder.locked(
        case_folder.require_case(Path(case_dir)),
        wait=lambda: say("waiting for another process to finish with the case"),
    )


def _build(
    root: Path,
    progress: Progress | None = None,
    force: bool = False,
    rules: sessions_mod.Rules | None = None,
    jobs: int | None = None,
    task_events: int = TASK_EVENTS,
) -> BuildReport:
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    report = BuildReport(rebuilt=True)
    con = case_folder.connect(root)
    try:
        ev_digest = evidence_digest(con)
        old_digest, old_hosts = (None, {}) if force else _previous(con)
        digests = host_digests(con)
        counts = dict(con.execute("SELECT host_key, count(*) FROM events GROUP BY 1").fetchall())
        with_imported = has_view(con, "imported")
    finally:
        connection.close(con)
    report.events = sum(counts.values())
    changed = [h for h, d in digests.items() if old_hosts.get(h) != d]
    incremental = old_digest is not None and len(changed) < len(digests)
    report.hosts_rebuilt = sorted(h or "" for h in changed)
    report.hosts_kept = len(digests) - len(changed)
    say(f"correlating sessions for {len(changed)} host(s)")
    # events without a host and imported rows of no known host go with the first task, always
    redo = [h for h in changed if h is not None]
    kept = [h for h in digests if h is not None and h not in redo]
    if not incremental:
        redo, kept = [h for h in digests if h is not None], []
    tasks = _tasks(redo, counts, task_events)
    hosts = [h for h in digests if h is not None]
    (root / connection.SPILL).mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"build-{os.getpid()}-", dir=root / connection.SPILL))
    try:
        _run_tasks(root, work, tasks, hosts, with_imported, rules, jobs, say)
        say("summarising users and source addresses")
        report.sessions, report.sources = _assemble(root, work, kept)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    now = dt.datetime.now(dt.timezone.utc)
    if not digests:  # an empty case is built too: remember it
        digests = {None: ""}
    info = pa.table(
        {
            "host_key": pa.array(list(digests), pa.string()),
            "host_digest": pa.array(list(digests.values()), pa.string()),
            "evidence_digest": pa.array([ev_digest] * len(digests), pa.string()),
            "rules_version": pa.array([RULES_VERSION] * len(digests), pa.string()),
            "built_at": pa.array([now] * len(digests), BUILD_INFO_SCHEMA.field("built_at").type),
        },
        schema=BUILD_INFO_SCHEMA,
    )
    # build_info last: a crash before it leaves the case "stale", so the next read rebuilds.
    case_folder.write_derived(root, {"build_info": info})
    report.seconds = time.perf_counter() - started
    say(report.summary())
    return report


def _tasks(hosts: list[str], counts: dict, size: int) -> list[list[str]]:
    """Hosts grouped into tasks of about `size` events (largest first); never none: the
    first task also takes the events without a host and the orphan imported rows."""
    tasks: list[list[str]] = [[]]
    filled = 0
    for host in sorted(hosts, key=lambda h: (-counts.get(h, 0), h)):
        if tasks[-1] and filled + counts.get(host, 0) > size:
            tasks.append([])
            filled = 0
        tasks[-1].append(host)
        filled += counts.get(host, 0)
    return tasks


def _run_tasks(
    root: Path,
    work: Path,
    tasks: list[list[str]],
    hosts: list[str],
    with_imported: bool,
    rules: sessions_mod.Rules | None,
    jobs: int | None,
    say: Progress,
) -> None:
    cores = os.cpu_count() or 1
    workers = max(1, min(jobs or cores, len(tasks)))
    threads = max(1, cores // workers)
    args = [
        (root, work / f"part-{n}", task, n == 0, hosts, with_imported, rules, workers, threads)
        for n, task in enumerate(tasks)
    ]
    if workers == 1:
        for one in args:
            correlate_task(*one)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(correlate_task, *one) for one in args]
        for done, future in enumerate(futures, 1):
            future.result()
            if done % max(1, len(futures) // 10) == 0 and done < len(futures):
                say(f"correlated {done}/{len(futures)} task(s)")


def correlate_task(
    root: Path,
    prefix: Path,
    hosts: list[str],
    orphans: bool,
    all_hosts: list[str],
    with_imported: bool,
    rules: sessions_mod.Rules | None,
    share: int,
    threads: int,
) -> None:
    """Sessions, sources and activity of `hosts` (plus, with `orphans`, events without a host
    and imported rows of no known host), written to `prefix`-{sessions,sources,activity}."""
    con = connection.connect(root, share=share, threads=threads)
    try:
        identity.install_macros(con)
        con.register("_ls_task_hosts", pa.table({"host_key": pa.array(hosts, pa.string())}))
        con.register("_ls_all_hosts", pa.table({"host_key": pa.array(all_hosts, pa.string())}))
        folders = {case_folder.partition_name(h) for h in hosts}
        if orphans:
            folders.add(case_folder.partition_name(None))
        files = [f for f in case_folder.event_files(root) if Path(f).parent.name in folders]
        if files:
            con.read_parquet(files).create_view("_ls_case_events")
        else:
            con.register("_ls_case_events", EVENTS_SCHEMA.empty_table())
        null_hosts = "OR host_key IS NULL" if orphans else ""
        con.execute(
            "CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM _ls_case_events WHERE host_key "
            f"IN (SELECT host_key FROM _ls_task_hosts) {null_hosts}"
        )
        imported = sorted(str(p) for p in (root / case_folder.IMPORTED).glob("*.parquet"))
        if with_imported and imported:
            con.read_parquet(imported).create_view("_ls_case_imported")
            orphan_rows = (
                "OR ls_host_key(host) IS NULL OR ls_host_key(host) NOT IN "
                "(SELECT host_key FROM _ls_all_hosts)"
                if orphans
                else ""
            )
            con.execute(
                "CREATE OR REPLACE TEMP VIEW imported AS SELECT * FROM _ls_case_imported WHERE "
                f"ls_host_key(host) IN (SELECT host_key FROM _ls_task_hosts) {orphan_rows}"
            )
        sess, src = sessions_mod.build_sessions(con, rules)
        con.register("_ls_built", sess)
        con.register("_ls_built_src", src)
        activity = attribution.attribute(
            con, "_ls_built", "_ls_built_src", with_imported=with_imported and bool(imported)
        )
        con.register("_ls_activity", activity)
        sess = con.sql(
            """SELECT s.* REPLACE (coalesce(a.n, 0) AS n_activity)
               FROM _ls_built s LEFT JOIN (SELECT session_id, count(*) AS n FROM _ls_activity
                                           WHERE session_id IS NOT NULL GROUP BY 1) a
               USING (session_id)"""
        ).to_arrow_table()
        sess = sess.select(sessions_mod.SESSIONS_SCHEMA.names).cast(sessions_mod.SESSIONS_SCHEMA)
    finally:
        connection.close(con)
    for name, table in (("sessions", sess), ("sources", src), ("activity", activity)):
        case_folder.write_table_atomic(prefix.with_name(f"{prefix.name}-{name}.parquet"), table)


def _columns(schema: pa.Schema) -> str:
    return ", ".join('"' + name.replace('"', '""') + '"' for name in schema.names)


def _assemble(root: Path, work: Path, kept: list[str]) -> tuple[int, int]:
    """Write the derived tables from the tasks' parts and the kept hosts' previous rows;
    sources and activity first: they read the previous sessions."""
    con = case_folder.connect(root)
    try:
        con.register("_ls_kept", pa.table({"host_key": pa.array(kept, pa.string())}))
        for name in ("sessions", "sources", "activity"):
            con.read_parquet(str(work / f"part-*-{name}.parquet")).create_view(f"_ls_new_{name}")
        old = bool(kept) and all(has_view(con, n) for n in DERIVED)
        kept_sessions = "SELECT session_id FROM sessions WHERE host_key IN (SELECT * FROM _ls_kept)"
        src_cols = _columns(sessions_mod.SOURCES_SCHEMA)
        src_old = (
            f"UNION ALL SELECT {src_cols} FROM session_sources WHERE session_id IN ({kept_sessions})"
            if old
            else ""
        )
        case_folder.write_derived_relation(
            root,
            "session_sources",
            con.sql(
                f"SELECT {src_cols} FROM _ls_new_sources {src_old} "
                "ORDER BY session_id, time, record_id, role"  # one session: one row group
            ),
            sessions_mod.SOURCES_SCHEMA,
        )
        act_cols = _columns(attribution.SCHEMA)
        act_old = (
            f"UNION ALL SELECT {act_cols} FROM activity WHERE host_key IN (SELECT * FROM _ls_kept)"
            if old
            else ""
        )
        case_folder.write_derived_relation(
            root,
            "activity",
            con.sql(
                f"SELECT {act_cols} FROM _ls_new_activity {act_old} "
                "ORDER BY host_key, time, record_id, channel, evidence_sha256"
            ),
            attribution.SCHEMA,
        )
        cols = _columns(sessions_mod.SESSIONS_SCHEMA)
        sess_old = (
            f"UNION ALL SELECT {cols} FROM sessions WHERE host_key IN (SELECT * FROM _ls_kept)"
            if old
            else ""
        )
        # stored by user then time: a user's sessions sit in few row groups
        case_folder.write_derived_relation(
            root,
            "sessions",
            con.sql(
                f"SELECT {cols} FROM _ls_new_sessions {sess_old} "
                "ORDER BY user_key, start, host_key, session_id"
            ),
            sessions_mod.SESSIONS_SCHEMA,
        )
        con.read_parquet(str(root / case_folder.DERIVED / "sessions.parquet")).create_view(
            "_ls_final"
        )
        tables = views.build_views(con, "_ls_final")
        # the same summaries over what the default filters show (system sessions hidden), so
        # the app's first screen reads them instead of aggregating (analysis.queries)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _ls_final_nonsystem AS "
            "SELECT * FROM _ls_final WHERE NOT system"
        )
        for name, table in views.build_views(con, "_ls_final_nonsystem").items():
            tables[f"{name}_nonsystem"] = table
        # renamed hosts: one machine under several names (analysis.identity)
        tables["host_aliases"] = con.sql(identity.host_aliases_sql()).to_arrow_table()
        case_folder.write_derived(root, tables)
        n_sessions = con.execute("SELECT count(*) FROM _ls_final").fetchall()[0][0]
        written = root / case_folder.DERIVED / "session_sources.parquet"
        n_sources = con.read_parquet(str(written)).aggregate("count(*)").fetchall()[0][0]
    finally:
        connection.close(con)
    return int(n_sessions), int(n_sources)
