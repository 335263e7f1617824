"""The fast Arrow table every list in the app is drawn with, and how its results are prepared.

`Grid` is `textual_fastdatatable.DataTable` without its own Tab bindings, with its backend
swapped in place per result and its plain cells drawn directly (see `Grid`); `prepare` builds
a result's backend in a worker, so the UI thread only shows it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.strip import Strip

from logonscope.tui.tables import Shaped

# The fast table imports polars, when installed, for a backend the app never uses (Arrow
# only): ~0.2 s of CPU before the first screen. Hidden while the table is imported, then
# importable again as usual.
_HIDE_POLARS = "polars" not in sys.modules
if _HIDE_POLARS:
    sys.modules["polars"] = None  # type: ignore[assignment]  # import polars → ImportError
try:
    from textual_fastdatatable import ArrowBackend, DataTable  # noqa: E402
finally:
    if _HIDE_POLARS:
        del sys.modules["polars"]


def prepare(shaped: Shaped) -> Shaped:
    """`shaped` with its table backend built and its columns measured: thread-safe (no
    widget), so workers call it and the UI thread only mounts. Measuring every cell's width
    is the costly part of showing a result (~15 ms for 10k rows)."""
    if shaped.display.num_rows == 0 or shaped.prepared is not None:
        return shaped
    backend = ArrowBackend(shaped.display)
    backend.render_markup = False
    backend.column_content_widths  # noqa: B018 - measured now, cached by the backend
    return replace(shaped, prepared=backend)


# A value drawn one cell per character with nothing for Rich to interpret: printable ASCII
# without markup brackets or a trailing backslash (the library escapes those).
_PLAIN = re.compile(r"[ -Z\\\]-~]*\Z")
_CELL_CACHE_MAX = 20_000


class _PassStyles:
    """A component's styles during one drawing pass: its Rich style computed once."""

    def __init__(self, styles: Any) -> None:
        self._styles = styles
        self.rich_style: Style = styles.rich_style

    def __getattr__(self, name: str) -> Any:
        return getattr(self._styles, name)


class Grid(DataTable):
    """The fast table without its own Tab bindings (Tab moves between panes), drawing its
    plain cells itself.

    The library renders every cell as Rich `Styled(Padding(Text))` through
    `console.render_lines` (the largest single cost of a frame) and forgets every cell when
    the focus moves. A plain value here becomes its one segment directly: ` value ` padded
    to the column, `…` where it is cut, in the same style. The cells are remembered by the
    styles they are drawn in, not by focus, so a Tab redraws only the rows whose style
    changed (the cursor row). Anything else (headers, empty values, wide or control
    characters, markup-like text) is left to the library.
    """

    BINDINGS: ClassVar[list] = [
        b for b in DataTable.BINDINGS if getattr(b, "key", "") not in ("tab", "shift+tab")
    ]
    _size_only = False  # a new virtual size asks for no layout (see `swap`)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_cells: dict[tuple, list[list[Segment]]] = {}
        self._plain_count = -1  # the library's `_update_count` the cells were drawn for
        self._header_cells: dict[tuple, list[list[Segment]]] = {}
        self._pass_style: Style | None = None  # these three while drawing (render_lines)
        self._pass_background: tuple[Color, Color] | None = None
        self._pass_components: dict[tuple[str, ...], _PassStyles] | None = None

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
        in_range: bool = False,
    ) -> list[list[Segment]]:
        if row_index == -1 and column_index >= self.fixed_columns:
            return self._header_cell(column_index, base_style, width, cursor, hover, in_range)
        if (
            row_index < self.fixed_rows  # the header (-1) and fixed rows
            or column_index < self.fixed_columns  # row labels (-1) and fixed columns
            or width < 3
            or self.max_column_content_width is None
            or self.render_markup
        ):
            return super()._render_cell(
                row_index, column_index, base_style, width, cursor, hover, in_range
            )
        styles = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            in_range,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_type == "range",
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        if self._plain_count != self._update_count or len(self._plain_cells) > _CELL_CACHE_MAX:
            self._plain_cells.clear()  # other data or sizes
            self._plain_count = self._update_count
        key = (row_index, column_index, width, base_style, styles)
        lines = self._plain_cells.get(key)
        if lines is not None:
            return lines
        value = self.get_cell_at(Coordinate(row=row_index, column=column_index))
        room = width - 2  # one space of padding on each side
        text = self._plain_text(value, column_index, room)
        if text is not None:
            component_style, post_style = styles
            meta = Style.from_meta({"row": row_index, "column": column_index})
            style = base_style + meta + component_style + post_style
            lines = [[Segment(f" {text} ", style)]]
        else:
            lines = super()._render_cell(
                row_index, column_index, base_style, width, cursor, hover, in_range
            )
        self._plain_cells[key] = lines
        return lines

    def _plain_text(self, value: Any, column: int, room: int) -> str | None:
        """`value` as the library draws it in `room` cells, or None when it is not plain:
        a string of one cell per character (cut with `…`, left-aligned), a whole number
        (right-aligned, as the library formats it) or an empty value (blank)."""
        if isinstance(value, str):
            if not (
                _PLAIN.match(value)
                or (value.isprintable() and "[" not in value and cell_len(value) == len(value))
            ) or value.endswith("\\"):
                return None
            if len(value) > room:
                return value[: room - 1] + "…"
            return value.ljust(room)
        if value is None:
            return None if self.null_rep.plain else " " * room
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value) if self.ordered_columns[column].is_id else f"{value:n}"
            return text.rjust(room) if len(text) <= room and text.isascii() else None
        return None

    def render_lines(self, crop: Region) -> list[Strip]:
        # the library asks for the widget's style, its background and its header's style
        # (each a walk up every ancestor's styles) once per line; one pass draws every
        # line in the same ones
        self._pass_style = self.rich_style
        self._pass_components = {}
        self._pass_background = DataTable.background_colors.fget(self)  # type: ignore[attr-defined]
        try:
            return super().render_lines(crop)
        finally:
            self._pass_style = self._pass_background = self._pass_components = None

    @property
    def background_colors(self) -> tuple[Color, Color]:
        if self._pass_background is not None:
            return self._pass_background
        return DataTable.background_colors.fget(self)  # type: ignore[attr-defined,no-any-return]

    def get_component_styles(self, *names: str) -> Any:
        styles = super().get_component_styles(*names)
        kept = self._pass_components
        if kept is None:
            return styles
        if names not in kept:
            kept[names] = _PassStyles(styles)
        return kept[names]

    def render_line(self, y: int) -> Strip:
        """The library's `render_line`, in the style of the pass (`render_lines`)."""
        style = self._pass_style if self._pass_style is not None else self.rich_style
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y >= self.fixed_rows + (self.header_height if self.show_header else 0):
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + width, style)

    def _header_cell(
        self, column: int, base_style: Style, width: int, cursor: bool, hover: bool, rng: bool
    ) -> list[list[Segment]]:
        """A header cell as the library draws it, kept across results: the next result of a
        pane has the same headers, which the library would render again."""
        label = self.ordered_columns[column].label
        styles = self._get_styles_to_render_cell(
            True,
            False,
            False,
            hover,
            cursor,
            rng,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_type == "range",
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        text = (
            (label.plain, str(label.style), tuple(label.spans)) if isinstance(label, Text) else None
        )
        key = (column, text, width, base_style, styles)
        lines = self._header_cells.get(key) if text is not None else None
        if lines is None:
            lines = super()._render_cell(-1, column, base_style, width, cursor, hover, rng)
            if text is not None:
                if len(self._header_cells) > 1_000:
                    self._header_cells.clear()
                self._header_cells[key] = lines
        return lines

    def _scroll_update(self, virtual_size: Size) -> None:
        """Textual's, less the scrollbars' unconditional repaint: their sizes are reactive
        and repaint the bar when they change. Every layout of the screen called this for
        every table and redrew all the bars, each time in a frame of its own."""
        self._refresh_scrollbars()
        width, height = self.container_size
        if self.show_vertical_scrollbar and self.styles.scrollbar_size_vertical:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = virtual_size.height
            bar.window_size = height - self.scrollbar_size_horizontal
        if self.show_horizontal_scrollbar and self.styles.scrollbar_size_horizontal:
            bar = self.horizontal_scrollbar
            bar.window_virtual_size = virtual_size.width
            bar.window_size = width - self.scrollbar_size_vertical
        self.scroll_x = self.validate_scroll_x(self.scroll_x)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Any:  # fmt: skip
        if self._size_only:  # a swap that keeps the table's region (see `swap`)
            layout = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def swap(self, backend: ArrowBackend, row: int = 0) -> None:
        """Show `backend`'s rows instead, cursor on `row`: the widget stays mounted (the
        library has no call for this; these are the caches its own sort resets, plus the
        columns and sizes that come from the data).

        A new number of rows or width of columns changes the table's virtual size, which
        Textual answers with a layout of the whole screen and a frame that redraws every
        line of it (~30 % of Esc's time). The table's own region does not depend on its
        rows (its height and width are set, not `auto`): only a scrollbar that shows or
        goes changes anything around it, and that asks for its layout itself. So a
        table already laid out takes its new virtual size without one."""
        self.backend = backend
        self._ordered_columns = None
        self._update_count += 1
        self._clear_caches()
        self._require_update_dimensions = False
        self._size_only = bool(
            self.display
            and self.size
            and not self.styles.auto_dimensions
            and not self._layout_required
        )
        try:
            self._update_dimensions([])  # column widths were measured in the worker (prepare)
        finally:
            self._size_only = False
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.move_cursor(row=row, column=0)
        self.refresh()  # a repaint; a layout only when a scrollbar shows or goes (below)
        # whether the rows overflow (a scrollbar shows or goes) decided now, from the new
        # size, and the bars sized for it: left to the layout, a bar came and re-laid out
        # the screen in one or two frames of its own after the rows'
        self._scroll_update(self.virtual_size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y
        if self.show_horizontal_scrollbar:
            self.horizontal_scrollbar.position = self.scroll_x
