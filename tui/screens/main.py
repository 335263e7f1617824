"""The main screen: Users → User+IP → Sessions → Session detail, with filters and history.

The screen owns the selection, the filter state and the navigation history. Panes post
messages (a user chosen, a session highlighted, …); the screen decides what loads next and
runs every query in a thread worker (`exclusive` per pane, so a fast cursor cancels stale
queries). Workers post results back as messages and never touch widgets. Wide terminals show
all four panes; at 80×24 only the active pane is shown (Tab moves on).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import pyarrow as pa
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState, get_current_worker

from logonscope.analysis.timeline import histogram
from logonscope.tui.backend import Backend, FilterState
from logonscope.tui.screens.event import EventScreen
from logonscope.tui.screens.export import ExportScreen
from logonscope.tui.screens.filters import FiltersScreen
from logonscope.tui.screens.help import HelpScreen
from logonscope.tui.screens.messages import (
    DetailLoaded,
    EventLoaded,
    Exported,
    FacetsLoaded,
    Loaded,
)
from logonscope.tui.screens.pick import PickScreen
from logonscope.tui.tables import Sort, shape, sortable, visible
from logonscope.tui.widgets.detail import ActivityTable, DetailPane, SourcesTable, summary_table
from logonscope.tui.widgets.sessions import SessionsPane
from logonscope.tui.widgets.status import KeyHints, StatusLine
from logonscope.tui.widgets.table_pane import TablePane, prepare
from logonscope.tui.widgets.timeline import TimelineStrip
from logonscope.tui.widgets.user_ips import UserIpsPane
from logonscope.tui.widgets.users import UsersPane

PANES = ("users", "ips", "sessions", "detail")
PANE_NAMES = {"users": "Users", "ips": "User + IP", "sessions": "Sessions", "detail": "Detail"}
WIDE = (100, 28)  # at least this many columns and rows show every pane at once


@dataclass(frozen=True)
class Nav:
    """One place in the drill-down: what is selected and which pane has the focus."""

    pane: str = "users"
    user: str | None = None  # user_key; None = every user (case-wide sessions)
    user_label: str | None = None
    ip: Any = None
    ip_set: bool = False  # sessions narrowed to one source IP (which may be null)
    session_id: str | None = None


class MainScreen(Screen[None]):
    DEFAULT_CSS = """
    MainScreen #panes { height: 1fr; }
    MainScreen #left { width: 2fr; }
    MainScreen #right { width: 3fr; }
    MainScreen #search { dock: bottom; display: none; }
    MainScreen #search.open { display: block; }
    MainScreen.narrow #left, MainScreen.narrow #right { width: 1fr; }
    MainScreen.short TimelineStrip { display: none; }
    """

    BINDINGS: ClassVar[list] = [
        Binding("tab", "next_pane(1)", "next pane", priority=True, show=False),
        Binding("shift+tab", "next_pane(-1)", "previous pane", priority=True, show=False),
        Binding("escape,backspace", "back", "back (history)"),
        Binding("right_square_bracket", "forward", "forward (history)", show=False),
        Binding("slash", "search", "search this table"),
        Binding("f", "filters", "filters: host, time, kind, outcome, system"),
        Binding("o", "sort", "sort this table by a column"),
        Binding("O", "reverse_sort", "reverse sort", show=False),
        Binding("S", "toggle_system", "show / hide system accounts", show=False),
        Binding("x", "failures", "failures only", show=False),
        Binding("c", "clear_filters", "clear filters", show=False),
        Binding("s", "all_sessions", "all sessions of the case", show=False),
        Binding("H", "hosts", "sessions of a host", show=False),
        Binding("u", "goto('users')", "go to Users", show=False),
        Binding("t", "next_tab", "next detail tab", show=False),
        Binding("e", "export", "export this view (CSV / JSON)"),
        Binding("r", "reload", "reload every pane", show=False),
        Binding("question_mark", "help", "help (this list)"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, backend: Backend, case_label: str = "") -> None:
        super().__init__()
        self.backend = backend
        self.case_label = case_label
        self.filters = FilterState()
        self.nav = Nav()
        self.back_stack: list[Nav] = []
        self.forward_stack: list[Nav] = []
        self.facets: Any = None
        self.tokens: dict[str, int] = {}
        self.timings: dict[str, float] = {}  # last query+shape seconds per pane (bench)
        self._wide = True

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield TimelineStrip(id="timeline")
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield UsersPane(id="users")
                yield UserIpsPane(id="ips")
            with Vertical(id="right"):
                yield SessionsPane(id="sessions")
                yield DetailPane(id="detail")
        yield Input(placeholder="search this table (Enter keeps it, Esc clears)", id="search")
        yield KeyHints()

    def on_mount(self) -> None:
        self._layout(self.size.width, self.size.height)
        self._status()
        self.load_facets()
        # Users first and alone: the first user's highlight loads User+IP and Sessions (a
        # case-wide Sessions list loaded now would be thrown away, after competing with the
        # first paint); on_loaded covers a case without users.
        self.load_users()
        self.pane("users").focus_table()

    def on_screen_resume(self) -> None:
        # Back from a dialog: Textual refocuses what had the focus before it opened, but the
        # dialog may have moved us on (a host picked → Sessions): the selection decides.
        self.call_after_refresh(self._refocus)

    def _refocus(self) -> None:
        if self.is_current and not self.pane(self.nav.pane).has_focus_within:
            self._focus(self.nav.pane)

    def on_resize(self, event: Any) -> None:
        self._layout(event.size.width, event.size.height)

    def _layout(self, width: int, height: int) -> None:
        self._wide = width >= WIDE[0] and height >= WIDE[1]
        self.set_class(not self._wide, "narrow")
        self.set_class(height < 20, "short")
        active = self.nav.pane
        shown = {name: self._wide or name == active for name in PANES}
        shown["left"] = self._wide or active in ("users", "ips")
        shown["right"] = self._wide or active in ("sessions", "detail")
        for name, visible_now in shown.items():
            widget = self.query_one(f"#{name}")
            if widget.display != visible_now:  # a no-op assignment still costs a re-layout
                widget.display = visible_now

    def pane(self, name: str) -> Any:
        return self.query_one(f"#{name}")

    def focused_pane(self) -> str:
        for name in PANES:
            if self.pane(name).has_focus_within:
                return name
        return self.nav.pane

    def _focus(self, name: str) -> None:
        self.nav = replace(self.nav, pane=name)
        self._layout(self.size.width, self.size.height)
        self.pane(name).focus_table()
        self._status()

    def _status(self, note: str = "") -> None:
        status = self.query_one(StatusLine)
        nav = self.nav
        crumbs = [self.case_label or "case"]
        if nav.user is not None:
            crumbs.append(f"user {visible(nav.user_label or nav.user)}")
        elif nav.pane in ("sessions", "detail"):
            crumbs.append(
                f"all sessions{' of ' + visible(self.filters.host) if self.filters.host else ''}"
            )
        if nav.ip_set:
            crumbs.append(f"from {visible(nav.ip) if nav.ip is not None else '(no IP)'}")
        if nav.session_id and nav.pane == "detail":
            crumbs.append(f"session {visible(nav.session_id)}")
        crumbs.append(f"[{PANE_NAMES[nav.pane]}]")
        status.crumbs = " › ".join(crumbs)
        status.filters = self.filters.describe()
        status.note = note

    # --- loading (workers) ----------------------------------------------------------

    def _token(self, pane: str) -> int:
        self.tokens[pane] = self.tokens.get(pane, 0) + 1
        return self.tokens[pane]

    def reload_all(self) -> None:
        users = self.pane("users").current()
        self.load_users(select=users.get("user_key") if users else None)
        self.load_ips()
        self.load_sessions(select=self.nav.session_id)

    def _shape_for(self, pane: TablePane, table: pa.Table) -> Any:
        return prepare(
            shape(
                table,
                pane.search_text,
                pane.order,
                hidden=pane.hidden_columns,
                preferred=pane.preferred,
                abbreviate=pane.abbreviate,
            )
        )

    def load_users(self, select: Any = None) -> None:
        pane = self.pane("users")
        pane.loading_for("")
        self._users_worker(self._token("users"), self.filters, select)

    @work(thread=True, exclusive=True, exit_on_error=False, group="users")
    def _users_worker(self, token: int, filters: FilterState, select: Any) -> None:
        started = time.perf_counter()
        table = self.backend.users(filters)
        if get_current_worker().is_cancelled:
            return
        shaped = self._shape_for(self.pane("users"), table)
        self.post_message(
            Loaded("users", token, table, shaped, "", select, seconds=time.perf_counter() - started)
        )

    def load_ips(self, select: Any = None) -> None:
        nav = self.nav
        pane = self.pane("ips")
        if nav.user is None:
            pane.loading_for("")
            empty = pa.table({"src_ip": pa.array([], pa.string())})
            self.post_message(Loaded("ips", self._token("ips"), empty, shape(empty), ""))
            return
        context = visible(nav.user_label or nav.user)
        pane.loading_for(context)
        self._ips_worker(self._token("ips"), self.filters, nav.user, context, select)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ips")
    def _ips_worker(
        self, token: int, filters: FilterState, user: str, context: str, select: Any
    ) -> None:
        started = time.perf_counter()
        table = self.backend.user_ips(filters, user)
        if get_current_worker().is_cancelled:
            return
        shaped = self._shape_for(self.pane("ips"), table)
        self.post_message(
            Loaded(
                "ips", token, table, shaped, context, select, seconds=time.perf_counter() - started
            )
        )

    def _sessions_context(self) -> str:
        nav = self.nav
        who = visible(nav.user_label or nav.user) if nav.user is not None else "all users"
        if nav.ip_set:
            who += f" from {visible(nav.ip) if nav.ip is not None else '(no IP)'}"
        if self.filters.host:
            who += f" on {visible(self.filters.host)}"
        return who

    def load_sessions(self, select: Any = None) -> None:
        nav = self.nav
        context = self._sessions_context()
        self.pane("sessions").loading_for(context)
        self._sessions_worker(
            self._token("sessions"), self.filters, nav.user, nav.ip, nav.ip_set, context, select
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="sessions")
    def _sessions_worker(
        self,
        token: int,
        filters: FilterState,
        user: str | None,
        ip: Any,
        ip_set: bool,
        context: str,
        select: Any,
    ) -> None:
        started = time.perf_counter()
        table = self.backend.sessions(filters, user, ip, ip_set)
        if get_current_worker().is_cancelled:
            return
        shaped = self._shape_for(self.pane("sessions"), table)
        hist = histogram(table)
        self.post_message(
            Loaded(
                "sessions",
                token,
                table,
                shaped,
                context,
                select,
                hist,
                seconds=time.perf_counter() - started,
            )
        )

    def load_detail(self, session_id: str | None) -> None:
        detail = self.pane("detail")
        token = self._token("detail")
        if session_id is None:
            self.post_message(DetailLoaded(token, None, {}))
            return
        detail.loading_for(session_id)
        tables = {t.id: t for t in detail.tables()}
        views = {name: tables[f"{name}-table"] for name in DetailPane.TABS}
        self._detail_worker(token, session_id, views)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def _detail_worker(self, token: int, session_id: str, views: dict[str, TablePane]) -> None:
        started = time.perf_counter()
        detail = self.backend.session_detail(session_id)
        if get_current_worker().is_cancelled:
            return
        shaped: dict[str, tuple[pa.Table, Any]] = {}
        if detail is not None:
            sources = {
                "summary": summary_table(detail),
                "sources": detail["sources"],
                "activity": detail["activity"],
            }
            for name, table in sources.items():
                shaped[name] = (table, self._shape_for(views[name], table))
        self.post_message(DetailLoaded(token, detail, shaped, time.perf_counter() - started))

    def reshape(self, pane: TablePane) -> None:
        """Search or sort changed: reshape the pane's current result (no new query)."""
        if pane.source is None:
            return
        name = pane.id or ""
        key = f"shape-{name}"
        self._shape_worker(key, self._token(key), pane, pane.source)

    @work(thread=True, exclusive=True, exit_on_error=False, group="shape")
    def _shape_worker(self, key: str, token: int, pane: TablePane, source: pa.Table) -> None:
        started = time.perf_counter()
        shaped = self._shape_for(pane, source)
        self.post_message(
            Loaded(
                key,
                token,
                source,
                shaped,
                pane.context,
                None,
                seconds=time.perf_counter() - started,
            )
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="facets")
    def load_facets(self) -> None:
        self.post_message(FacetsLoaded(self.backend.facets()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="event")
    def load_event(self, title: str, evidence_sha256: str, record_id: int) -> None:
        self.post_message(EventLoaded(title, self.backend.event(evidence_sha256, record_id)))

    @work(thread=True, exclusive=False, exit_on_error=False, group="export")
    def export_view(self, table: pa.Table, path: str) -> None:
        from logonscope.tui.export import export_table

        written = export_table(table, path)
        self.post_message(Exported(str(written), table.num_rows))

    # --- results arrive ---------------------------------------------------------------

    def on_loaded(self, message: Loaded) -> None:
        if self.tokens.get(message.pane) != message.token:
            return  # superseded by a newer request
        if message.pane.startswith("shape-"):
            name = message.pane[len("shape-") :]
            pane = self.query_one(f"#{name}", TablePane)
            current = pane.current()
            key = current.get(pane.key_column) if current and pane.key_column else None
            pane.show(
                message.source,
                message.shaped,
                select=key,
                focus=self._may_focus() and pane is self.active_table(),
            )
        else:
            self.pane(message.pane).show(
                message.source,
                message.shaped,
                message.context,
                select=message.select,
                focus=self._may_focus() and message.pane == self.nav.pane,
            )
            if (
                message.pane == "users"
                and "sessions" not in self.tokens
                and (message.shaped.rows.num_rows == 0 or not self.pane("users").has_focus_within)
            ):
                self.load_ips()  # no highlight will come to load them
                self.load_sessions()
        self.timings[message.pane] = message.seconds
        if message.histogram is not None:
            strip = self.query_one(TimelineStrip)
            strip.context = message.context
            strip.histogram = message.histogram

    def _may_focus(self) -> bool:
        """A new table may take the focus: this screen is on top and nobody is typing."""
        return self.is_current and not self.query_one("#search", Input).has_focus

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        if self.tokens.get("detail") != message.token:
            return
        self.pane("detail").show_detail(
            message.detail, message.shaped, focus=self._may_focus() and self.nav.pane == "detail"
        )
        self.timings["detail"] = message.seconds

    def on_facets_loaded(self, message: FacetsLoaded) -> None:
        self.facets = message.facets

    def on_event_loaded(self, message: EventLoaded) -> None:
        self.app.push_screen(EventScreen(message.title, message.event))

    def on_exported(self, message: Exported) -> None:
        self.notify(
            f"wrote {message.rows:,} rows to {visible(message.path)}", title="export", markup=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                visible(f"{type(error).__name__}: {error}"),
                title=f"{event.worker.group} failed",
                severity="error",
                timeout=10,
                markup=False,
            )

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
        )
        self.load_ips()
        self.load_sessions()
        self._status()

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
            )
            self.load_ips()
            self.load_sessions()
        self._focus("ips")

    @on(UserIpsPane.IpChosen)
    def _ip_chosen(self, message: UserIpsPane.IpChosen) -> None:
        self._push()
        self.nav = replace(self.nav, ip=message.row.get("src_ip"), ip_set=True, session_id=None)
        self.load_sessions()
        self._focus("sessions")

    @on(SessionsPane.SessionHighlighted)
    def _session_highlighted(self, message: SessionsPane.SessionHighlighted) -> None:
        sid = message.session.get("session_id") if message.session else None
        self.nav = replace(self.nav, session_id=sid)
        self.load_detail(sid)

    @on(SessionsPane.SessionChosen)
    def _session_chosen(self, message: SessionsPane.SessionChosen) -> None:
        self._push()
        sid = message.session.get("session_id")
        if sid != self.pane("detail").session_id:
            self.nav = replace(self.nav, session_id=sid)
            self.load_detail(sid)
        self._focus("detail")

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

    @on(TablePane.Searched)
    def _searched(self, message: TablePane.Searched) -> None:
        self.reshape(message.pane)

    # --- history --------------------------------------------------------------------

    def _push(self) -> None:
        self.nav = replace(self.nav, pane=self.focused_pane())
        self.back_stack.append(self.nav)
        self.forward_stack.clear()

    def _go(self, target: Nav) -> None:
        before = self.nav
        self.nav = target
        if (target.user, target.ip, target.ip_set) != (before.user, before.ip, before.ip_set):
            if target.user != before.user:
                self.load_ips()
                self.pane("users").reset_announced()
            self.load_sessions(select=target.session_id)
        elif target.session_id != self.pane("detail").session_id:
            self.load_detail(target.session_id)
        self._focus(target.pane)

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_class("open"):
            self._close_search(clear=True)
            return
        if not self.back_stack:
            if self.focused_pane() != "users":
                self.back_stack.append(replace(self.nav, pane="users"))
            else:
                self._status("at the start: q quits")
                return
        current = replace(self.nav, pane=self.focused_pane())
        self.forward_stack.append(current)
        self._go(self.back_stack.pop())

    def action_forward(self) -> None:
        if not self.forward_stack:
            self._status("nothing to go forward to")
            return
        self.back_stack.append(replace(self.nav, pane=self.focused_pane()))
        self._go(self.forward_stack.pop())

    # --- actions --------------------------------------------------------------------

    def action_next_pane(self, step: int) -> None:
        if self.query_one("#search", Input).has_focus:
            self._close_search(clear=False)
        current = PANES.index(self.focused_pane())
        self._focus(PANES[(current + step) % len(PANES)])

    def action_goto(self, name: str) -> None:
        self._push()
        self._focus(name)

    def action_next_tab(self) -> None:
        self.pane("detail").next_tab()
        if not self._wide:
            self._focus("detail")

    def active_table(self) -> TablePane:
        name = self.focused_pane()
        if name == "detail":
            return self.pane("detail").active_table()
        return self.pane(name)

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        table = self.active_table()
        self._search_target = table
        search.value = table.search_text
        search.placeholder = f"search {table.title} (Enter keeps it, Esc clears)"
        search.add_class("open")
        search.focus()

    def _close_search(self, clear: bool) -> None:
        search = self.query_one("#search", Input)
        target: TablePane | None = getattr(self, "_search_target", None)
        search.remove_class("open")
        if target is not None:
            if clear and target.search_text:
                target.set_search("")
            target.focus_table()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        target: TablePane | None = getattr(self, "_search_target", None)
        if target is not None and event.value != target.search_text:
            target.set_search(event.value)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._close_search(clear=False)

    def action_sort(self) -> None:
        table = self.active_table()
        if table.shaped is None:
            return
        columns = [c for c in sortable(table.shaped.rows) if c in table.columns()]
        current = table.order.column if table.order else None

        def picked(column: str | None) -> None:
            if column is None:
                return
            descending = (
                not table.order.descending
                if table.order and table.order.column == column
                else False
            )
            table.set_order(Sort(column, descending))

        labels = [
            (
                c,
                f"{c}  {'(' + ('↓' if table.order.descending else '↑') + ')' if c == current and table.order else ''}",
            )
            for c in columns
        ]
        self.app.push_screen(PickScreen(f"Sort {table.title} by", labels, current), picked)

    def action_reverse_sort(self) -> None:
        table = self.active_table()
        if table.order is not None:
            table.set_order(Sort(table.order.column, not table.order.descending))
        else:
            self.action_sort()

    def _apply_filters(self, state: FilterState | None) -> None:
        if state is None or state == self.filters:
            return
        self.filters = state
        self._status()
        self.reload_all()
        if self.nav.user is not None:
            self.load_ips()

    def action_filters(self) -> None:
        self.app.push_screen(FiltersScreen(self.filters, self.facets), self._apply_filters)

    def action_toggle_system(self) -> None:
        self._apply_filters(replace(self.filters, show_system=not self.filters.show_system))

    def action_failures(self) -> None:
        outcomes = () if self.filters.outcomes == ("failure",) else ("failure",)
        self._apply_filters(replace(self.filters, outcomes=outcomes))

    def action_clear_filters(self) -> None:
        self._apply_filters(FilterState(show_system=self.filters.show_system))

    def action_all_sessions(self) -> None:
        self._push()
        self.nav = replace(
            self.nav, user=None, user_label=None, ip=None, ip_set=False, session_id=None
        )
        self.load_ips()
        self.load_sessions()
        self._focus("sessions")

    def action_hosts(self) -> None:
        hosts = list(getattr(self.facets, "hosts", ()) or ())
        options = [("", "all hosts")] + [(h, h) for h in hosts]

        def picked(host: str | None) -> None:
            if host is None:
                return
            self.filters = replace(self.filters, host=host or None)
            self.load_users()
            self.action_all_sessions()

        self.app.push_screen(
            PickScreen("Sessions of host", options, self.filters.host or ""), picked
        )

    def action_reload(self) -> None:
        self.reload_all()
        if self.nav.session_id:
            self.load_detail(self.nav.session_id)

    def action_export(self) -> None:
        table = self.active_table()
        if table.shaped is None:
            self.notify("nothing to export yet", severity="warning")
            return
        view = table.shaped.view
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        name = table.title.lower().replace(" + ", "-").replace(" ", "-")
        what = f"{table.title} ({view.num_rows:,} rows, every column, search and sort applied)"

        def chosen(path: str | None) -> None:
            if path:
                self.export_view(view, path)

        self.app.push_screen(ExportScreen(f"./logonscope-{name}-{stamp}.csv", what), chosen)

    def action_help(self) -> None:
        from logonscope.tui.widgets.table_pane import Grid

        groups = [
            ("main", self.BINDINGS),
            ("app", list(self.app.BINDINGS)),
            (
                "dialogs",
                [
                    Binding("escape", "", "close a dialog / cancel"),
                    Binding("ctrl+s", "", "apply filters (filter dialog)"),
                ],
            ),
            ("tables", [b for b in Grid.BINDINGS if b.key in ("ctrl+c,super+c",)]),
        ]
        self.app.push_screen(HelpScreen(groups))

    def action_quit(self) -> None:
        self.app.exit(0)
