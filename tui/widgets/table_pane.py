"""A titled pane around a fast Arrow table: the shared shape of every list in the app.

It shows a `tui.tables.Shaped` result in one `textual_fastdatatable.DataTable` whose Arrow
backend is swapped in place per result (mounting a new table per result restyled and
re-laid out the pane every time), with markup off so evidence strings stay text, and
says "N of M" when the row cap or a search hides rows. It keeps the search text and sort
order of its table (the screen's workers apply them) and turns cursor moves into its
subclass's messages. It never queries the case and never talks to another pane.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from logonscope.tui.tables import Shaped, ShapeSpec, Sort
from logonscope.tui.widgets.focus_border import FocusBorder
from logonscope.tui.widgets.grid import ArrowBackend, DataTable, Grid

# A pane says "loading…" only when its result takes longer than this (seconds): a result
# that comes sooner is drawn in the same frame as its title, not one frame after a note
# that was about to go (each such frame redrew most of the screen).
LOADING_NOTE_DELAY = 0.3


class TablePane(FocusBorder, Vertical):
    """Base of the Users, User+IP and Sessions panes (and the detail's tables)."""

    DEFAULT_CSS = """
    TablePane { border: round $primary-darken-2; height: 1fr; }
    TablePane > .placeholder { color: $text-muted; padding: 0 1; }
    TablePane > Grid { height: 1fr; max-height: 100%; }
    """

    title: ClassVar[str] = "Rows"
    key_column: ClassVar[str | None] = None  # what identifies a row (for cursor restore)
    hidden_columns: ClassVar[tuple[str, ...]] = ()
    empty_text: ClassVar[str] = "nothing to show"
    preferred: ClassVar[tuple[str, ...]] = ()  # columns shown first, in this order
    # (column, text, shorter) replacements made on screen only
    abbreviate: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    blanks: ClassVar[tuple[tuple[str, str], ...]] = ()  # (column, label for an empty value)
    percent: ClassVar[tuple[str, ...]] = ()  # fractions shown as percentages
    labels: ClassVar[tuple[tuple[str, str], ...]] = ()  # (column, shorter header)
    counted: ClassVar[tuple[tuple[str, str], ...]] = ()  # (column, its `×N` count column)
    # (column, other, unless): an empty cell shows `other`'s value, unless it is `unless`
    fallbacks: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    sparse: ClassVar[tuple[str, ...]] = ()  # preferred columns that lead only when set
    fit: ClassVar[bool] = True  # show only the columns that fit whole (no cut headers)

    class Searched(Message):
        """The pane's search text or sort order changed: reshape its current result."""

        def __init__(self, pane: TablePane) -> None:
            super().__init__()
            self.pane = pane

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.source: pa.Table | None = None  # the query result, before search and sort
        self.shaped: Shaped | None = None
        self.search_text = ""
        self.order: Sort | None = None
        self.context = ""  # what the result is of ("alice @ 10.0.0.5")
        self.searches: dict[str, str] = {}  # a search belongs to the view it was typed in
        self.chosen_columns: tuple[str, ...] | None = None  # the column chooser's choice
        self._fit_width = 0
        self._generation = 0
        self._announced: Any = object()
        self._wants_focus = False
        self._grid: Grid | None = None
        self._last_backend: Any = None
        self._loading = False
        self._loading_note: Any = None  # the timer that shows "loading…"
        self._titles: tuple[str, str] | None = None  # the border's title and subtitle

    def compose(self) -> ComposeResult:
        yield Static("loading…", classes="placeholder", markup=False)

    def on_mount(self) -> None:
        self._retitle()

    # --- showing results ------------------------------------------------------------

    def loading_for(self, context: str) -> None:
        if context != self.context:  # another view: its own search, not this one's
            if self.search_text:
                self.searches[self.context] = self.search_text
            else:
                self.searches.pop(self.context, None)
            self.search_text = self.searches.get(context, "")
        self.context = context
        self._loading = True
        if self._loading_note is None:
            self._loading_note = self.set_timer(LOADING_NOTE_DELAY, self._still_loading)

    def _still_loading(self) -> None:
        self._loading_note = None
        if self._loading:
            self._retitle(loading=True)

    def clear_searches(self) -> None:
        """Forget every search typed in this pane (and the current one)."""
        self.searches.clear()
        if self.search_text:
            self.set_search("")

    def on_resize(self) -> None:
        width = self._width()
        if self.fit and width != self._fit_width and self.source is not None:
            self.post_message(self.Searched(self))  # reshape: other columns fit now

    def _width(self) -> int:
        return self.content_size.width if self.fit and self.display else 0

    def show(
        self,
        source: pa.Table,
        shaped: Shaped,
        context: str | None = None,
        select: Any = None,
        focus: bool | None = None,
    ) -> None:
        """Replace the table with `shaped`; put the cursor on the row whose key is `select`.

        `focus`: whether the new table takes the focus (the screen knows which pane should
        have it; None: keep it if this pane had it)."""
        had_focus = (self.has_focus_within or self._wants_focus) if focus is None else focus
        self._wants_focus = False
        self._loading = False
        self.source, self.shaped = source, shaped
        if context is not None:
            self.context = context
        grid = self._grid
        if shaped.display.num_rows == 0:
            note = (
                self.empty_text if not self.search_text else f"no row matches /{self.search_text}"
            )
            placeholder = self._placeholder()
            shown = placeholder.content
            if (shown.plain if isinstance(shown, Content) else str(shown)) != note:
                placeholder.update(Content(note))  # plain text, never markup; re-lays out
            if had_focus:  # held here until a table comes
                self._wants_focus = self.can_focus = True
                if self.is_attached:
                    self.screen.set_focus(self, scroll_visible=False)
            # a no-op `display` assignment still re-lays out the screen: assigned on change
            if not placeholder.display:
                placeholder.display = True
            if grid is not None and grid.display:
                grid.display = False
            self._retitle()
            self._announce(None)
            return
        prepared = shaped.prepared
        if isinstance(prepared, ArrowBackend) and prepared is not self._last_backend:
            table_backend = prepared
        else:  # not prepared (or shown already: a backend serves one table)
            table_backend = ArrowBackend(shaped.display)
            table_backend.render_markup = False
        self._last_backend = table_backend
        row = self.row_of(select)
        if grid is None:
            grid = self._new_grid(table_backend)
            if row:
                grid.move_cursor(row=row)
        else:
            grid.swap(table_backend, row)
            if not grid.display:
                grid.display = True
        placeholder = self._placeholder()
        if placeholder.display:
            placeholder.display = False
        if had_focus and self.is_attached:
            self.can_focus = False
            self.screen.set_focus(grid, scroll_visible=False)
        self._retitle()
        self._announce(row or 0)

    def _new_grid(self, backend: ArrowBackend, shown: bool = True) -> Grid:
        grid = Grid(
            backend=backend,
            id=f"{self.id or 'pane'}-grid",
            cursor_type="row",
            render_markup=False,
            show_row_labels=False,
            zebra_stripes=False,
            max_column_content_width=48,
        )
        grid.display = shown
        self.mount(grid)
        self._grid = grid
        return grid

    def premount(self) -> None:
        """Mount the table and its scrollbars now, hidden (the table empty): the first
        result then only fills it (mounting one costs the first key that shows rows in this
        pane ~70 ms; a scrollbar mounted by the first result that overflows asked for a
        layout of its own, one or two frames after the result's)."""
        if self._grid is None and self.is_attached:
            empty = ArrowBackend(pa.table({"": pa.array([], pa.string())}))
            empty.render_markup = False
            self._new_grid(empty, shown=False)
        if self._grid is not None and self._grid.is_attached:
            self._grid.vertical_scrollbar  # noqa: B018 - made (hidden) when first read
            self._grid.horizontal_scrollbar  # noqa: B018

    def _placeholder(self) -> Static:
        return self.query_one(".placeholder", Static)

    def heading(self) -> str:
        """What the pane's border calls its rows (the class's `title` unless they change
        kind)."""
        return self.title

    def key_name(self) -> str | None:
        """The column that identifies a row (the class's `key_column` unless a pane's rows
        change kind)."""
        return self.key_column

    def row_of(self, key: Any) -> int:
        name = self.key_name()
        if key is None or self.shaped is None or not name:
            return 0
        rows = self.shaped.rows
        if name not in rows.column_names:
            return 0
        index = pc.index(rows.column(name), key).as_py()
        return max(index, 0)

    @property
    def grid(self) -> Grid | None:
        """The table showing the current result (None while the pane shows a note)."""
        grid = self._grid
        return grid if grid is not None and grid.display else None

    def focus_table(self) -> None:
        grid = self.grid
        if grid is not None:
            self.can_focus = False
            grid.focus()
        else:
            # nothing to focus yet: hold the focus here, hand it to the table when it comes
            self._wants_focus = True
            self.can_focus = True
            self.focus()

    def current(self) -> dict[str, Any] | None:
        """The row under the cursor with its original (not display) values."""
        grid = self.grid
        if grid is None or self.shaped is None or self.shaped.rows.num_rows == 0:
            return None
        row = min(grid.cursor_row, self.shaped.rows.num_rows - 1)
        return self.shaped.rows.slice(row, 1).to_pylist()[0]

    def current_key(self) -> Any:
        """The key (`key_name`) of the row under the cursor: where a reshape puts it again."""
        current, column = self.current(), self.key_name()
        return current.get(column) if current and column else None

    def around(self) -> list[dict[str, Any]]:
        """The rows just below and above the cursor: where a cursor key goes next."""
        grid = self.grid
        if grid is None:
            return []
        rows = (self._row(grid.cursor_row + step) for step in (1, -1))
        return [row for row in rows if row is not None]

    def columns(self) -> list[str]:
        """The columns on screen (those that fit the width), by their names in the rows."""
        if self.shaped is None:
            return []
        names = {label: name for name, label in self.labels}
        return [names.get(c, c) for c in self.shaped.display.column_names]

    def available_columns(self) -> list[str]:
        """Every column this pane can show, in its order of importance."""
        if self.shaped is None:
            return []
        names = [c for c in self.shaped.rows.column_names if c not in self.hidden_columns]
        order = list(self.chosen_columns or ()) + list(self.preferred)
        first = [c for c in dict.fromkeys(order) if c in names]
        return first + [c for c in names if c not in first]

    # --- titles ---------------------------------------------------------------------

    def _retitle(self, loading: bool = False) -> None:
        title = self.heading() + (f" · {self.context}" if self.context else "")
        bits = []
        if loading:
            bits.append("loading…")
        elif self.shaped is not None:
            shown, matched, total = (
                self.shaped.display.num_rows,
                self.shaped.matched,
                self.shaped.total,
            )
            if self.search_text:
                bits.append(f"/{self.search_text}: {matched:,} of {total:,}")
            else:
                bits.append(f"{total:,} row{'' if total == 1 else 's'}")
            if shown < matched:
                bits.append(f"showing {shown:,} of {matched:,}")
            more = len(self.available_columns()) - self.shaped.display.num_columns
            if more > 0:
                bits.append(f"+{more} columns: C")
        if self.order is not None:
            bits.append(f"by {self.order.column} {'↓' if self.order.descending else '↑'}")
        titles = (title, " · ".join(bits))
        if titles != self._titles:  # each assignment repaints the pane, changed or not
            self._titles = titles
            self.border_title = Content(title)  # Content: plain text, never markup
            self.border_subtitle = Content(titles[1])

    # --- search and sort (applied by the screen's worker) ----------------------------

    def shape_spec(self) -> ShapeSpec:
        """This pane's search, sort and column choices, frozen for a worker to apply."""
        self._fit_width = self._width()
        preferred, hidden = self.preferred, self.hidden_columns
        if self.chosen_columns is not None:
            preferred = self.chosen_columns
            if self.source is not None:
                hidden = hidden + tuple(
                    c for c in self.source.column_names if c not in self.chosen_columns
                )
        return ShapeSpec(
            self.search_text,
            self.order,
            hidden,
            preferred,
            self.abbreviate,
            self._fit_width,
            self.blanks,
            self.percent,
            self.labels,
            self.counted,
            self.fallbacks,
            self.sparse if self.chosen_columns is None else (),  # the user's choice stands
        )

    def set_search(self, text: str) -> None:
        self.search_text = text
        self.post_message(self.Searched(self))

    def set_order(self, order: Sort | None) -> None:
        self.order = order
        self.post_message(self.Searched(self))

    # --- cursor → messages ----------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        grid = self._grid
        if grid is None or event.cursor_row != grid.cursor_row:
            return  # queued before the table was given another result: stale
        self._announce(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self._row(event.cursor_row)
        if row is not None:
            self.chosen(row)

    def _row(self, index: int | None) -> dict[str, Any] | None:
        if index is None or self.shaped is None or not 0 <= index < self.shaped.rows.num_rows:
            return None
        return self.shaped.rows.slice(index, 1).to_pylist()[0]

    def _announce(self, index: int | None) -> None:
        row = self._row(index)
        name = self.key_name()
        key = None if row is None else (row.get(name) if name else index)
        if key == self._announced:
            return
        self._announced = key
        self.highlighted(row)

    def reset_announced(self) -> None:
        self._announced = object()

    def highlighted(self, row: dict[str, Any] | None) -> None:
        """The cursor rests on `row` (None: the table is empty). Subclasses post a message."""

    def chosen(self, row: dict[str, Any]) -> None:
        """Enter on `row`. Subclasses post a message."""
