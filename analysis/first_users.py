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
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from logonscope.storage import case as case_folder
from logonscope.storage import summary_files

# The derived summaries (users, user + IP) with system accounts shown and hidden: the
# build writes both, `queries` reads them whenever no other filter is set.
DERIVED_SUMMARIES = {True: ("users", "user_ips"), False: ("users_nonsystem", "user_ips_nonsystem")}

# `queries._USERS_ORDER` (failures DESC, sessions DESC, user_key NULLS LAST) in Arrow
_ORDER = [("failures", "descending"), ("sessions", "descending"), ("user_key", "ascending")]


def users_from_files(root: Path, show_system: bool) -> pa.Table | None:
    """What `queries.users(con, Filters(show_system=show_system))` gives (the case's first
    screen); None: ask the connection (no summary file, or one that does not count the
    sessions there are)."""
    users_name, _ = DERIVED_SUMMARIES[show_system]
    table = case_folder.read_derived(root, users_name)
    if table is None or "sessions" not in table.column_names:
        return None
    # the guard of `queries.summary_table`: the summary counts the sessions there are
    there = summary_files.count_rows(root, "sessions", false_in=None if show_system else "system")
    counted = pc.sum(table.column("sessions")).as_py() or 0
    if there is None or counted != there:
        return None
    order = pc.sort_indices(table, sort_keys=_ORDER)  # nulls last, as in SQL here
    return table.take(order)


def users_first(root: Path, show_system: bool | None, ask: Callable[[], pa.Table]) -> pa.Table:
    """`users_from_files` when `show_system` is given (no other filter is set) and the files
    answer; else `ask()` (the query on a connection, which also reports any error). Nothing
    here imports DuckDB (0.1-0.2 s of CPU): the first screen does not wait for it."""
    if show_system is not None:
        try:
            table = users_from_files(root, show_system)
        except (OSError, pa.ArrowException):
            table = None
        if table is not None:
            return table
    return ask()
