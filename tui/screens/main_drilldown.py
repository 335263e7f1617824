"""The main screen's drill-down layer: what a pane's message loads next, and history.

Users → User + IP → Sessions → Session detail. A highlight previews (the panes to the right
follow the cursor); Enter chooses and moves the focus on, leaving a step in the history that
Esc / Backspace goes back to and `]` forward again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import on

from logonscope.tui.screens.main_loading import LoadingScreen
from logonscope.tui.screens.navigation import Nav
from logonscope.tui.tables import visible
from logonscope.tui.widgets.detail import ActivityTable, SourcesTable
from logonscope.tui.widgets.sessions import SessionsPane
from logonscope.tui.widgets.user_ips import UserIpsPane
from logonscope.tui.widgets.users import UsersPane


class DrillDownScreen(LoadingScreen):
    """Turns the panes' messages into a new selection, loads and history steps."""

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
        self.preview("users", self._preview_user)
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

    # --- history --------------------------------------------------------------------

    def _here(self) -> Nav:
        return replace(self.nav, pane=self.focused_pane())

    def _push(self) -> None:
        self.nav = self._here()
        self.history.push(self.nav)

    def _go(self, target: Nav) -> None:
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

    def action_back(self) -> None:
        if self.query_one("#search").has_class("open"):
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
