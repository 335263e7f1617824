"""Benchmark one correlation step's SQL, two versions alternated, on a task-sized slice.

    .venv/bin/python bench/step_compare.py CASE --upto 09_more OLD.sql NEW.sql \
        --tables _ls_s0,_ls_s [--hosts 3] [--runs 5]

Reads the first `--hosts` hosts' events of CASE (a build task's size at 1 M: ~250k events),
runs the correlation steps through `--upto` on one DuckDB thread (as a build's worker does),
then runs the statements of OLD.sql and NEW.sql (step files: `$name` placeholders as in
`analysis/sql/`), alternating, `--runs` times each, and prints each version's CPU seconds
(`time.process_time`, sorted: read the minimum at load). After the first run of each, the
`--tables` they leave behind are kept and compared with `EXCEPT ALL` both ways: a rewrite
must leave them identical. A whole build's figures: bench/build_compare.py; the case's
derived tables: bench/derived_equal.py. Not a test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from string import Template

from logonscope.analysis import sessions
from logonscope.analysis.session_rules import Rules, sql_params, src_channel_sql
from logonscope.storage import case as case_folder
from logonscope.storage import connection, identity


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", type=Path)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--upto", required=True, help="the last step run before OLD/NEW")
    parser.add_argument("--tables", required=True, help="tables to compare, comma separated")
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    con = connection.connect(args.case, threads=1)
    identity.install_macros(con)
    files = case_folder.event_files(args.case)
    hosts = sorted({Path(f).parent.name for f in files})[: args.hosts]
    con.read_parquet([f for f in files if Path(f).parent.name in hosts]).create_view("events")
    con.execute("SET preserve_insertion_order = false")
    sessions.run_steps(con, upto=args.upto)
    if args.upto == sessions.STEPS[-1]:  # the views read the address classes too
        sessions._correlate(con, None, "events", None)
    params = {
        **sql_params(Rules(), "events"),
        "order": "",
        "view_channel": src_channel_sql("src"),
    }
    versions = {"old": args.old, "new": args.new}
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    seconds: dict[str, list[float]] = {name: [] for name in versions}
    for n in range(args.runs):
        order = ["old", "new"] if n % 2 == 0 else ["new", "old"]
        for name in order:
            text = Template(versions[name].read_text()).substitute(params)
            started = time.process_time()
            for statement in sessions._statements(text):
                con.execute(statement)
            seconds[name].append(time.process_time() - started)
            if n == 0:
                for table in tables:
                    con.execute(f"CREATE OR REPLACE TEMP TABLE _cmp_{name}_{table} AS FROM {table}")
    for name, values in seconds.items():
        print(f"{name}: CPU s {' '.join(f'{v:.3f}' for v in sorted(values))}")
    for table in tables:
        a, b = f"_cmp_old_{table}", f"_cmp_new_{table}"
        rows = con.execute(f"SELECT count(*) FROM {a}").fetchall()[0][0]
        only_old = con.execute(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})").fetchall()
        only_new = con.execute(f"SELECT count(*) FROM (FROM {b} EXCEPT ALL FROM {a})").fetchall()
        print(f"{table}: {rows:,} rows; only old {only_old[0][0]}, only new {only_new[0][0]}")
    connection.close(con)


if __name__ == "__main__":
    main()
