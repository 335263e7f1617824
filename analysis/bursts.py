"""Bursts: consecutive failed attempts from one source to one user on one host, shown as one
row with a count, first and last (`failure ×95`), and opened back into their attempts."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# Failed attempts from one source to one user on one host, each within this many seconds of
# the previous one (and no success between), are one burst: one row in a sessions listing.
BURST_GAP_S = 60


def collapse_bursts(sessions_table: pa.Table, gap_s: int = BURST_GAP_S) -> pa.Table:
    """`sessions_table` (as `sessions` returns it) with each burst of failures collapsed into
    its first attempt's row: `end` is the last attempt's start, `attempts` their number and
    `burst_ids` their session ids (both null on a row that is not a burst); every row gets a
    `duration` (`HH:MM:SS`: a session's length, a burst's span; null for a lone failure).
    A negative `gap_s` collapses nothing (the durations only)."""

    n = sessions_table.num_rows
    if n == 0:
        return _with_bursts(sessions_table, None, None, None)
    # One integer per (host, user, source): sorting and comparing it is much cheaper than
    # the three strings. The sort is stable, so a group's rows with the same start (or, when
    # the table is oldest first as `sessions` gives it, all of them) keep the table's order.
    group = _group_codes(sessions_table, ("host_key", "user_key", "src_ip"))
    first = sessions_table.column("start")
    sort_keys = [("g", "ascending")]
    if (
        first.null_count
        or not pc.all(pc.greater_equal(first.slice(1), first.slice(0, n - 1))).as_py()
    ):
        sort_keys.append(("s", "ascending"))
    order = pc.sort_indices(pa.table({"g": group, "s": first}), sort_keys=sort_keys)
    # The narrow columns are compared before they are reordered: booleans and integers are
    # cheaper to move than the strings and timestamps they come from.
    failed = pc.take(
        _array(pc.fill_null(pc.equal(sessions_table.column("outcome"), "failure"), False)), order
    )
    start = pc.take(_micros(first), order)
    step = pc.subtract(start.slice(1), start.slice(0, n - 1))
    joined = pc.and_(
        pc.and_(failed.slice(1), failed.slice(0, n - 1)),
        pc.less_equal(step, gap_s * 1_000_000) if gap_s >= 0 else pa.repeat(False, n - 1),
    )
    grouped = pc.take(group, order)  # the same source, user and host
    joined = pc.and_(joined, pc.equal(grouped.slice(1), grouped.slice(0, n - 1)))
    joined = pa.concat_arrays([pa.array([False]), _array(joined)])
    firsts = pc.indices_nonzero(pc.invert(joined))  # each group's first row, sorted order
    bounds = pa.concat_arrays([firsts, pa.array([n], pa.uint64())])
    sizes = pc.subtract(bounds.slice(1), firsts)
    burst = pc.greater(sizes, 1)
    session_ids = pc.take(_array(sessions_table.column("session_id")), order)
    ids = pa.ListArray.from_arrays(
        pc.cast(bounds, pa.int32()), session_ids, mask=pc.invert(burst)
    )  # null on a row that is not a burst
    attempts = pc.if_else(burst, pc.cast(sizes, pa.int64()), pa.nulls(len(firsts), pa.int64()))
    last = pc.take(start, pc.subtract(pc.add(firsts, sizes), 1))
    ends = pc.if_else(burst, last, -1)
    original = pc.take(order, firsts)  # back to the table's own order
    back = pc.sort_indices(original)
    kept = _take_sorted(sessions_table, pc.take(original, back))
    return _with_bursts(kept, pc.take(ends, back), pc.take(attempts, back), pc.take(ids, back))


def _take_sorted(table: pa.Table, rows: pa.Array) -> pa.Table:
    """`table.take(rows)` for ascending `rows`, one record batch at a time: a take across
    a table of several chunks costs about twice the rows it moves."""
    batches, out, offset = table.to_batches(), [], 0
    if len(batches) < 2:
        return table.take(rows)
    rows = pc.cast(rows, pa.int64())
    for batch in batches:
        end = offset + batch.num_rows
        inside = pc.and_(pc.greater_equal(rows, offset), pc.less(rows, end))
        picked = pc.filter(rows, inside)
        if len(picked):
            out.append(batch.take(pc.subtract(picked, offset)))
        offset = end
    return pa.Table.from_batches(out, table.schema) if out else table.slice(0, 0)


def _group_codes(table: pa.Table, keys: tuple[str, ...]) -> pa.Array:
    """One int64 per row, equal exactly when every key column is (two nulls are the same)."""
    code: Any = None
    for key in keys:
        encoded = pc.dictionary_encode(_array(table.column(key)), null_encoding="encode")
        part = pc.cast(encoded.indices, pa.int64())
        if code is None:
            code = part
            continue
        code = pc.add(pc.multiply(code, len(encoded.dictionary)), part)
        code = pc.cast(pc.dictionary_encode(code).indices, pa.int64())  # dense: no overflow
    return code


def _array(value: Any) -> pa.Array:
    return value.combine_chunks() if isinstance(value, pa.ChunkedArray) else value


def _micros(column: pa.ChunkedArray) -> Any:
    """A timestamp column as int64 microseconds since the epoch (null: far in the past)."""

    return _array(pc.fill_null(pc.cast(_as_us(column), pa.int64()), -(2**62)))


def _with_bursts(table: pa.Table, ends: Any, attempts: Any, ids: Any) -> pa.Table:
    """`table` with a burst's `end` set to its last attempt (`ends` >= 0), then `duration`,
    `attempts` and `burst_ids` appended."""

    n = table.num_rows
    if attempts is None:
        attempts = pa.nulls(n, pa.int64())
        ids = pa.nulls(n, pa.list_(pa.string()))
    end = table.column("end")
    if ends is not None and n:
        kind = end.type
        moved = pc.cast(
            pc.cast(ends, pa.timestamp("us", tz=getattr(kind, "tz", None))),
            pa.timestamp(kind.unit, tz=getattr(kind, "tz", None)),
        )
        end = pc.if_else(pc.greater_equal(ends, 0), moved, end)
        table = table.set_column(table.column_names.index("end"), "end", end)
    seconds = pc.divide(
        pc.cast(pc.subtract(_as_us(end), _as_us(table.column("start"))), pa.int64()), 1_000_000
    )
    parts = [
        pc.utf8_lpad(pc.cast(v, pa.string()), 2, "0")
        for v in (
            pc.divide(seconds, 3600),
            pc.divide(pc.subtract(seconds, pc.multiply(pc.divide(seconds, 3600), 3600)), 60),
            pc.subtract(seconds, pc.multiply(pc.divide(seconds, 60), 60)),
        )
    ]
    text = pc.binary_join_element_wise(*parts, ":")
    lone_failure = pc.and_(
        pc.fill_null(pc.equal(table.column("outcome"), "failure"), False), pc.is_null(attempts)
    )
    duration = pc.if_else(lone_failure, pa.scalar(None, pa.string()), text)
    return (
        table.append_column("duration", duration)
        .append_column("attempts", attempts)
        .append_column("burst_ids", ids)
    )


def _as_us(column: Any) -> Any:

    return pc.cast(column, pa.timestamp("us", tz=getattr(column.type, "tz", None)))


def burst_attempts(sessions_table: pa.Table, ids: tuple[str, ...]) -> pa.Table:
    """The rows of `sessions_table` whose session id is one of `ids` (a burst's attempts)."""

    wanted = pa.array(list(ids), pa.string())
    return sessions_table.filter(pc.is_in(sessions_table.column("session_id"), wanted))
