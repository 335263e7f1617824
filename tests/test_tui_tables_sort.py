"""A pane's sort: the rows a sorted pane shows and exports are the table stably sorted by the
column (nulls last), whether or not the rows were in that order already."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from logonscope.tui.tables import Sort, shape


def _table(start: list, names: list[str]) -> pa.Table:
    return pa.table({"start": start, "name": names, "n": list(range(len(names)))})


CASES = {
    "in order, with ties": [1, 1, 2, 3, 3, 3, 5],
    "reversed, with ties": [5, 3, 3, 3, 2, 1, 1],
    "shuffled": [3, 1, 5, 3, 1, 2, 3],
    "with nulls": [2, None, 1, 3, None, 1, 4],
}


@pytest.mark.parametrize("values", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("descending", [False, True])
def test_sorted_rows_are_the_stable_sort_of_the_table(values: list, descending: bool) -> None:
    table = _table(values, list("abcdefg"))
    direction = "descending" if descending else "ascending"
    expected = table.take(pc.sort_indices(table, sort_keys=[("start", direction)]))
    shaped = shape(table, order=Sort("start", descending), cap=4)
    assert shaped.view.equals(expected)
    assert shaped.rows.equals(expected.slice(0, 4))
    assert shaped.display.column("n").to_pylist() == expected.column("n").to_pylist()[:4]
    assert (shaped.matched, shaped.total) == (7, 7)
    searched = shape(table, text="e", order=Sort("start", descending))
    assert searched.view.column("name").to_pylist() == ["e"]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("kind", ["int", "time", "nulls", "fewer values than the cap", "one value"])
def test_a_large_tables_shown_rows_are_the_head_of_its_stable_sort(
    descending: bool, kind: str
) -> None:
    """A table over four times the cap shows the head of its stable sort, though only the rows
    near the sorted end are sorted: ties in table order, nulls last, a bound shared by many."""
    size, cap = 1_000, 40
    values: list = [(i * 7919) % 97 for i in range(size)]  # ties at every value, shuffled
    if kind == "nulls":
        values = [None if i % 3 else v for i, v in enumerate(values)]
    if kind == "fewer values than the cap":  # the head runs into the nulls
        values = [None if i % 100 else v for i, v in enumerate(values)]
    if kind == "one value":
        values = [5] * size
    column = pa.array(values, pa.int64())
    if kind == "time":
        column = column.cast(pa.timestamp("us", tz="UTC"))
    table = pa.table({"start": column, "n": list(range(size))})
    direction = "descending" if descending else "ascending"
    expected = table.take(pc.sort_indices(table, sort_keys=[("start", direction)]))
    shaped = shape(table, order=Sort("start", descending), cap=cap)
    assert shaped.rows.column("n").to_pylist() == expected.column("n").to_pylist()[:cap]
    assert shaped.view.equals(expected)
