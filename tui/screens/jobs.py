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
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from logonscope.analysis.timeline import histogram
from logonscope.tui.backend import FilterState
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
_SHAPED_MAX = 16
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
            sources = {
                "summary": summary_table(detail),
                "sources": detail["sources"],
                "activity": detail["activity"],
            }
            specs = dict(self.specs)
            for name, table in sources.items():
                shaped[name] = (table, prepare(specs[name].apply(table)))
        return DetailLoaded(
            self.token,
            detail,
            shaped,
            time.perf_counter() - started,
            specs=self.specs,
            session_id=self.session_id,
        )
