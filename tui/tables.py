"""Shape Arrow results for the screen: search, sort, cap, and make evidence strings inert.

Pure Arrow compute (vectorised, no per-row Python) so it runs in the thread workers; this
module never imports Textual and never queries the case. Evidence strings are made *visible*
here, by one rule (`visible_text`) that every widget, dialog, notification and CSV export uses:
control characters (ESC, CR, BEL, ...), format characters (bidi overrides such as U+202E,
zero-width characters) and every other character Python does not call printable become
`\\xNN` / `\\uNNNN` text before a value reaches a widget; widgets render with markup off, so
`[red]x[/red]` is shown as typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# What one table shows at most; the status says "N of M" when a result is larger.
ROW_CAP = 10_000

# How fastdatatable lays out a column: at most this wide, plus a space either side.
MAX_COLUMN = 48
CELL_PADDING = 2
SCROLLBAR = 2

# Finds the values `visible_text` would change (RE2 syntax): anything outside letters, marks,
# numbers, punctuation, symbols and the plain space. A superset of its rule, never a subset.
_HIDDEN_RE = r"[^\p{L}\p{M}\p{N}\p{P}\p{S} ]"


@dataclass(frozen=True)
class Sort:
    column: str
    descending: bool = False


@dataclass(frozen=True)
class Shaped:
    """What a pane shows: `display` (inert strings, at most ROW_CAP rows) and `rows` (the
    same rows with the original values, for drill-down keys), out of `matched` rows after
    search, out of `total` rows the query returned."""

    display: pa.Table
    rows: pa.Table
    matched: int
    total: int
    found: pa.Table = dc_field(repr=False)  # every matched row, in the result's order
    order: Sort | None = dc_field(default=None, repr=False)  # how `view` sorts them
    # what the widget needs to show `display`, made ahead in a worker (tui.widgets.table_pane)
    prepared: Any = dc_field(default=None, compare=False, repr=False)

    @property
    def view(self) -> pa.Table:
        """Every matched row, sorted: what export writes (sorted when asked, not for each
        result: a pane shows at most ROW_CAP rows of a list of 400k)."""
        return sort(self.found, self.order)


def search(table: pa.Table, text: str) -> pa.Table:
    """Rows where any column's text contains `text` (case-insensitive, literal)."""
    if not text or table.num_rows == 0:
        return table
    mask = None
    for name in table.column_names:
        column = table.column(name)
        kind = column.type
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            column = pc.binary_join(pc.cast(column, pa.list_(pa.string())), " ")
        elif pa.types.is_timestamp(kind):
            column = _time_text(column)
        elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            column = pc.cast(column, pa.string())
        hit = pc.fill_null(pc.match_substring(column, text, ignore_case=True), False)
        mask = hit if mask is None else pc.or_(mask, hit)
    return table.filter(mask)


def sort(table: pa.Table, order: Sort | None) -> pa.Table:
    indices = sorted_order(table, order)
    return table if indices is None else table.take(indices)


def sorted_order(table: pa.Table, order: Sort | None) -> pa.Array | None:
    """The row order of `table` sorted by `order` (stable, nulls last), or None when that
    is the table's own order (no sort asked, or the rows are in that order already: a
    Sessions list sorted by its start)."""
    if order is None or order.column not in table.column_names or table.num_rows < 2:
        return None
    kind = table.schema.field(order.column).type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_struct(kind):
        return None  # not orderable; the picker does not offer these
    column = table.column(order.column)
    if column.null_count == 0 and not pa.types.is_floating(kind):
        a, b = column.slice(0, len(column) - 1), column.slice(1)
        step = pc.less_equal(b, a) if order.descending else pc.greater_equal(b, a)
        if pc.all(step).as_py():  # ties keep their order in a stable sort too
            return None
    direction = "descending" if order.descending else "ascending"
    return pc.sort_indices(table, sort_keys=[(order.column, direction)])  # nulls last


def sorted_head(table: pa.Table, order: Sort | None, cap: int) -> pa.Table:
    """The first `cap` rows of `table` sorted by `order` (stable, nulls last): the rows a pane
    shows. Of a large table sorted by a number or a time, only the rows at or beyond the
    value about 2×`cap` rows in are sorted (an exact quantile and a filter, ~10x less work
    than sorting every row and gathering from every chunk: `s` sorted at 10 M, 2.4 M
    sessions, ~470 → ~45 ms of CPU); the same rows as a sort of every row."""
    if order is not None and table.num_rows > 4 * cap and order.column in table.column_names:
        if bounded(table.schema.field(order.column).type):
            try:
                part = _rows_from_bound(table, order, 2 * cap)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a uint64 past int64
                part = None
            if part is not None and part.num_rows >= cap:
                return sort(part, order).slice(0, cap)
    indices = sorted_order(table, order)
    return table.slice(0, cap) if indices is None else table.take(indices.slice(0, cap))


def bounded(kind: pa.DataType) -> bool:
    """Whether a large table sorted by a column of this type sorts only its head's rows
    (`sorted_head`): a number or a time, not text."""
    return pa.types.is_integer(kind) or pa.types.is_timestamp(kind) or pa.types.is_duration(kind)


def _rows_from_bound(table: pa.Table, order: Sort, about: int) -> pa.Table | None:
    """The rows whose `order.column` is at or beyond the value about `about` rows in (in
    their order): every row left out sorts after every row kept (nulls last), so the kept
    rows' stable sort starts as the whole table's does."""
    column = table.column(order.column).cast(pa.int64())
    share = about / table.num_rows
    if order.descending:
        bound = pc.quantile(column, q=[1 - share], interpolation="lower")[0]
    else:
        bound = pc.quantile(column, q=[share], interpolation="higher")[0]
    if not bound.is_valid:
        return None
    limit = pa.scalar(int(bound.as_py()), pa.int64())
    keep = (pc.greater_equal if order.descending else pc.less_equal)(column, limit)
    return table.filter(keep)


def sortable(table: pa.Table) -> list[str]:
    return [
        f.name
        for f in table.schema
        if not (
            pa.types.is_list(f.type) or pa.types.is_large_list(f.type) or pa.types.is_struct(f.type)
        )
    ]


def shape(
    table: pa.Table,
    text: str = "",
    order: Sort | None = None,
    cap: int = ROW_CAP,
    hidden: tuple[str, ...] = (),
    preferred: tuple[str, ...] = (),
    abbreviate: tuple[tuple[str, str, str], ...] = (),
    width: int = 0,
    blanks: tuple[tuple[str, str], ...] = (),
    percent: tuple[str, ...] = (),
    labels: tuple[tuple[str, str], ...] = (),
    counted: tuple[tuple[str, str], ...] = (),
    fallbacks: tuple[tuple[str, str, str], ...] = (),
    sparse: tuple[str, ...] = (),
) -> Shaped:
    """Search, sort and cap `table`; `hidden` columns stay in `rows`/`view` but not on screen;
    `preferred` columns come first, in that order. With a `width`, only the columns that fit
    whole in it are shown (most important first), so no header is ever cut mid-word; the
    others stay in `rows` for the detail, the column chooser and export. `blanks` labels a
    column's empty values; `percent` shows fractions as percentages; `labels` gives columns
    shorter headers; `counted` (column, count column) appends ` ×N` to a value whose row
    has a count (a burst's outcome: `failure ×95`); `fallbacks` (column, other, unless)
    shows `other`'s value where `column` is empty, unless it is `unless` (a private address's
    country column says `private`); `sparse` preferred columns lead only when one of them
    holds something (not null, not false) in the rows shown: where addresses are, known only
    with a database. All display only."""
    found = search(table, text)
    rows = sorted_head(found, order, cap)
    names = [str(c) for c in rows.column_names]
    if sparse and not any(_holds(rows.column(c)) for c in sparse if c in names):
        preferred = tuple(c for c in preferred if c not in sparse)
    first = [c for c in preferred if c in names and c not in hidden]
    rest = [c for c in names if c not in first and c not in hidden]
    # Column by column, most important first, and with a `width` only until one does not
    # fit: a Sessions result has ~40 columns of which ~6 fit, and making a column display
    # text is most of a result's shaping.
    label: dict[str, str] = dict(labels)
    shown_names: list[str] = []
    columns: list[pa.ChunkedArray] = []
    room = width - SCROLLBAR
    for name in first + rest:
        column = _display_column(
            rows, name, name in percent, abbreviate, blanks, fallbacks, counted
        )
        header = label.get(name, name)
        if width > 0:
            need = column_width(column, header)
            if shown_names and need > room:
                break
            room -= need
        shown_names.append(header)
        columns.append(column)
    display = pa.table(columns, names=shown_names)
    return Shaped(display, rows, found.num_rows, table.num_rows, found, order)


def _display_column(
    rows: pa.Table,
    name: str,
    as_percent: bool,
    abbreviate: tuple[tuple[str, str, str], ...],
    blanks: tuple[tuple[str, str], ...],
    fallbacks: tuple[tuple[str, str, str], ...],
    counted: tuple[tuple[str, str], ...],
) -> pa.ChunkedArray:
    """Column `name` of `rows` as the pane shows it (see `shape`): display only."""
    column = rows.column(name)
    kind = column.type
    if as_percent and pa.types.is_floating(kind):
        column = _percent(column)
        kind = column.type
    for target, old, new in abbreviate:  # rows, view and export keep the original
        if target == name and pa.types.is_string(kind):
            column = pc.replace_substring(column, old, new)
    column = _display(column, kind)
    for target, label in blanks:
        if target == name:
            column = pc.fill_null(column, label)
    for target, other, unless in fallbacks:
        if target == name and other in rows.column_names:
            if not pa.types.is_string(column.type):
                column = pc.cast(column, pa.string())
            spare = visible_column(pc.cast(rows.column(other), pa.string()))
            spare = pc.if_else(pc.equal(spare, unless), pa.scalar(None, pa.string()), spare)
            column = pc.coalesce(column, spare)
    for target, count in counted:
        if target == name and count in rows.column_names:
            times = pc.binary_join_element_wise(
                pc.fill_null(column, ""), pc.cast(rows.column(count), pa.string()), " ×"
            )
            column = pc.if_else(pc.is_valid(rows.column(count)), times, column)
    return column


def _holds(column: pa.ChunkedArray) -> bool:
    """Whether any value is set (a false flag is not)."""
    if pa.types.is_boolean(column.type):
        return bool(pc.any(column).as_py())
    return column.null_count < len(column)


def column_width(column: pa.ChunkedArray, name: str) -> int:
    """The cells a display column takes in the table widget: its widest value or its
    header, at most MAX_COLUMN, plus padding."""
    content = len(name)
    if len(column) and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        longest = pc.max(pc.utf8_length(column)).as_py()
        content = max(content, longest or 0)
    elif len(column):
        longest = pc.max(pc.utf8_length(pc.cast(column, pa.string()))).as_py()
        content = max(content, longest or 0)
    return min(content, MAX_COLUMN) + CELL_PADDING


def _percent(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """0.0070922 → `0.7 %`; a share under 0.05 % but above 0 stays visible as `<0.1 %`."""
    values = column.to_pylist()
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
        elif 0 < v < 0.0005:
            out.append("<0.1 %")
        else:
            out.append(f"{v * 100:.1f} %")
    return pa.chunked_array([pa.array(out, pa.string())])


@dataclass(frozen=True)
class ShapeSpec:
    """How one pane shapes a result (its search, sort and column choices) as plain values:
    captured on the UI thread, so a thread worker shapes a result without reading the pane."""

    text: str = ""
    order: Sort | None = None
    hidden: tuple[str, ...] = ()
    preferred: tuple[str, ...] = ()
    abbreviate: tuple[tuple[str, str, str], ...] = ()
    width: int = 0  # the pane's content width (0: every column)
    blanks: tuple[tuple[str, str], ...] = ()
    percent: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    counted: tuple[tuple[str, str], ...] = ()
    fallbacks: tuple[tuple[str, str, str], ...] = ()
    sparse: tuple[str, ...] = ()

    def apply(self, table: pa.Table) -> Shaped:
        return shape(
            table,
            self.text,
            self.order,
            hidden=self.hidden,
            preferred=self.preferred,
            abbreviate=self.abbreviate,
            width=self.width,
            blanks=self.blanks,
            percent=self.percent,
            labels=self.labels,
            counted=self.counted,
            fallbacks=self.fallbacks,
            sparse=self.sparse,
        )


def _display(column: pa.ChunkedArray, kind: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_timestamp(kind):
        return _time_text(column)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        column = pc.binary_join(pc.cast(column, pa.list_(pa.string())), ", ")
        return visible_column(column)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return visible_column(column)
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "yes", "")
    if pa.types.is_dictionary(kind) or pa.types.is_struct(kind) or pa.types.is_binary(kind):
        return visible_column(pc.cast(column, pa.string()))
    return column


def _time_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """`YYYY-MM-DD HH:MM:SS` in UTC (a cast is ~7x faster than strftime; seconds suffice)."""
    kind = column.type
    if getattr(kind, "tz", None):
        column = pc.cast(column, pa.timestamp(kind.unit))  # the UTC wall time
    return pc.utf8_slice_codeunits(pc.cast(column, pa.string()), 0, 19)


def visible_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """`visible_text` over a string column: only the values that need it go through Python."""
    if len(column) == 0:
        return column
    # Printable ASCII (the common case) is checked ~30x faster than by the regex.
    plain = pc.or_(pc.ascii_is_printable(column), pc.equal(pc.binary_length(column), 0))
    if pc.all(pc.fill_null(plain, True)).as_py():
        return column
    hit = pc.fill_null(pc.match_substring_regex(column, _HIDDEN_RE), False)
    if not pc.any(hit).as_py():
        return column
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    mask = hit.combine_chunks() if isinstance(hit, pa.ChunkedArray) else hit
    fixed = pa.array([visible_text(v) for v in pc.filter(array, mask).to_pylist()], array.type)
    return pa.chunked_array([pc.replace_with_mask(array, mask, fixed)])


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible_text(text: str) -> str:
    """The one rule for evidence text on screen and in CSV: a character that is not printable
    (controls, bidi and other format characters, separators, unassigned, private use) is
    shown as its escape (`\\x1b`, `\\u202e`); the plain space stays."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in text)


def visible(value: object) -> str:
    """One value as inert display text (the Summary tab and dialogs)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(visible(v) for v in value)
    return visible_text(str(value))
