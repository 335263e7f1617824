"""Build the derived tables of a case: sessions, session_sources, users, user_ips (and the
last two over non-system sessions only: users_nonsystem, user_ips_nonsystem).

`build(case_dir)` reads the case through `storage.case.connect`, computes the tables with
`analysis.sessions` / `analysis.views`, and writes them with `storage.case.write_derived*`
(atomic per table). A host renamed mid-log is one machine: its names are mapped to one key
(`analysis.hosts`) before any task runs, tasks and digests are per machine, and `host_names`
keeps every name as written. It runs under the case lock (a second builder waits, then finds
the case built) and within the memory budget of `storage.connection`: sessions are per host, so hosts
are correlated and attributed in tasks of bounded size, in parallel worker processes that
share the budget, and the tables are assembled by DuckDB, spilling to disk
(`analysis.build_parts`, `analysis.build_assembly`). A `build_info` table remembers, per host,
which evidence files the sessions were built from and with which rules version, so that:

- nothing is rebuilt when the evidence set has not changed (`ensure_built` is cheap: it compares
  one digest of the evidence list);
- when evidence changes, only the hosts whose set of evidence files changed are re-correlated
  (sessions are per host); the others' rows are kept as they were.

This module does no file I/O of its own: storage reads and writes; it must not import the UI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from logonscope.analysis import build_assembly
from logonscope.analysis import build_parts as parts
from logonscope.analysis import hosts as machines
from logonscope.analysis import sessions as sessions_mod
from logonscope.analysis.build_state import DERIVED, RULES_VERSION, evidence_digest, is_stale
from logonscope.analysis.build_state import previous as _previous
from logonscope.storage import case as case_folder
from logonscope.storage import connection, executors, geoip, identity

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
TASK_EVENTS = parts.TASK_EVENTS


@dataclass
class BuildReport:
    rebuilt: bool = False
    hosts_rebuilt: list[str] = field(default_factory=list)
    hosts_kept: int = 0
    events: int = 0
    sessions: int = 0
    sources: int = 0
    seconds: float = 0.0
    # tasks that failed twice (by name: the hosts they cover) and the hosts left out
    failed: list[str] = field(default_factory=list)
    hosts_failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.rebuilt:
            return "sessions up to date"
        text = (
            f"sessions built: {self.sessions:,} sessions, {self.sources:,} sources, "
            f"{len(self.hosts_rebuilt)} host(s) re-correlated, {self.hosts_kept} kept, "
            f"in {self.seconds:.1f} s"
        )
        if self.failed:
            text += (
                f"; INCOMPLETE: {len(self.hosts_failed)} host(s) left out after failing twice "
                f"({'; '.join(self.failed)}); the next command that reads sessions retries them"
            )
        return text


def host_digests(con: duckdb.DuckDBPyConnection) -> dict[str | None, str]:
    """Per host_key: a digest of the evidence files holding its events (+ rules version), and
    of those holding RD Gateway events: a gateway's log changes sessions on every host."""
    rows = con.execute(
        """SELECT host_key, string_agg(DISTINCT evidence_sha256, ',' ORDER BY evidence_sha256)
           FROM events GROUP BY host_key"""
    ).fetchall()
    gateways = ",".join(
        sorted(
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT evidence_sha256 FROM ({parts.gateway_sql()})"
            ).fetchall()
        )
    )
    return {
        h: hashlib.sha256(f"{RULES_VERSION}|{s}|{gateways}".encode()).hexdigest() for h, s in rows
    }


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


def ensure_built(
    case_dir: Path | str,
    progress: Progress | None = None,
    jobs: int | None = None,
    executor: executors.Executor | None = None,
) -> BuildReport:
    """Build the derived tables if they are missing or stale; otherwise do nothing.

    Concurrent callers queue on the case lock; the ones after the first find the case built.
    """
    if not is_stale(case_dir):
        return BuildReport()
    with _locked(case_dir, progress):
        if not is_stale(case_dir):
            return BuildReport()
        return _build(Path(case_dir), progress, jobs=jobs, executor=executor)


def build(
    case_dir: Path | str,
    progress: Progress | None = None,
    force: bool = False,
    rules: sessions_mod.Rules | None = None,
    jobs: int | None = None,
    task_events: int = TASK_EVENTS,
    executor: executors.Executor | None = None,
) -> BuildReport:
    """(Re)build sessions, session_sources, users, user_ips under `case_dir/derived/`.

    Tasks run on `executor` (default: the configured one, `storage.executors.configured`,
    with `jobs` local worker processes sharing the memory budget); `task_events` is the size
    of one correlation task (tests make it small to exercise the split).
    """
    with _locked(case_dir, progress):
        return _build(Path(case_dir), progress, force, rules, jobs, task_events, executor)


def _locked(case_dir: Path | str, progress: Progress | None) -> AbstractContextManager[None]:
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
    executor: executors.Executor | None = None,
) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport(rebuilt=True)
    # the records the evidence rows say were stored: the case's size before any query
    stored = case_folder.evidence(root).column("stored").to_pylist()
    threads = parts.threads_for(sum(n or 0 for n in stored), None)
    # one connection for what runs here, before the tasks and after them (the assembly): a
    # DuckDB database costs ~30 ms of CPU to open and its case views ~50 ms to make. While
    # the tasks run it holds nothing but those views (no table of its own).
    con = case_folder.connect(root, threads=threads)
    try:
        parts.plan_lightly(con, sum(n or 0 for n in stored))
        return _build_on(
            root, con, report, started, progress, force, rules, jobs, task_events, executor
        )
    finally:
        connection.close(con)


def _build_on(
    root: Path,
    con: duckdb.DuckDBPyConnection,
    report: BuildReport,
    started: float,
    progress: Progress | None,
    force: bool,
    rules: sessions_mod.Rules | None,
    jobs: int | None,
    task_events: int,
    executor: executors.Executor | None,
) -> BuildReport:
    say = progress or (lambda _msg: None)
    places = geoip.databases(root)
    ev_digest = evidence_digest(root, geoip.digest(places))
    old_digest, old_hosts = (None, {}) if force else _previous(root)
    raw_digests = host_digests(con)
    names = con.execute(
        "SELECT host_key, host, count(*), min(time), max(time) FROM events GROUP BY ALL"
    ).fetchall()
    pairs = con.execute(f"SELECT host_key, alias FROM ({identity.host_aliases_sql()})").fetchall()
    with_imported = bool(case_folder.imported_files(root))  # the `imported` view's files
    # taken now, written into the build's work folder below: one connection fewer
    gateway = parts.gateway_events(con)
    # renamed hosts: every name of one machine is correlated as that machine (its key)
    raw_counts: dict[str | None, int] = {}
    for key, _name, n, _first, _last in names:
        raw_counts[key] = raw_counts.get(key, 0) + n
    canon = machines.canonical_hosts(pairs, {k: n for k, n in raw_counts.items() if k})
    digests = machines.merged_digests(raw_digests, canon)
    counts: dict[str | None, int] = {}
    for key, n in raw_counts.items():
        machine = canon.get(key, key) if key is not None else None
        counts[machine] = counts.get(machine, 0) + n
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
    executor = executor or executors.configured(jobs)
    tasks = parts.plan(redo, counts, task_events, executor.slots())
    hosts = [h for h in raw_digests if h is not None]
    spill = connection.spill_folder(root)
    spill.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"build-{os.getpid()}-", dir=spill))
    try:
        parts.write_gateway_events(gateway, work)
        del gateway
        failed = parts.run(
            root,
            work,
            tasks,
            hosts,
            with_imported,
            rules,
            executor,
            say,
            canon,
            counts,
        )
        report.failed = sorted(failed)
        report.hosts_failed = sorted(h for group in failed.values() for h in group)
        for db in places:
            if db.sha256 is None:
                say(f"{db.kind} database {db.path} is missing or unreadable: not used")
        say("summarising users and source addresses")
        report.sessions, report.sources = build_assembly.assemble(
            root, work, kept, places, report.events, con
        )
        case_folder.write_derived(root, {"host_names": machines.host_names_table(names, canon)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    now = dt.datetime.now(dt.timezone.utc)
    if not digests:  # an empty case is built too: remember it
        digests = {None: ""}
    if report.failed:
        # hosts left out are not built: the next build redoes them (and only them)
        digests = {h: "" if h in report.hosts_failed else d for h, d in digests.items()}
        ev_digest = "incomplete"
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
    geoip.remember(root, places)  # which databases the tables were built with
    case_folder.write_derived(root, {"build_info": info})
    report.seconds = time.perf_counter() - started
    say(report.summary())
    return report
