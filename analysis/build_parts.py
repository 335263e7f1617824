"""The parts of a build (`analysis.build`): hosts correlated in tasks, then one assembly.

Sessions are per host, so a task correlates and attributes a group of hosts of about
`TASK_EVENTS` events on its own connection (its share of the memory budget) and writes its
sessions, sources, activity and signs of tampering as Parquet parts; tasks run on an executor
(`storage.executors`: worker processes here, or a Dask cluster), and one that fails twice
is left out and reported, not fatal.
`analysis.build_assembly` then writes the derived tables from the parts (and the previous
rows of hosts that did not change).
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from logonscope.analysis import attribution, session_views, tampering
from logonscope.analysis import sessions as sessions_mod
from logonscope.storage import case as case_folder
from logonscope.storage import connection, executors, identity
from logonscope.storage.schema import EVENTS_SCHEMA
from logonscope.storage.vocabulary import GATEWAY, require_identifier

# Events per correlation task: bounds what one task holds (its DuckDB share plus the Arrow
# tables it returns); a host is never split, sessions being per host. A task also pays a
# fixed ~1 CPU s (some 100 statements planned, whatever its size): fewer, larger tasks pay
# it less often. 420k: since the steps' working tables are dropped after step 10, a task of
# this size holds what one of 300k held before (~410 MB of DuckDB tables at its end).
TASK_EVENTS = 420_000
DERIVED = (
    "sessions",
    "session_sources",
    "activity",
    "tampering",
    "logon_sessions",
    "desktop_sessions",
)
# Below one DuckDB row group of events, a statement runs on one thread whatever the setting:
# more threads only wake up to find no work (a tiny build paid ~15 % more CPU with two).
SMALL_EVENTS = 122_880


def threads_for(events: int, threads: int | None) -> int | None:
    """DuckDB threads for work over `events` events: one when they are few."""
    return 1 if events < SMALL_EVENTS else threads


# On so few rows a statement's plan is most of its cost (a tiny task: ~0.5 of ~0.9 CPU s),
# and these optimizer passes are ~40 % of planning (common subexpressions and the expression
# rewriter alone ~0.15 s a tiny build) while the plan's shape hardly matters. They never
# change what a statement returns; larger work keeps them.
LEAN_OPTIMIZERS = (
    "common_subexpressions",
    "common_subplan",
    "expression_rewriter",
    "join_order",
    "statistics_propagation",
)


def plan_lightly(con: duckdb.DuckDBPyConnection, events: int) -> None:
    """Skip the `LEAN_OPTIMIZERS` on `con` when its work is over fewer than SMALL_EVENTS."""
    if events < SMALL_EVENTS:
        con.execute(f"SET disabled_optimizers = '{','.join(LEAN_OPTIMIZERS)}'")


# The RD Gateway events of the whole case, written once per build into its work folder: a
# gateway's log explains sessions on other hosts, which other tasks correlate.
GATEWAY_FILE = "gateway-events.parquet"
# A task's parts are read once, by the assembly: cheap to write rather than small.
PART_COMPRESSION = "snappy"


def gateway_sql(relation: str = "events") -> str:
    """The RD Gateway connect/disconnect events of `relation` (our own relation names)."""
    return (
        f"SELECT * FROM {require_identifier(relation)} WHERE event_id IN (302, 303) "
        f"AND channel = '{GATEWAY}'"
    )


def gateway_events(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The case's RD Gateway events (few: a gateway's connects and disconnects)."""
    return con.sql(gateway_sql()).to_arrow_table().cast(EVENTS_SCHEMA)


def write_gateway_events(table: pa.Table, work: Path) -> None:
    """Every task reads the gateway events of every host from `work`/GATEWAY_FILE."""
    case_folder.write_table_atomic(work / GATEWAY_FILE, table)


def plan(
    hosts: list[str], counts: Mapping[str | None, int], size: int, slots: int = 1
) -> list[list[str]]:
    """Hosts grouped into tasks of about `size` events, largest task first; never none: the
    first task also takes the events without a host and the orphan imported rows.

    When a case needs more than one task, their number is a multiple of `slots` (the
    workers; hosts allowing), and each host goes to the task with the fewest events so far
    (largest host first): the workers finish together instead of one idling while another
    runs a last, full task."""
    total = sum(counts.get(h, 0) for h in hosts)
    n = max(1, -(-total // max(1, size)))
    if n > 1:  # one task runs in this process: no worker to start for a small case
        n = -(-n // max(1, slots)) * max(1, slots)
    n = max(1, min(n, len(hosts)))
    heap = [(0, k) for k in range(n)]
    tasks: list[list[str]] = [[] for _ in range(n)]
    for host in sorted(hosts, key=lambda h: (-counts.get(h, 0), h)):
        filled, k = heapq.heappop(heap)
        tasks[k].append(host)
        heapq.heappush(heap, (filled + counts.get(host, 0), k))
    events = {k: filled for filled, k in heap}
    return [tasks[k] for k in sorted(range(n), key=lambda k: (-events[k], k))]


def task_name(hosts: list[str], orphans: bool) -> str:
    """How a user reads a failed task: the hosts it covers."""
    names = [h for h in hosts[:3]] + ([f"+{len(hosts) - 3} more"] if len(hosts) > 3 else [])
    if orphans:
        names.append("events without a host")
    return "hosts " + ", ".join(names) if hosts else ", ".join(names) or "no hosts"


def run(
    root: Path,
    work: Path,
    tasks: list[list[str]],
    hosts: list[str],
    with_imported: bool,
    rules: sessions_mod.Rules | None,
    executor: executors.Executor,
    say: Callable[[str], None],
    canon: dict[str, str] | None = None,
    counts: Mapping[str | None, int] | None = None,
) -> dict[str, list[str]]:
    """Correlate every task on `executor`; returns the tasks that failed twice, by name, with
    their hosts (their parts are missing: the assembly builds the rest). `counts`: events per
    host, when known (a small task runs on one DuckDB thread)."""
    share = max(1, min(executor.share, len(tasks)))
    threads = executor.threads
    if threads is not None and executor.kind == "local":
        threads = max(1, (os.cpu_count() or 1) // share)
    sizes = [
        None
        if counts is None
        else sum(counts.get(h, 0) for h in task) + (counts.get(None, 0) if n == 0 else 0)
        for n, task in enumerate(tasks)
    ]
    jobs = [
        executors.Task(
            task_name(task, n == 0),
            correlate_task,
            (
                root,
                work / f"part-{n}",
                task,
                n == 0,
                hosts,
                with_imported,
                rules,
                share,
                threads if size is None else threads_for(size, threads),
                {a: m for a, m in (canon or {}).items() if m in task and a != m},
                size,
            ),
        )
        for n, (task, size) in enumerate(zip(tasks, sizes, strict=True))
    ]
    outcome = executor.run(jobs, say)
    by_name = {job.name: task for job, task in zip(jobs, tasks, strict=True)}
    for name, error in outcome.failed.items():
        say(f"failed twice, left out: {name} ({error})")
    return {name: by_name[name] for name in outcome.failed}


def correlate_task(
    root: Path,
    prefix: Path,
    hosts: list[str],
    orphans: bool,
    all_hosts: list[str],
    with_imported: bool,
    rules: sessions_mod.Rules | None,
    share: int,
    threads: int | None,
    aliases: dict[str, str] | None = None,
    events: int | None = None,
) -> None:
    """Sessions, sources and activity of `hosts` (plus, with `orphans`, events without a host
    and imported rows of no known host), written to `prefix`-{sessions,sources,activity,tampering}.

    `aliases`: the other names (keys) of these hosts -> their host's key; their events are
    read as the host's (`host` keeps the name as written). `events`: how many the task
    reads, when known (a small task is planned lightly: `plan_lightly`)."""
    aliases = aliases or {}
    names = [*hosts, *sorted(aliases)]
    folders = {case_folder.partition_name(h) for h in names}
    if orphans:
        folders.add(case_folder.partition_name(None))
    files = [f for f in case_folder.event_files(root) if Path(f).parent.name in folders]
    imported = case_folder.imported_files(root)
    if not files and not (with_imported and imported):
        # no events and no imported rows: every output would be empty (RD Gateway events
        # alone make no session; each task sees them all). No parts: the assembly reads
        # missing parts as empty tables, and ~120 statements are not planned for nothing.
        return
    con = connection.connect(root, share=share, threads=threads)
    try:
        if events is not None:
            plan_lightly(con, events)
        identity.install_macros(con)
        con.register("_ls_task_hosts", pa.table({"host_key": pa.array(names, pa.string())}))
        con.register(
            "_ls_host_map",
            pa.table(
                {
                    "alias": pa.array(list(aliases), pa.string()),
                    "host_key": pa.array(list(aliases.values()), pa.string()),
                }
            ),
        )
        con.register("_ls_all_hosts", pa.table({"host_key": pa.array(all_hosts, pa.string())}))
        if files:
            con.read_parquet(files).create_view("_ls_case_events")
        else:
            con.register("_ls_case_events", EVENTS_SCHEMA.empty_table())
        null_hosts = "OR e.host_key IS NULL" if orphans else ""
        # a renamed host's events under its one key (only when it has other names: the plain
        # view keeps every filter pushed down into the Parquet scan)
        mapped = (
            "SELECT e.* REPLACE (coalesce(m.host_key, e.host_key) AS host_key) "
            "FROM _ls_case_events e LEFT JOIN _ls_host_map m ON m.alias = e.host_key"
            if aliases
            else "SELECT * FROM _ls_case_events e"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW events AS {mapped} WHERE e.host_key "
            f"IN (SELECT host_key FROM _ls_task_hosts) {null_hosts}"
        )
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
        gateway = prefix.parent / GATEWAY_FILE
        if gateway.exists():
            con.read_parquet(str(gateway)).create_view("_ls_gateway_events")
        else:
            con.register("_ls_gateway_events", EVENTS_SCHEMA.empty_table())
        # every table stays on `con` until written: no Arrow round trip, no sort (the
        # assembly sorts each table once)
        sessions_mod.correlate(con, rules, gateway_events="_ls_gateway_events")
        # the Windows logon and desktop views, from what the correlation left on `con`
        outputs = {
            "sources": ("_ls_src_rows", sessions_mod.SOURCES_SCHEMA),
            **{
                name: (temp, session_views.SCHEMAS[name])
                for name, temp in session_views.correlate_views(con).items()
            },
        }
        attribution.attribute_into(
            con,
            "_ls_rows",
            "_ls_src_rows",
            with_imported=with_imported and bool(imported),
            host_map="_ls_host_map",
        )
        outputs["activity"] = ("_at_result", attribution.SCHEMA)
        con.register("_ls_evidence", case_folder.evidence(root))
        con.register("_ls_signs", tampering.signs(con, "_ls_evidence"))
        outputs["tampering"] = ("_ls_signs", tampering.SCHEMA)
        con.execute(
            """CREATE OR REPLACE TEMP VIEW _ls_counted AS
               SELECT s.* REPLACE (coalesce(a.n, 0) AS n_activity)
               FROM _ls_rows s LEFT JOIN (SELECT session_id, count(*) AS n FROM _at_result
                                          WHERE session_id IS NOT NULL GROUP BY 1) a
               USING (session_id)"""
        )
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _ls_flagged AS "
            + tampering.flag_sql("_ls_counted", "_ls_signs")
        )
        outputs["sessions"] = ("_ls_flagged", sessions_mod.SESSIONS_SCHEMA)
        for name, (relation, schema) in outputs.items():
            case_folder.write_part(
                con,
                f"SELECT {_columns(schema)} FROM {relation}",
                prefix.with_name(f"{prefix.name}-{name}.parquet"),
                compression=PART_COMPRESSION,
            )
    finally:
        connection.close(con)


def _columns(schema: pa.Schema) -> str:
    return ", ".join('"' + name.replace('"', '""') + '"' for name in schema.names)
