"""The Users rows of a case's first screen, read from the build's summary file alone.

`queries.users` answers the same from a DuckDB connection with the case's views; making
that connection reads the footer of every events and derived file (0.2 s of wall time at a
10 M-event case, and growing with it), plus a count over every session for the summary's
guard. The first screen needs neither: this reads the summary file (a row per user) and
makes the same guard from the sessions file's footer, so the Users rows come in the same
time at 1 M or 10 M events. The connection is made afterwards, for the next queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from logonscope.analysis import queries
from logonscope.analysis.queries import DERIVED_SUMMARIES, Filters
from logonscope.storage import summary_files

# `queries._USERS_ORDER` (failures DESC, sessions DESC, user_key NULLS LAST) in Arrow
_ORDER = [("failures", "descending"), ("sessions", "descending"), ("user_key", "ascending")]


def users_from_files(root: Path, filters: Filters) -> pa.Table | None:
    """What `queries.users(con, filters)` gives, when `filters` select nothing but whether
    system accounts show (the case's first screen); None: ask the connection (other
    filters, no summary file, or one that does not count the sessions there are)."""
    if replace(filters, show_system=False) != Filters():
        return None
    users_name, _ = DERIVED_SUMMARIES[filters.show_system]
    table = summary_files.read_summary(root, users_name)
    if table is None or "sessions" not in table.column_names:
        return None
    # the guard of `queries.summary_table`: the summary counts the sessions there are
    there = summary_files.count_rows(
        root, "sessions", false_in=None if filters.show_system else "system"
    )
    counted = pc.sum(table.column("sessions")).as_py() or 0
    if there is None or counted != there:
        return None
    order = pc.sort_indices(table, sort_keys=_ORDER)  # nulls last, as in SQL here
    return table.take(order)


def users_first(root: Path, filters: Filters, query: Any, ask: Callable[[], pa.Table]) -> pa.Table:
    """`users_from_files` when `query` is `queries.users` (not a stand-in) and the files
    answer; else `ask()` (the query on a connection, which also reports any error)."""
    if query is queries.users:
        try:
            table = users_from_files(root, filters)
        except (OSError, pa.ArrowException):
            table = None
        if table is not None:
            return table
    return ask()
