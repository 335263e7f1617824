"""Reading ahead: what the next key probably shows, read while the app waits for that key.

A responder moves the cursor one row at a time and drills into the row under it, so once a
key's results are on screen the screen asks for its neighbours: the users above and below
(their addresses, sessions and first session's detail), the sessions above and below (their
details), the sessions of the address under the cursor. One background thread reads them
through the `Backend` (whose caches the panes' workers then hit) and shapes them as the
workers would (`jobs`' caches); a newer request drops the older ones not yet started. A key
that comes before its read-ahead is done waits for the same read instead of starting another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from logonscope.tui import backend_views
from logonscope.tui.backend import Backend, FilterState
from logonscope.tui.screens.jobs import DetailJob, PaneJob, detail_shaped, landing
from logonscope.tui.tables import ShapeSpec

GROUP = "ahead"  # the Backend's connection for reading ahead: the panes' stay free
Task = Callable[[], None]


class ReadAhead:
    """One daemon thread running the newest tasks asked for (older pending ones dropped)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._tasks: list[Task] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.closed = False
        self._paused = False

    def ask(self, tasks: list[Task]) -> None:
        """Run `tasks` in order once the thread is free, instead of any still waiting (and
        go on if paused)."""
        with self._wake:
            self._tasks = list(tasks)
            self._paused = False
            self._wake.notify()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, daemon=True, name="logonscope-read-ahead"
            )
            self._thread.start()

    def pause(self) -> None:
        """Start no task until `resume` or `ask` (the one running goes on: a key may be
        waiting for its read). A key's results are being made and drawn: the UI thread
        shares the processor (and Python's lock) with no read it does not need."""
        with self._wake:
            self._paused = True

    def resume(self) -> None:
        with self._wake:
            self._paused = False
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self.closed = True
            self._tasks = []
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while (not self._tasks or self._paused) and not self.closed:
                    self._wake.wait()
                if self.closed:
                    return
                task = self._tasks.pop(0)
            try:
                task()
            except Exception:  # noqa: BLE001, S110 - a pane's own read reports errors
                pass

    # --- what to read (built on the UI thread from plain values) --------------------

    def detail(self, row: dict[str, Any], job: DetailJob) -> Task:
        """The detail of the session in `row`, with its tabs shaped by `job.specs`."""

        def read() -> None:
            sid = row.get("session_id")
            if sid:
                found = backend_views.view_detail(self.backend, job.view, sid, row, GROUP)
                if found is not None:
                    detail_shaped(found, job.specs)

        return read

    def sorted_list(
        self, source: pa.Table, spec: ShapeSpec, job: DetailJob, select: object = None
    ) -> Task:
        """The Sessions list `source` shaped by `spec` (a sort the picker's Enter asks for:
        its reshape then finds it made) and the detail of the session the cursor will land
        on (`select`, the one under it now, if the sorted list shows it; else the first)."""

        def read() -> None:
            loaded = PaneJob("sessions", 0, FilterState(), spec).loaded(source, 0.0)
            self._landing_detail(loaded.shaped.rows, job, select)

        return read

    def sessions(
        self,
        state: FilterState,
        who: tuple[str | None, Any, bool],
        spec: ShapeSpec,
        job: DetailJob,
        ips: ShapeSpec | None = None,
        users: ShapeSpec | None = None,
    ) -> Task:
        """The Sessions list of `who` (user, address, whether the address narrows) shaped
        by `spec`, its first session's detail; with `ips` the user's addresses, with
        `users` the Users list, each shaped by that spec."""

        def read() -> None:
            user, ip, ip_set = who
            backend = self.backend
            if users is not None:
                PaneJob("users", 0, state, users).loaded(backend.users(state, GROUP), 0.0)
            if ips is not None and user is not None:
                table = backend.user_ips(state, user, group=GROUP)
                PaneJob("ips", 0, state, ips).loaded(table, 0.0)
            table, rows = backend.session_rows(state, user, ip, ip_set, group=GROUP)
            loaded = PaneJob("sessions", 0, state, spec).loaded(
                rows, 0.0, timeline=True, counted=table
            )
            self._landing_detail(loaded.shaped.rows, job)

        return read

    def _landing_detail(self, rows: pa.Table, job: DetailJob, select: object = None) -> None:
        row = landing(rows, select)
        if row is not None:
            self.detail(row, job)()
