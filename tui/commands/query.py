"""`logonscope query --case DIR "SQL"`: DuckDB SQL over the case's views."""

from __future__ import annotations

import argparse

from logonscope.tui.format_names import FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "query",
        help="run DuckDB SQL over the case (views: evidence, events, sessions, ...)",
        description="Run DuckDB SQL over the case's views: evidence, events and the derived "
        "tables (sessions, session_sources, activity, users, user_ips, host_aliases, "
        "host_names, tampering). When "
        "the SQL reads a derived table and the case has not been built since its evidence "
        "changed, it is built first (progress on stderr); SQL over evidence and events only "
        "never builds.",
    )
    parser.add_argument("sql", help="the SQL statement")
    parser.add_argument("--case", required=True, help="case folder")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    import duckdb

    from logonscope.analysis.build import ensure_built, reads_derived
    from logonscope.storage.case import CaseError, connect
    from logonscope.tui.errors import UsageError
    from logonscope.tui.output import write

    try:
        if reads_derived(args.sql):
            ensure_built(args.case, progress=lambda msg: print(msg, file=sys.stderr))
        con = connect(args.case)
    except CaseError as exc:
        raise UsageError(str(exc)) from None
    try:
        table = con.sql(args.sql)
        if table is None:
            return 0
        write(table.to_arrow_table(), args.format)
    except duckdb.Error as exc:
        raise UsageError(f"query failed: {str(exc).splitlines()[0]}") from None
    return 0
