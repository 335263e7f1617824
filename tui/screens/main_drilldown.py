"""The main screen's drill-down layer: what a pane's message loads next, and history.

Users → User + IP → Sessions → Session detail. A highlight previews (the panes to the right
follow the cursor); Enter chooses and moves the focus on, leaving a step in the history that
Esc / Backspace goes back to and `]` forward again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import on
from textual.screen import Screen
from textual.timer import Timer

from logonscope.tui.screens.main_loading import BATCHED, LoadingScreen
from logonscope.tui.screens.navigation import Nav
from logonscope.tui.screens.read_ahead import ReadAhead
from logonscope.tui.tables import Sort, bounded, visible
from logonscope.tui.widgets.detail import ActivityTable, SourcesTable
from logonscope.tui.widgets.sessions import SessionsPane
from logonscope.tui.widgets.user_ips import UserIpsPane
from logonscope.tui.widgets.users import UsersPane

# Reading ahead starts this long after a result is drawn (seconds): the frames of the key
# that brought it come first.
READ_AHEAD_AFTER_S = 0.08
# Reading ahead paused by a key goes on this long after its frame (seconds), unless the
# key's own read-ahead asked sooner.
READ_AHEAD_RESUME_S = 0.2
# The sort picker's read-ahead starts this long after it opens (seconds): after its frames.
READ_AHEAD_PICKER_S = 0.25
# A read-ahead that sorts every session of the case by text waits for this long a pause
# (seconds); by a number or a time it sorts only the rows shown (`tables.sorted_head`).
READ_AHEAD_IDLE_S = 1.5


class DrillDownScreen(LoadingScreen):
    """Turns the panes' messages into a new selection, loads and history steps."""

    _ahead: ReadAhead | None = None
    _ahead_timer: Timer | None = None
    _ahead_idle: Timer | None = None
    _holds = 0  # keys that held the frames (and paused reading ahead)

    # --- pane messages → what loads next --------------------------------------------

    @on(UsersPane.UserHighlighted)
    def _user_highlighted(self, message: UsersPane.UserHighlighted) -> None:
        user = message.user
        key = user.get("user_key") if user else None
        if key == self.nav.user and self.nav.user is not None:
            return
        if not self.pane("users").has_focus_within:
            return  # a reload, not the responder browsing users: keep the selection
        self.nav = replace(
            self.nav,
            user=key,
            user_label=(user or {}).get("user"),
            ip=None,
            ip_set=False,
            session_id=None,
            burst=None,
        )
        if self.first_drawn:
            self.preview("users", self._preview_user)
        else:  # the first screen's Users first: these queries (DuckDB's import) after its frame
            self.after_frame(lambda: self.preview("users", self._preview_user))
        self._status()

    def _preview_user(self) -> None:
        self.load_ips()
        self.load_sessions()

    @on(UsersPane.UserChosen)
    def _user_chosen(self, message: UsersPane.UserChosen) -> None:
        self._push()
        user = message.user
        key = user.get("user_key")
        if key != self.nav.user or self.nav.ip_set:
            self.nav = replace(
                self.nav,
                user=key,
                user_label=user.get("user"),
                ip=None,
                ip_set=False,
                session_id=None,
                burst=None,
            )
            self.load_ips()
            self.load_sessions()
            self._focus("ips")
            return
        self._focus("ips")
        self.shown("ips")  # the sessions of the address under the cursor, read ahead

    @on(UserIpsPane.IpChosen)
    def _ip_chosen(self, message: UserIpsPane.IpChosen) -> None:
        self._push()
        self.nav = replace(
            self.nav, ip=message.row.get("src_ip"), ip_set=True, session_id=None, burst=None
        )
        self.load_sessions()
        self._focus("sessions")

    @on(SessionsPane.SessionHighlighted)
    def _session_highlighted(self, message: SessionsPane.SessionHighlighted) -> None:
        sid = self.pane("sessions").row_id(message.session)
        self.nav = replace(self.nav, session_id=sid)
        if sid is not None and sid == self.detail_up():
            self.cancel_preview("sessions")  # its detail is up (or came with the list)
        else:
            self.preview("sessions", lambda: self.load_detail(self.nav.session_id))
        self._status()  # the breadcrumb names the session the detail shows, or none

    @on(SessionsPane.SessionChosen)
    def _session_chosen(self, message: SessionsPane.SessionChosen) -> None:
        self._push()
        sid = self.pane("sessions").row_id(message.session)
        if sid != self.pane("detail").session_id:
            self.nav = replace(self.nav, session_id=sid)
            self.load_detail(sid)
        self._focus("detail")

    @on(SessionsPane.BurstChosen)
    def _burst_chosen(self, message: SessionsPane.BurstChosen) -> None:
        """Enter on a burst of failures: Sessions lists its attempts (Esc comes back)."""
        ids = tuple(message.row.get("burst_ids") or ())
        if not ids:
            return
        self._push()
        self.nav = replace(self.nav, burst=ids, session_id=ids[0])
        self.load_sessions(select=ids[0])
        self._focus("sessions")

    @on(SourcesTable.SourceChosen)
    @on(ActivityTable.ActivityChosen)
    def _event_chosen(self, message: Any) -> None:
        row = message.row
        sha, rid = row.get("evidence_sha256"), row.get("record_id")
        if not sha or rid is None:
            self.notify("this row has no stored event to show", severity="warning")
            return
        title = f"{visible(row.get('channel'))} {visible(row.get('event_id'))} · record {rid}"
        self.load_event(title, sha, int(rid))

    # --- reading ahead ----------------------------------------------------------------

    def shown(self, pane: str) -> None:
        """A result is on screen: once it is drawn, read what the next key probably shows
        (`ReadAhead`): not before, the frame would share the processor with the reads."""
        self.call_after_refresh(self._read_ahead_soon, pane)

    def _read_ahead_soon(self, pane: str, wait: float = 0.0) -> None:
        # a key's second frame (its results after its focus move) comes after the first
        for timer in (self._ahead_timer, self._ahead_idle):
            if timer is not None:
                timer.stop()
        delay = wait or READ_AHEAD_AFTER_S
        self._ahead_timer = self.set_timer(delay, lambda: self._read_ahead(pane))

    def hold_frames(self) -> None:
        """A key asked for results: reading ahead for the key before waits until they are
        drawn (the next read-ahead asks again, or `READ_AHEAD_RESUME_S` after the frame)."""
        super().hold_frames()
        if self._ahead is not None and self._frames_held is not None:  # held (a terminal)
            self._ahead.pause()
            self._holds += 1

    def _end_hold(self) -> None:
        super()._end_hold()
        ahead, holds = self._ahead, self._holds

        def resume() -> None:
            if ahead is not None and self._holds == holds:  # no newer key holding
                ahead.resume()

        self.set_timer(READ_AHEAD_RESUME_S, resume)

    def on_unmount(self) -> None:
        if self._ahead is not None:
            self._ahead.close()  # its thread ends with the screen

    def _read_ahead(self, pane: str) -> None:
        nav = self.nav
        if not self.backend.read_ahead:
            return
        if nav.view != "investigator" or nav.burst or not self.is_current:
            return
        if not self._wide:  # a hidden pane has no width to shape to
            return
        if not self.backend.settled:  # the background read first: it makes what comes next
            if not self.backend.hold_ended:
                self._read_ahead_soon(pane, wait=0.5)
            return
        if self._ahead is None:
            self._ahead = ReadAhead(self.backend)
            # tables not shown yet (Activity) and every table's scrollbars, mounted now
            self.pane("detail").premount()
            for table in map(self.pane, BATCHED):
                table.premount()
        ahead, state = self._ahead, self.filters
        job = self._detail_job("", None)
        spec, ips = self.pane("sessions").shape_spec(), self.pane("ips").shape_spec()
        tasks = []
        if nav.pane == "users" and pane in ("sessions", "users"):  # the users around
            for row in self.pane("users").around():
                who = (row.get("user_key"), None, False)
                tasks.append(ahead.sessions(state, who, spec, job, ips))
        elif nav.pane == "ips" and nav.user is not None:  # Enter: the address's sessions
            row = self.pane("ips").current()
            if row is not None:
                tasks.append(ahead.sessions(state, (nav.user, row.get("src_ip"), True), spec, job))
        elif nav.pane == "sessions" and pane == "detail":  # the sessions around
            tasks = [ahead.detail(row, job) for row in self.pane("sessions").around()]
        # `x`: this selection with failures only (or all outcomes again); a case-wide list
        # only when it is made and needs no sort of every session
        failures = () if state.outcomes == ("failure",) else ("failure",)
        other = replace(state, outcomes=failures)
        users = self.pane("users").shape_spec()
        who = (nav.user, nav.ip, nav.ip_set)
        case_wide = spec.order is None and not spec.text
        if nav.user is not None or (
            case_wide and self.backend.ready("case_rows", (other, None, False))
        ):
            tasks.append(ahead.sessions(other, who, spec, job, ips if nav.user else None, users))
        if self.backend.ready("case_rows", (state, None, False)) is not None and not spec.text:
            every = ahead.sessions(state, (None, None, False), spec, job)  # `s`, last
            if spec.order is None or self._cheap_sort(spec.order.column):
                tasks.append(every)
            else:  # a sort of every session of the case: only once the responder pauses
                self._ahead_idle = self.set_timer(READ_AHEAD_IDLE_S, lambda: ahead.ask([every]))
        ahead.ask(tasks)

    def _cheap_sort(self, column: str) -> bool:
        source = self.pane("sessions").source
        if source is None or column not in source.column_names:
            return False
        return bounded(source.schema.field(column).type)

    def read_ahead_sort(self, picker: Screen[Any], order: Sort) -> None:
        """The sort picker opened on a column of Sessions that Enter sorts by `order`: the
        list that sort makes and the detail of the session the cursor lands on in it, read
        while the picker is up (once it is drawn: reading beside its frames made them ~2x
        slower)."""
        pane, nav = self.pane("sessions"), self.nav
        source = pane.source
        ahead = self._ahead
        if ahead is None or source is None or nav.view != "investigator" or nav.burst:
            return
        spec = replace(pane.shape_spec(), order=order)  # the pane's, once Enter sorts it
        task = ahead.sorted_list(source, spec, self._detail_job("", None), pane.current_key())

        def read() -> None:
            if self.app.screen is picker:  # still open: nothing newer asked for
                ahead.ask([task])

        self.set_timer(READ_AHEAD_PICKER_S, read)

    # --- history --------------------------------------------------------------------

    def _here(self) -> Nav:
        return replace(self.nav, pane=self.focused_pane())

    def _push(self) -> None:
        self.nav = self._here()
        self.history.push(self.nav)

    def _go(self, target: Nav) -> None:
        # one frame for the step, loads or not: a focus move alone reaches the panes one
        # message at a time, and drawn at once its borders came in a second frame
        self.hold_frames()
        before = self.nav
        self.nav = target
        if (target.user, target.ip, target.ip_set, target.burst, target.view) != (
            before.user,
            before.ip,
            before.ip_set,
            before.burst,
            before.view,
        ):
            if target.user != before.user:
                self.load_ips()
                self.pane("users").reset_announced()
            self.load_sessions(select=target.session_id)
        elif target.session_id != self.pane("detail").session_id:
            self.load_detail(target.session_id)
        self._focus(target.pane)
        self._drawn()  # nothing on its way: the frame goes once the focus has moved

    def action_back(self) -> None:
        if self.search_open():
            self._close_search(clear=True)
            return
        if not self.history.back:
            if self.focused_pane() != "users":
                self.history.back.append(replace(self.nav, pane="users"))
            else:
                self._status("at the start: q quits")
                return
        target = self.history.go_back(self._here())
        if target is not None:
            self._go(target)

    def action_forward(self) -> None:
        target = self.history.go_forward(self._here())
        if target is None:
            self._status("nothing to go forward to")
            return
        self._go(target)
