"""The main screen's loading layer: every query runs in a thread worker, results come back.

`load_*` runs on the UI thread: it marks the pane as loading, captures a frozen job (token,
filters, ids, the pane's `ShapeSpec`) and starts a worker with it. The worker queries the
`Backend`, shapes the result and posts a message; it never reads a widget. Workers are
`exclusive` per pane, so a fast cursor cancels stale queries, and a `token` drops a result
that a newer request superseded. A cursor that keeps moving previews only once it rests
(`preview`). Each result redraws most of the screen, so a key's results are drawn together:
the Sessions worker brings the detail of the session the cursor lands on in its own message,
a result of Users, User + IP or Sessions waits (at most `HOLD_S`) for the others still coming
for the same key, and the key's own changes wait for them too (`hold_frames`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pyarrow as pa
from textual import on, work
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from logonscope.analysis.bursts import burst_attempts
from logonscope.tui import backend_views
from logonscope.tui.backend import Backend, FilterState
from logonscope.tui.held import keep_alive_objects
from logonscope.tui.screens.breadcrumbs import sessions_context, user_context
from logonscope.tui.screens.jobs import SMALL, UNSHAPED, DetailJob, PaneJob, attempts, with_detail
from logonscope.tui.screens.main_panes import PanesScreen
from logonscope.tui.screens.messages import DetailLoaded, FacetsLoaded, Loaded
from logonscope.tui.tables import ShapeSpec, shape, visible
from logonscope.tui.widgets.detail import DetailPane
from logonscope.tui.widgets.grid import prepare
from logonscope.tui.widgets.table_pane import TablePane
from logonscope.tui.widgets.timeline import TimelineStrip

# (user_key, source IP, whether the IP narrows, the burst whose attempts are listed)
Who = tuple[str | None, object, bool, tuple[str, ...] | None]

# A cursor that moved again within this many seconds is still moving: its preview (the panes
# that follow it) waits until it has rested this long, restarted on each move. A single press
# after a pause previews at once, so a debounce never delays a lone key.
PREVIEW_DELAY = 0.06

# The list panes whose results are drawn together, in this order, when several are coming.
BATCHED = ("users", "ips", "sessions")
# How long a result waits for the others of its key before it is drawn alone (seconds).
HOLD_S = 0.3


class LoadingScreen(PanesScreen):
    """Starts the queries (UI thread), runs them (workers), shows the results (UI thread)."""

    def __init__(self, backend: Backend, case_label: str = "") -> None:
        super().__init__(backend, case_label)
        self.tokens: dict[str, int] = {}
        self.timings: dict[str, float] = {}  # last query+shape seconds per pane (bench)
        self._holding = False
        self._moved: dict[str, float] = {}  # when each cursor last asked for a preview
        self._previews: dict[str, Timer] = {}
        self._delivered: dict[str, int] = {}  # the newest token that came back, per pane
        self._held: dict[str, Loaded] = {}  # results waiting for the others of their key
        self._hold_timer: Timer | None = None
        self._detail_applied = 0  # the token of the detail on screen
        self.first_drawn = False  # the first screen's Users rows are drawn

    def preview(self, cursor: str, load: Callable[[], None]) -> None:
        """Run `load` (what follows `cursor`) now, or once the cursor rests if it is moving."""
        now = time.monotonic()
        last = self._moved.get(cursor, float("-inf"))
        self._moved[cursor] = now
        self.cancel_preview(cursor)
        if now - last > PREVIEW_DELAY:
            load()
            return

        def rested() -> None:
            self._previews.pop(cursor, None)
            load()

        self._previews[cursor] = self.set_timer(PREVIEW_DELAY, rested)

    def detail_up(self) -> str | None:
        """The session whose detail is on screen, with no newer detail on its way."""
        if self.tokens.get("detail", 0) != self._detail_applied:
            return None
        return self.pane("detail").session_id

    def cancel_preview(self, cursor: str) -> None:
        pending = self._previews.pop(cursor, None)
        if pending is not None:
            pending.stop()

    @property
    def previews_pending(self) -> bool:
        """A preview waits for its cursor to rest, or a result for the others of its key
        (headless drivers wait for it too)."""
        return bool(self._previews or self._held or self.after_frame_pending)

    def _token(self, pane: str) -> int:
        self.tokens[pane] = self.tokens.get(pane, 0) + 1
        return self.tokens[pane]

    def _asked(self, pane: str) -> int:
        """A new request's token; the screen's frames wait for its result (`hold_frames`).
        A reshape while a search is typed takes a plain `_token`: its letters would wait."""
        self.hold_frames()
        return self._token(pane)

    def _drawn(self) -> None:
        """A result was applied: the frames go on once no other result is on its way."""
        coming = any(self.tokens.get(p, 0) > self._delivered.get(p, 0) for p in BATCHED)
        if not coming and self.tokens.get("detail", 0) == self._detail_applied:
            self.release_frames()

    def _job(self, pane: str, context: str = "", select: object = None) -> PaneJob:
        spec = self.query_one(f"#{pane}", TablePane).shape_spec()
        return PaneJob(pane, self._asked(pane), self.filters, spec, context, select)

    # --- requests (UI thread) -------------------------------------------------------

    def reload_all(self) -> None:
        users = self.pane("users").current()
        self.load_users(select=users.get("user_key") if users else None)
        self.load_ips()
        self.load_sessions(select=self.nav.session_id)

    def load_users(self, select: object = None) -> None:
        self.pane("users").loading_for("")
        job = self._job("users", "", select)  # before a layout (no width yet): shaped here
        self._users_worker(self.backend, replace(job, unsized=not self.pane("users").size))

    def load_ips(self, select: object = None) -> None:
        nav = self.nav
        pane = self.pane("ips")
        if nav.user is None:
            pane.loading_for("")
            empty = pa.table({"src_ip": pa.array([], pa.string())})
            self.post_message(Loaded("ips", self._token("ips"), empty, shape(empty), ""))
            return
        context = user_context(nav)
        pane.loading_for(context)
        self._ips_worker(self.backend, self._job("ips", context, select), nav.user)

    def load_sessions(self, select: object = None) -> None:
        nav = self.nav
        context = sessions_context(nav, self.filters)
        self.pane("sessions").view = nav.view  # before its title says what it is loading
        self.pane("sessions").loading_for(context)
        who: Who = (nav.user, nav.ip, nav.ip_set, nav.burst)
        job = self._job("sessions", context, select)
        if nav.view != "investigator":
            self._view_worker(self.backend, job, who, nav.view)
            return
        # the session whose detail is on screen: landing on it again needs no new detail (a
        # step back lands on the session it left, whose detail comes with the list)
        shown = self.detail_up() or ""
        self._sessions_worker(self.backend, job, who, self._detail_job(shown, None))

    def load_detail(self, session_id: str | None) -> None:
        detail: DetailPane = self.pane("detail")
        token = self._asked("detail")
        if session_id is None:
            self.post_message(DetailLoaded(token, None, {}))
            return
        detail.loading_for(session_id)
        row = self.pane("sessions").current()  # the session's columns, when it is the one
        known = row if row is not None and row.get("session_id") == session_id else None
        self._detail_worker(self.backend, self._detail_job(session_id, known, token))

    def _detail_job(self, session_id: str, known: dict | None, token: int = 0) -> DetailJob:
        tables = {t.id: t for t in self.pane("detail").tables()}
        specs = tuple((name, tables[f"{name}-table"].shape_spec()) for name in DetailPane.TABS)
        return DetailJob(token, session_id, specs, known, self.nav.view)

    def reshape(self, pane: TablePane) -> None:
        """Search or sort changed: reshape the pane's current result (no new query)."""
        if pane.source is None:
            return
        key = f"shape-{pane.id or ''}"
        select = pane.current_key()
        token = self._asked(key) if self._may_focus() else self._token(key)  # not typing
        job = PaneJob(key, token, self.filters, pane.shape_spec(), pane.context, select)
        source = pane.source
        # a reshaped Sessions list may put the cursor on another session (a sort): its
        # detail comes with the list, as with a new list
        detail_job = None
        if pane.id == "sessions" and self.nav.view == "investigator":
            detail_job = self._detail_job(self.detail_up() or "", None)
        # one worker group per pane: reshaping one pane must not cancel another's (`c`
        # clears the searches of several panes at once)
        self.run_worker(
            lambda: self._shape(job, source, detail_job),
            thread=True,
            exclusive=True,
            group=key,
            exit_on_error=False,
        )

    @on(TablePane.Searched)
    def _searched(self, message: TablePane.Searched) -> None:
        self.reshape(message.pane)

    # --- workers (threads: they get plain values and post messages) ------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="users")
    def _users_worker(self, backend: Backend, job: PaneJob) -> None:
        started = time.perf_counter()
        table = backend.users(job.filters)
        if not get_current_worker().is_cancelled:
            self.post_message(job.loaded(table, started))

    @work(thread=True, exclusive=True, exit_on_error=False, group="ips")
    def _ips_worker(self, backend: Backend, job: PaneJob, user: str) -> None:
        started = time.perf_counter()
        table = backend.user_ips(job.filters, user)
        if not get_current_worker().is_cancelled:
            self.post_message(job.loaded(table, started))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sessions")
    def _sessions_worker(
        self, backend: Backend, job: PaneJob, who: Who, detail_job: DetailJob
    ) -> None:
        started = time.perf_counter()
        user, ip, ip_set, burst = who
        # bursts of failures as one row each; or, opened, one burst's attempts
        if burst:
            table = burst_attempts(backend.sessions(job.filters, user, ip, ip_set), burst)
            rows = attempts(table)
        else:
            table, rows = backend.session_rows(job.filters, user, ip, ip_set)
        if get_current_worker().is_cancelled:
            return
        loaded = job.loaded(rows, started, timeline=True, counted=table)
        with_detail(backend, loaded, job.select, detail_job, started)
        if not get_current_worker().is_cancelled:
            self.post_message(loaded)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sessions")
    def _view_worker(self, backend: Backend, job: PaneJob, who: Who, view: str) -> None:
        """The Sessions pane in the Windows logon or desktop view (no bursts there: those
        exist only once a logon succeeded)."""
        started = time.perf_counter()
        user, ip, ip_set, _burst = who
        table = backend_views.view_sessions(backend, job.filters, view, user, ip, ip_set)
        if not get_current_worker().is_cancelled:
            self.post_message(job.loaded(table, started, timeline=True))

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def _detail_worker(self, backend: Backend, job: DetailJob) -> None:
        started = time.perf_counter()
        detail = backend_views.view_detail(backend, job.view, job.session_id, job.known)
        if not get_current_worker().is_cancelled:
            self.post_message(job.loaded(detail, started))

    def _shape(self, job: PaneJob, source: pa.Table, detail_job: DetailJob | None) -> None:
        started = time.perf_counter()
        loaded = job.loaded(source, started)
        if detail_job is not None:
            with_detail(self.backend, loaded, job.select, detail_job, started)
        if not get_current_worker().is_cancelled:
            self.post_message(loaded)

    @work(thread=True, exclusive=True, exit_on_error=False, group="facets")
    def _facets_worker(self, backend: Backend) -> None:
        self.post_message(FacetsLoaded(backend.facets()))

    # --- results arrive (UI thread) ---------------------------------------------------

    def on_loaded(self, message: Loaded) -> None:
        if self.tokens.get(message.pane) != message.token:
            return  # superseded by a newer request
        if message.pane in BATCHED:
            self._delivered[message.pane] = message.token
            self._held[message.pane] = message
            coming = [p for p in BATCHED if self.tokens.get(p, 0) > self._delivered.get(p, 0)]
            if coming:  # another result of this key is on its way: draw them together
                if self._hold_timer is None:
                    self._hold_timer = self.set_timer(HOLD_S, self._release)
                return
            self._release()
            return
        self._apply(message)

    def _release(self) -> None:
        """Draw the held results (all of a key's, or those that came in time) at once."""
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        held, self._held = self._held, {}
        for name in BATCHED:
            message = held.get(name)
            if message is not None and self.tokens.get(name) == message.token:
                self._apply(message)

    def _apply(self, message: Loaded) -> None:
        if message.pane.startswith("shape-"):
            name = message.pane[len("shape-") :]
            pane = self.query_one(f"#{name}", TablePane)
            pane.show(
                message.source,
                message.shaped,
                select=pane.current_key(),
                focus=self._may_focus() and pane is self.active_table(),
            )
        else:
            pane = self.pane(message.pane)
            # a reshape still running was of the rows this result replaces: drop it
            self._token(f"shape-{message.pane}")
            spec = pane.shape_spec()
            small = message.source.num_rows <= SMALL
            if message.shaped is UNSHAPED or (message.spec not in (None, spec) and small):
                # shaped for another width (the first Users, asked before the first layout):
                # reshaped here, rather than drawn and sent back to a worker
                message.shaped, message.spec = prepare(spec.apply(message.source)), spec
            pane.show(
                message.source,
                message.shaped,
                message.context,
                select=message.select,
                focus=self._may_focus() and message.pane == self.nav.pane,
            )
            if message.pane == "users" and not self._holding:
                # once the first screen is drawn: what the filters offer, the sessions read in
                # (DuckDB's import among them: ~0.15 s of CPU that the frame would wait for)
                self._holding = True
                self.after_frame(self._read_in)  # (its first highlight's panes wait too)
            if (
                message.pane == "users"
                and "sessions" not in self.tokens
                and (message.shaped.rows.num_rows == 0 or not self.pane("users").has_focus_within)
            ):
                self.load_ips()  # no highlight will come to load them
                self.load_sessions()
        self._reshape_if_changed(pane, message.spec)
        self.timings[message.pane] = message.seconds
        ready = message.detail
        current = pane.current() if ready is not None else None
        if ready is not None and current and current.get("session_id") == ready.session_id:
            ready.token = self._token("detail")  # shown now: no detail worker for it
            self.on_detail_loaded(ready)
            if self.nav.session_id != ready.session_id:  # the breadcrumb names what it shows
                self.nav = replace(self.nav, session_id=ready.session_id)
                self._status()
        if message.histogram is not None:
            strip = self.query_one(TimelineStrip)
            strip.context = message.context
            strip.histogram = message.histogram
        self.shown(message.pane)
        self._drawn()

    def _read_in(self) -> None:
        self.first_drawn = True
        if self.backend.keep_alive:  # decided once, by the app (not headless)
            keep_alive_objects()
        self._facets_worker(self.backend)
        if self.backend.held is None:
            then = (self.filters, FilterState(outcomes=("failure",)))
            self.backend.hold_sessions(then=then)

    def shown(self, pane: str) -> None:
        """A result was just drawn in `pane`: the layer above reads ahead from it."""

    def _reshape_if_changed(self, pane: TablePane, spec: ShapeSpec | None) -> None:
        """The responder searched or sorted while the worker ran: apply what they see now."""
        if spec is not None and spec != pane.shape_spec():
            self.reshape(pane)

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        if self.tokens.get("detail") != message.token:
            return
        detail: DetailPane = self.pane("detail")
        for table in detail.tables():  # reshapes still running were of the old detail
            self._token(f"shape-{table.id or ''}")
        detail.show_detail(
            message.detail, message.shaped, focus=self._may_focus() and self.nav.pane == "detail"
        )
        self._detail_applied = message.token
        self.shown("detail")
        self._drawn()
        for name, spec in message.specs:
            self._reshape_if_changed(detail.table(name), spec)
        self.timings["detail"] = message.seconds

    def on_facets_loaded(self, message: FacetsLoaded) -> None:
        self.facets = message.facets

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            if event.worker.group in BATCHED:  # no result will come: others need not wait
                self._delivered[event.worker.group] = self.tokens.get(event.worker.group, 0)
            error = event.worker.error
            self.notify(
                visible(f"{type(error).__name__}: {error}"),
                title=f"{event.worker.group} failed",
                severity="error",
                timeout=10,
                markup=False,
            )
