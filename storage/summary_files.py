"""A derived table's rows counted from its file's footer, with no DuckDB connection.

A connection (`storage.case.connect`) reads the footer of every events and derived file to
make its views: 0.1-0.2 s at a 10 M-event case, more as the case grows. The first screen's
Users summary (read whole by `storage.case.read_derived`) is checked against the sessions
counted here, before any connection is made.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from logonscope.storage.case import DERIVED


def count_rows(root: Path, name: str, false_in: str | None = None) -> int | None:
    """The rows of the derived table `name` (None: missing); with `false_in`, only those
    whose boolean column `false_in` is false (not null), as `WHERE NOT column` counts them.

    Counted from the footer: a row group whose statistics say the column is false (or true)
    throughout is not read; only row groups holding both, or nulls, are. Rows stored by
    user make those few."""
    path = Path(root) / DERIVED / f"{name}.parquet"
    if not path.is_file():
        return None
    with pq.ParquetFile(path) as handle:
        meta = handle.metadata
        if false_in is None:
            return int(meta.num_rows)
        column = handle.schema_arrow.get_field_index(false_in)
        if column < 0:
            return None
        leaf = handle.schema.column(column).path  # a top-level boolean: its own leaf
        if leaf != false_in:
            return None
        count, mixed = 0, []
        for group in range(meta.num_row_groups):
            rows = meta.row_group(group)
            stats = rows.column(column).statistics
            known = stats is not None and stats.has_min_max and stats.has_null_count
            if not known or stats.null_count or stats.min != stats.max:
                mixed.append(group)
            elif stats.min is False:
                count += rows.num_rows
        if mixed:
            values = handle.read_row_groups(mixed, columns=[false_in]).column(false_in)
            count += int(pc.sum(pc.invert(values)).as_py() or 0)
        return count
