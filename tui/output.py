"""Print an Arrow table as table, csv, json or jsonl: the machine-readable contract (and,
for sessions, sources and activity, as a Timesketch or Timeline Explorer timeline).

JSON uses the column names as they are, times as ISO 8601 UTC with `Z`, and keeps every
string exact (JSON escapes controls itself). Table output goes through Rich with markup off,
so evidence strings are printed as text (escape sequences included are made visible, never
executed). CSV is opened by spreadsheet tools: strings have controls and format characters
made visible, and a cell that would start a formula gets a leading `'`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from logonscope.tui.format_names import TIMELINE_FORMATS
from logonscope.tui.tables import visible_text


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds") + "Z"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]


# What makes a spreadsheet read a cell as a formula (or, for tab and CR, shift it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def visible(text: str) -> str:
    """Controls (ESC, CR, ...) and format characters shown as escapes so a terminal never
    acts on them (the rule of `tui.tables.visible_text`)."""
    return visible_text(text)


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell a spreadsheet shows as text: a string is made visible and, when
    it starts like a formula (`=`, `+`, `-`, `@`, tab, CR), prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value)
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    return visible_text(value)


# A string that is printable ASCII and does not start like a formula is its own CSV cell; only
# the others go through `csv_cell` (one regex over the column instead of Python per cell).
_NEEDS_CELL = r"^[=+\-@\t\r]|[^\x20-\x7e]"


def _times_as_text(table: pa.Table) -> pa.Table:
    """`table` with its timestamp columns as the ISO 8601 `Z` text `_plain` gives, written by
    DuckDB (Python datetimes cost microseconds each)."""
    stamps = [f for f in table.schema if pa.types.is_timestamp(f.type) and f.type.unit != "ns"]
    if not stamps or table.num_rows == 0:
        return table
    from logonscope.storage.connection import close, connect

    def name(field: pa.Field) -> str:
        return '"' + field.name.replace('"', '""') + '"'

    text = ", ".join(f"strftime({name(f)}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {name(f)}" for f in stamps)
    con = connect()
    try:
        con.register("_t", table)
        return con.sql(f"SELECT * REPLACE ({text}) FROM _t").to_arrow_table()
    finally:
        close(con)


def _is_plain(kind: pa.DataType, strings: bool = False) -> bool:
    """Numbers and booleans (and strings when asked): `_plain` leaves their values as they are."""
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or (strings and (pa.types.is_string(kind) or pa.types.is_large_string(kind)))
    )


def _csv_column(column: pa.Array) -> list[Any]:
    """One column's CSV cells, as `csv_cell(_plain(value))` gives them, converted column-wise
    where the type allows (strings, numbers, booleans, lists of them): the same text, faster."""
    import pyarrow.compute as pc

    kind = column.type
    values = column.to_pylist()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        flagged = pc.fill_null(pc.match_substring_regex(column, _NEEDS_CELL), False)
        for i in pc.indices_nonzero(flagged).to_pylist():
            values[i] = csv_cell(values[i])
        return values
    if _is_plain(kind):
        return values  # None is written as an empty cell, as csv_cell(None) gives
    if pa.types.is_list(kind) and _is_plain(kind.value_type, strings=True):
        return [None if v is None else json.dumps(v) for v in values]
    return [csv_cell(_plain(v)) for v in values]


def write(table: pa.Table, fmt: str, out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    if fmt in ("json", "jsonl"):
        _write_json(table, fmt == "json", out)
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow([csv_cell(name) for name in table.column_names])
        for batch in _times_as_text(table).to_batches(max_chunksize=65_536):
            columns = [_csv_column(batch.column(i)) for i in range(batch.num_columns)]
            writer.writerows(zip(*columns, strict=True))
    elif fmt == "table":
        _write_table(table, out)
    elif fmt in TIMELINE_FORMATS:
        from logonscope.tui.timeline_export import write_timeline

        write_timeline(table, fmt, out)
    else:
        raise ValueError(f"unknown format {fmt!r}")


def _write_json(table: pa.Table, array: bool, out: IO[str]) -> None:
    """JSON written by DuckDB (millions of sessions in seconds, not minutes of Python), times
    as ISO 8601 UTC with `Z`; control characters in strings come out escaped."""

    def column(field: pa.Field) -> str:
        name = '"' + field.name.replace('"', '""') + '"'
        if pa.types.is_timestamp(field.type):
            return f"strftime({name}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {name}"
        return name

    from logonscope.storage.connection import close, connect

    con = connect()
    try:
        con.register("_out", table)
        select = ", ".join(column(f) for f in table.schema) or "*"
        with tempfile.TemporaryDirectory(prefix="logonscope-") as tmp:
            path = Path(tmp) / "out.json"
            con.execute(
                f"COPY (SELECT {select} FROM _out) TO '{path}' "
                f"(FORMAT JSON, ARRAY {'true' if array else 'false'})"
            )
            with open(path, encoding="utf-8") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)
    finally:
        close(con)


def _write_table(table: pa.Table, out: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    grid = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name in table.column_names:
        grid.add_column(name, overflow="fold")
    for row in rows(table):
        grid.add_row(*["" if v is None else visible(str(v)) for v in row.values()])
    console = Console(
        file=out, markup=False, emoji=False, highlight=False, width=None if out.isatty() else 200
    )
    console.print(grid)
    console.print(f"({table.num_rows} rows)", style="dim")
