"""Messages the main screen's thread workers post back to it (thread-safe by design).

Workers never touch widgets: they compute, then post one of these; the screen applies it on
the UI thread. A `token` lets the screen drop a result that a newer request superseded.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from textual.message import Message

from logonscope.analysis.timeline import Histogram
from logonscope.tui.tables import Shaped, ShapeSpec


class Loaded(Message):
    """A pane's result, shaped (searched, sorted, capped, inert)."""

    def __init__(
        self,
        pane: str,
        token: int,
        source: pa.Table,
        shaped: Shaped,
        context: str,
        select: Any = None,
        histogram: Histogram | None = None,
        seconds: float = 0.0,
        spec: ShapeSpec | None = None,
    ) -> None:
        super().__init__()
        self.pane, self.token, self.source, self.shaped = pane, token, source, shaped
        self.context, self.select, self.histogram, self.seconds = (
            context,
            select,
            histogram,
            seconds,
        )
        self.spec = spec  # how `shaped` was made: the pane may have changed it since
        # Sessions only: the detail of the session its cursor lands on, drawn with the list
        self.detail: DetailLoaded | None = None


class DetailLoaded(Message):
    def __init__(
        self,
        token: int,
        detail: dict[str, Any] | None,
        shaped: dict[str, tuple[pa.Table, Shaped]],
        seconds: float = 0.0,
        specs: tuple[tuple[str, ShapeSpec], ...] = (),
        session_id: str | None = None,
    ) -> None:
        super().__init__()
        self.token, self.detail, self.shaped, self.seconds = token, detail, shaped, seconds
        self.specs = specs  # (tab name, how its table was shaped)
        self.session_id = session_id  # the session asked for


class EventLoaded(Message):
    def __init__(self, title: str, event: dict[str, Any] | None) -> None:
        super().__init__()
        self.title, self.event = title, event


class FacetsLoaded(Message):
    def __init__(self, facets: Any) -> None:
        super().__init__()
        self.facets = facets


class Exported(Message):
    def __init__(self, path: str, rows: int) -> None:
        super().__init__()
        self.path, self.rows = path, rows
