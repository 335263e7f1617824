"""The case's sessions held in memory by the app (`Backend.hold_sessions`): stored by user, so
one user's sessions are one slice, and, when each user's rows are oldest first as stored,
a slice that needs no sort either."""

from __future__ import annotations

import gc
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from logonscope.storage.identity import user_key


class HeldSessions:
    """The case's sessions in memory, with where each user's rows start and end."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.bounds: dict[Any, tuple[int, int]] | None = None  # None: not grouped by user
        self.ordered = False  # each user's rows oldest first, as `sessions` orders them
        if table.num_rows and "user_key" in table.column_names:
            runs = pc.run_end_encode(table.column("user_key").combine_chunks())
            values, ends = runs.values.to_pylist(), runs.run_ends.to_pylist()
            if len(set(values)) == len(values):  # each user one run: stored by user
                starts = [0, *ends[:-1]]
                self.bounds = {v: (a, e - a) for v, a, e in zip(values, starts, ends, strict=True)}
                self.ordered = _oldest_first_per_user(table)

    def key_of(self, user: Any) -> Any:
        """`user` as the held rows are keyed: as given when it is one of their keys, else
        its normalised key (a name as written)."""
        return user if user in (self.bounds or {}) else user_key(user)

    def rows_of(self, user: Any) -> pa.Table | None:
        """The rows whose user_key is `user` (a slice, no copy); None: cannot tell."""
        if self.bounds is None:
            return None
        start, length = self.bounds.get(user, (0, 0))
        return self.table.slice(start, length)

    def select(
        self,
        rows: pa.Table,
        show_system: bool,
        outcomes: tuple[str, ...],
        ip: tuple[str | None] | None = None,
    ) -> pa.Table:
        """`rows` (a user's slice) under the conditions `queries.where` makes of these
        filters alone (`ip`: a `queries.ip_value`, in a tuple), in Arrow: the same rows, in
        the same order, as the query over them, without copying ~40 columns through DuckDB
        (100+ ms for a user with 150k sessions). A slice every row of which passes is
        returned as it is."""
        mask: Any = None
        if not show_system:
            mask = pc.invert(rows.column("system"))  # NOT system: a null is not kept
        if outcomes:
            wanted = pc.is_in(rows.column("outcome"), pa.array(list(outcomes), pa.string()))
            wanted = pc.if_else(pc.is_null(rows.column("outcome")), None, wanted)
            mask = wanted if mask is None else pc.and_kleene(mask, wanted)
        if ip is not None:  # (the src_ip value,) or (None,): no address
            column = rows.column("src_ip")
            at = pc.is_null(column) if ip[0] is None else pc.equal(column, ip[0])
            mask = at if mask is None else pc.and_kleene(mask, at)
        if mask is None or (mask.null_count == 0 and pc.all(mask).as_py()):
            return rows
        return rows.filter(mask)  # nulls dropped, as SQL's WHERE does

    @staticmethod
    def oldest_first(rows: pa.Table) -> pa.Table:
        """`rows` in the order `queries.sessions` gives (start, host, id; nulls last): the
        case-wide list sorted in Arrow, ~8x less CPU than the same ORDER BY in DuckDB over
        the held rows (3.4 s for 900k sessions)."""
        keys = [("start", "ascending"), ("host_key", "ascending"), ("session_id", "ascending")]
        order = pc.sort_indices(rows, sort_keys=keys)  # nulls last by default
        return rows.take(order)


class CaseRows:
    """The case-wide Sessions rows of a filter state (bursts collapsed), and which user each
    row is of, to pick one user's rows out of them."""

    def __init__(self, rows: pa.Table) -> None:
        self.rows = rows
        users = pc.dictionary_encode(self.rows.column("user_key").combine_chunks())
        self._codes = users.indices
        self._users = {value: code for code, value in enumerate(users.dictionary.to_pylist())}

    def of_user(self, user_key: Any) -> pa.Table:
        """The rows of `user_key` (one of the held table's keys), in the case-wide order."""
        code = self._users.get(user_key)
        if code is None:
            return self.rows.slice(0, 0)
        return self.rows.filter(pc.equal(self._codes, code))


def _oldest_first_per_user(table: pa.Table) -> bool:
    """Whether each user's rows (adjacent, see `HeldSessions`) are in the order `sessions`
    gives them (start, host_key, session_id): then a user's slice needs no sort. A null
    in those columns: cannot tell cheaply, so no."""
    n = table.num_rows
    keys = [table.column(name) for name in ("start", "host_key", "session_id")]
    if n < 2 or any(column.null_count for column in keys):
        return n < 2

    def pair(column: Any) -> tuple[Any, Any]:
        return column.slice(0, n - 1), column.slice(1)

    a, b = pair(table.column("user_key"))
    same_user = pc.fill_null(
        pc.or_kleene(pc.equal(a, b), pc.and_(pc.is_null(a), pc.is_null(b))), False
    )
    (s0, s1), (h0, h1), (i0, i1) = (pair(column) for column in keys)
    in_order = pc.or_(
        pc.less(s0, s1),
        pc.and_(
            pc.equal(s0, s1),
            pc.or_(pc.less(h0, h1), pc.and_(pc.equal(h0, h1), pc.less_equal(i0, i1))),
        ),
    )
    return bool(pc.all(pc.or_(pc.invert(same_user), in_order)).as_py())


def keep_alive_objects() -> None:
    """Take every Python object alive now out of the garbage collector's full passes.

    Called once the first screen is up (Textual, its widgets) and once the background read
    is done: those objects live as long as the app. A full pass walks every tracked object
    and holds the interpreter meanwhile: 100-240 ms at a 10 M-event case, landing on
    whichever key allocated last; afterwards it walks only what came since."""
    gc.freeze()


def as_table(value: Any) -> pa.Table:
    """A query part as an Arrow table (None: an empty one)."""
    if value is None:
        return pa.table({})
    if isinstance(value, pa.Table):
        return value
    if isinstance(value, pa.RecordBatchReader):
        return value.read_all()
    if hasattr(value, "to_arrow"):
        return value.to_arrow()
    return pa.Table.from_pylist(list(value))
