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
from dataclasses import dataclass, replace
from typing import Any

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


@dataclass(frozen=True)
class PaneJob:
    """One request for a pane: its result is shown only while `token` is the newest."""

    pane: str  # the pane's id, or "shape-<id>" for a reshape of its current result
    token: int
    filters: FilterState
    spec: ShapeSpec
    context: str = ""  # what the result is of, for the pane's title
    select: Any = None  # the key to put the cursor on

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


# Recent shapings by (pane, spec, table): the Backend hands back the same table for a repeated
# query, so going back (Esc) or to a user seen before reshapes nothing (100k rows: ~50 ms).
_SHAPED: OrderedDict[tuple, tuple[pa.Table, Any, Shaped, Any]] = OrderedDict()
_SHAPED_MAX = 48  # a key and its read-ahead make ~8 (each a few MB at most)
_SHAPED_LOCK = threading.Lock()


def _shaped(
    pane: str, spec: ShapeSpec, table: pa.Table, counted: pa.Table | None
) -> tuple[Shaped, Any]:
    """(`table` shaped by `spec`, the histogram of `counted` or None), remembered."""
    key = (pane, spec, id(table), id(counted))
    with _SHAPED_LOCK:
        hit = _SHAPED.get(key)
        if hit is not None and hit[0] is table and hit[1] is counted:
            _SHAPED.move_to_end(key)
            return hit[2], hit[3]
    shaped = prepare(spec.apply(table))
    drawn = histogram(counted) if counted is not None else None
    with _SHAPED_LOCK:
        _SHAPED[key] = (table, counted, shaped, drawn)
        while len(_SHAPED) > _SHAPED_MAX:
            _SHAPED.popitem(last=False)
    return shaped, drawn


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


# Recent details' tabs by (detail, specs): the Backend hands back the same detail for a session
# seen before, so the cursor back on it or a step back reshapes nothing (~15-30 ms a detail).
_DETAILS: OrderedDict[tuple, tuple[dict, dict[str, tuple[pa.Table, Shaped]]]] = OrderedDict()
_DETAILS_MAX = 64


def detail_shaped(
    detail: dict[str, Any], specs: tuple[tuple[str, ShapeSpec], ...]
) -> dict[str, tuple[pa.Table, Shaped]]:
    """Each tab's (source table, shaped result) of `detail`, remembered."""
    key = (id(detail), specs)
    with _SHAPED_LOCK:
        hit = _DETAILS.get(key)
        if hit is not None and hit[0] is detail:
            _DETAILS.move_to_end(key)
            return hit[1]
    sources = {
        "summary": summary_table(detail),
        "sources": detail["sources"],
        "activity": detail["activity"],
    }
    by_name = dict(specs)
    shaped = {name: (table, prepare(by_name[name].apply(table))) for name, table in sources.items()}
    with _SHAPED_LOCK:
        _DETAILS[key] = (detail, shaped)
        while len(_DETAILS) > _DETAILS_MAX:
            _DETAILS.popitem(last=False)
    return shaped


def with_detail(
    backend: Backend, loaded: Loaded, select: object, detail_job: DetailJob, started: float
) -> None:
    """In a worker: the session the cursor will land on (`select`, else the first) is previewed
    next: its detail comes in the same message, so the list and the detail are drawn
    in one frame (unless it is the one on screen, `detail_job.session_id`)."""
    shown = loaded.shaped.rows
    if not shown.num_rows or "session_id" not in shown.column_names:
        return
    index = 0
    if select is not None:
        index = max(pc.index(shown.column("session_id"), select).as_py(), 0)
    row = shown.slice(index, 1).to_pylist()[0]
    sid = row.get("session_id")
    if get_current_worker().is_cancelled or not sid or sid == detail_job.session_id:
        return
    try:
        detail = backend_views.view_detail(backend, detail_job.view, sid, row)
        ready = replace(detail_job, session_id=sid, known=row)
        loaded.detail = ready.loaded(detail, started)
    except Exception:  # noqa: BLE001, S110 - the detail worker asks again, reports
        pass


# An opened burst's attempts per result (the Backend hands back the same table when asked again)
_ATTEMPTS: OrderedDict[int, tuple[pa.Table, pa.Table]] = OrderedDict()


def attempts(table: pa.Table) -> pa.Table:
    """An opened burst's attempts, one row each (with their durations), remembered."""
    with _SHAPED_LOCK:
        hit = _ATTEMPTS.get(id(table))
        if hit is not None and hit[0] is table:
            return hit[1]
    rows = collapse_bursts(table, gap_s=-1)  # -1: none collapsed
    with _SHAPED_LOCK:
        _ATTEMPTS[id(table)] = (table, rows)
        while len(_ATTEMPTS) > 8:
            _ATTEMPTS.popitem(last=False)
    return rows
