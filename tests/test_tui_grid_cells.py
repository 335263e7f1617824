"""The table draws its plain cells itself: it must draw them exactly as the library does.

`Grid._render_cell` skips Rich for plain values (see tui.widgets.grid); every other
value goes to the library. For hostile and ordinary values, at widths that cut them and
widths that pad them, under the cursor, hovered and neither, focused and not, each cell's
characters and their styles must be the library's, one by one.
"""

from __future__ import annotations

import pyarrow as pa
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual_fastdatatable import DataTable

from logonscope.tui.widgets.grid import ArrowBackend, Grid
from tests.tui_support import async_test

VALUES = [
    "alice",
    "10.0.0.5",
    "2026-03-01 12:00:00",
    "",
    " ",
    "x" * 60,
    "trailing\\",
    "back\\slash",
    "[red]markup[/red]",
    "[@click=app.quit]x[/]",
    "a]b",
    ":smile: :thumbs_up:",
    "eve\u202egnp.exe",
    "wide 漢字 cell",
    "tab\there",
    "line\nbreak",
    "\x1b[31mescape",
    "café",
    "failure ×6",
    "── who",
    "a\u0301",
    "~!@#$%^&*()_+{}|:<>?",
    None,
]


def _chars(lines: list[list[Segment]]) -> list[tuple[str, object]]:
    """Each character of a cell's first line with the style it is drawn in."""
    return [(ch, seg.style) for seg in lines[0] for ch in seg.text]


class _Table(App[None]):
    def compose(self) -> ComposeResult:
        data = pa.table(
            {
                "v": pa.array(VALUES, pa.string()),
                "n": [str(i) for i in VALUES],
                "count": [(i * 7919) ** (i % 3) - 3 * (i % 2) for i in range(len(VALUES))],
                "record_id": [None if i % 5 == 0 else 10 ** (i % 17) for i in range(len(VALUES))],
            }
        )
        backend = ArrowBackend(data)
        backend.render_markup = False
        yield Grid(backend=backend, cursor_type="row", render_markup=False,
                   show_row_labels=False, zebra_stripes=False, max_column_content_width=48)  # fmt: skip
        yield DataTable(backend=ArrowBackend(pa.table({"x": ["y"]})), id="other")


@async_test
async def test_plain_cells_are_drawn_as_the_library_draws_them() -> None:
    app = _Table()
    async with app.run_test(size=(100, 30)) as pilot:
        grid = app.query_one(Grid)
        checked = fast = 0
        for focused in (True, False):
            app.set_focus(grid if focused else app.query_one("#other"))
            await pilot.pause()
            grid._pseudo_class_state = grid.get_pseudo_class_state()
            base = grid.rich_style
            for row in range(len(VALUES)):
                for column in (0, 1, 2, 3):
                    for width in (3, 4, 6, 12, 50):
                        for cursor, hover in ((False, False), (True, False), (False, True)):
                            ours = grid._render_cell(row, column, base, width, cursor, hover)
                            grid._cell_render_cache.clear()
                            theirs = DataTable._render_cell(
                                grid, row, column, base, width, cursor, hover
                            )
                            assert len(ours) == len(theirs) == 1
                            assert _chars(ours) == _chars(theirs), (VALUES[row], width)
                            checked += 1
                            fast += len(ours[0]) == 1  # one segment: drawn directly
            header = grid.get_component_styles("datatable--header").rich_style
            for column in (0, 1):  # headers: the library's drawing, kept across results
                for width in (3, 6, 12):
                    for cursor, hover in ((False, False), (False, True)):
                        grid._render_cell(-1, column, header, width, cursor, hover)
                        kept = grid._render_cell(-1, column, header, width, cursor, hover)
                        grid._cell_render_cache.clear()
                        theirs = DataTable._render_cell(
                            grid, -1, column, header, width, cursor, hover
                        )
                        assert _chars(kept) == _chars(theirs), (column, width)
        assert checked == 2 * len(VALUES) * 4 * 5 * 3
        assert fast > checked // 3  # the plain path was taken, not only the library's


def _table(rows: int, width: int) -> ArrowBackend:
    backend = ArrowBackend(
        pa.table({"who": [f"user{i:03d}".ljust(width, "x") for i in range(rows)], "n": range(rows)})
    )
    backend.render_markup = False
    return backend


class _Swapped(App[None]):
    CSS = "#box { height: 12; width: 40; } Grid { height: 1fr; max-height: 100%; }"

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(id="box"):
            yield Grid(backend=_table(40, 8), cursor_type="row", render_markup=False,
                       show_row_labels=False, zebra_stripes=False, max_column_content_width=48)  # fmt: skip


def _screen(app: App[None]) -> list[list[tuple[str, object]]]:
    """Every line of the screen as (text, style) segments."""
    strips = app.screen._compositor.render_strips()
    return [[(seg.text, seg.style) for seg in strip] for strip in strips]


@async_test
async def test_a_swap_that_keeps_the_scrollbars_draws_what_a_layout_would() -> None:
    """A new result whose scrollbars stay as they were (other row count, other column
    widths) is drawn without a layout of the screen: rows, cursor and both scrollbars as a
    full layout draws them. One that makes a scrollbar show or go lays out again."""
    app = _Swapped()
    async with app.run_test(size=(60, 20)) as pilot:
        grid = app.query_one(Grid)
        await pilot.pause()
        laid_out = 0
        for rows, width, row in ((90, 60, 70), (120, 70, 5), (25, 8, 3), (30, 9, 29), (4, 8, 1)):
            bars = grid.show_vertical_scrollbar, grid.show_horizontal_scrollbar
            grid.swap(_table(rows, width), row)
            changed = bars != (grid.show_vertical_scrollbar, grid.show_horizontal_scrollbar)
            assert grid._layout_required is changed  # a layout only when a bar shows or goes
            laid_out += changed
            await pilot.pause()
            swapped = _screen(app)
            assert grid.cursor_row == row
            assert grid.show_vertical_scrollbar is (rows + 1 > 12 - grid.show_horizontal_scrollbar)
            app.screen._refresh_layout(app.screen.size)  # what a full layout draws
            await pilot.pause()
            assert _screen(app) == swapped, (rows, width)
        assert laid_out == 3  # the horizontal bar came, went; the vertical went
