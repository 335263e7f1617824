"""What the main screen's thread workers are given and what they hand back.

A worker gets a frozen job captured on the UI thread (the request's token, the filters, the
ids it asks about and the pane's `ShapeSpec`) plus the `Backend`; it queries, shapes and
returns the message the screen applies on the UI thread. No job holds a widget, so no
worker can read one while the responder is changing it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

import pyarrow as pa
import pyarrow.compute as pc
from textual.worker import get_current_worker

from logonscope.analysis.bursts import collapse_bursts
from logonscope.analysis.timeline import histogram
from logonscope.tui import backend_views
from logonscope.tui.backend import Backend, FilterState
from logonscope.tui.screens.messages import DetailLoaded, Loaded
from logonscope.tui.tables import Shaped, ShapeSpec
from logonscope.tui.widgets.detail import summary_table
from logonscope.tui.widgets.grid import prepare

T = TypeVar("T")

# A result this small (rows) is shaped on the UI thread when the pane changed meanwhile.
SMALL = 2_000
# A small result nobody shaped yet: the first Users rows are asked for before the pane's first
# layout, and shaped for no width they were shaped again once the width was known.
UNSHAPED = Shaped(pa.table({}), pa.table({}), 0, 0, pa.table({}))


@dataclass(frozen=True)
class PaneJob:
    """One request for a pane: its result is shown only while `token` is the newest."""

    pane: str  # the pane's id, or "shape-<id>" for a reshape of its current result
    token: int
    filters: FilterState
    spec: ShapeSpec
    context: str = ""  # what the result is of, for the pane's title
    select: Any = None  # the key to put the cursor on
    unsized: bool = False  # asked before the pane's first layout: the screen shapes it

    def loaded(
        self,
        table: pa.Table,
        started: float,
        timeline: bool = False,
        counted: pa.Table | None = None,
    ) -> Loaded:
        """`table` shaped for the pane (and its timeline histogram, of `counted` when given:
        every attempt of a burst counts), as a message."""
        counted = (table if counted is None else counted) if timeline else None
        if self.unsized and counted is None and table.num_rows <= SMALL:
            shaped, drawn = UNSHAPED, None
        else:
            shaped, drawn = _shaped(self.pane, self.spec, table, counted)
        return Loaded(
            self.pane,
            self.token,
            table,
            shaped,
            self.context,
            self.select,
            drawn,
            seconds=time.perf_counter() - started,
            spec=self.spec,
        )


class Recent:
    """Results remembered by the identity of what they were made from: the Backend hands back
    the same object for a repeated query, so a step back (Esc), a user or session seen before
    remakes nothing. An entry holds its sources, so an id is never taken for another object's;
    the `size` most recently used are kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, tuple[tuple[object, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sources: tuple[object, ...], key: Hashable, make: Callable[[], T]) -> T:
        """What `make()` made from `sources` (with `key`: anything else it depends on)."""
        ident = (key, *map(id, sources))
        with self._lock:
            hit = self._items.get(ident)
            if hit is not None and all(a is b for a, b in zip(hit[0], sources, strict=True)):
                self._items.move_to_end(ident)
                return cast(T, hit[1])
        value = make()  # outside the lock: workers shape side by side
        with self._lock:
            self._items[ident] = (sources, value)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


# Shaped panes: a key and its read-ahead make ~8 (100k rows: ~50 ms each, a few MB at most)
_SHAPED = Recent(48)
_DETAILS = Recent(64)  # a detail's tabs: ~15-30 ms each
_ATTEMPTS = Recent(8)  # an opened burst's attempts


def _shaped(
    pane: str, spec: ShapeSpec, table: pa.Table, counted: pa.Table | None
) -> tuple[Shaped, Any]:
    """(`table` shaped by `spec`, the histogram of `counted` or None), remembered."""

    def make() -> tuple[Shaped, Any]:
        drawn = histogram(counted) if counted is not None else None
        return prepare(spec.apply(table)), drawn

    # by spec, not pane: a reshape (`shape-sessions`) and a load (`sessions`) of the same rows
    # with the same spec make the same result (Esc back to a list sorted meanwhile)
    return _SHAPED.get((table, counted), spec, make)


@dataclass(frozen=True)
class DetailJob:
    """One session's detail: each tab's table shaped with that tab's spec."""

    token: int
    session_id: str
    specs: tuple[tuple[str, ShapeSpec], ...]  # (tab name, spec) for every tab
    known: dict[str, Any] | None = None  # the session's row, when the Sessions pane has it
    view: str = "investigator"  # which kind of session `session_id` names

    def loaded(self, detail: dict[str, Any] | None, started: float) -> DetailLoaded:
        shaped: dict[str, tuple[pa.Table, Shaped]] = {}
        if detail is not None:
            shaped = detail_shaped(detail, self.specs)
        return DetailLoaded(
            self.token,
            detail,
            shaped,
            time.perf_counter() - started,
            specs=self.specs,
            session_id=self.session_id,
        )


def detail_shaped(
    detail: dict[str, Any], specs: tuple[tuple[str, ShapeSpec], ...]
) -> dict[str, tuple[pa.Table, Shaped]]:
    """Each tab's (source table, shaped result) of `detail`, remembered."""

    def make() -> dict[str, tuple[pa.Table, Shaped]]:
        sources = {
            "summary": summary_table(detail),
            "sources": detail["sources"],
            "activity": detail["activity"],
        }
        by_name = dict(specs)
        return {n: (table, prepare(by_name[n].apply(table))) for n, table in sources.items()}

    return _DETAILS.get((detail,), specs, make)


def with_detail(
    backend: Backend, loaded: Loaded, select: object, detail_job: DetailJob, started: float
) -> None:
    """In a worker: the session the cursor will land on (`select`, else the first) is previewed
    next: its detail comes in the same message, so the list and the detail are drawn
    in one frame (unless it is the one on screen, `detail_job.session_id`)."""
    row = landing(loaded.shaped.rows, select)
    if row is None:
        return
    sid = row.get("session_id")
    if get_current_worker().is_cancelled or not sid or sid == detail_job.session_id:
        return
    try:
        detail = backend_views.view_detail(backend, detail_job.view, sid, row)
        ready = replace(detail_job, session_id=sid, known=row)
        loaded.detail = ready.loaded(detail, started)
    except Exception:  # noqa: BLE001, S110 - the detail worker asks again, reports
        pass


def landing(rows: pa.Table, select: object = None) -> dict[str, Any] | None:
    """The row of a new Sessions list the cursor lands on: session `select` when the list
    shows it (a sort keeps the cursor on its session), else the first; None: no sessions."""
    if not rows.num_rows or "session_id" not in rows.column_names:
        return None
    index = 0
    if select is not None:
        index = max(pc.index(rows.column("session_id"), select).as_py(), 0)
    return cast(dict[str, Any], rows.slice(index, 1).to_pylist()[0])


def attempts(table: pa.Table) -> pa.Table:
    """An opened burst's attempts, one row each (with their durations), remembered."""
    return _ATTEMPTS.get((table,), None, lambda: collapse_bursts(table, gap_s=-1))  # -1: none
