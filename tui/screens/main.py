"""The main screen: Users → User+IP → Sessions → Session detail, with filters and history.

The screen owns the selection, the filter state and the navigation history. Panes post
messages (a user chosen, a session highlighted, …); the screen decides what loads next and
runs every query in a thread worker that gets frozen values and posts its result back.
Wide terminals show all four panes; at 80×24 only the active pane is shown (Tab moves on).

This module is the top layer: the widgets, their styles and the key bindings. The layers
below it: `main_panes` (state, layout, focus, status line, search bar), `main_loading`
(queries in workers, results shown) and `main_drilldown` (what a pane's message loads next;
back/forward history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical

from logonscope.analysis.session_views import LABELS, next_view
from logonscope.tui.backend import FilterState
from logonscope.tui.format_names import TIMELINE_FORMATS
from logonscope.tui.screens.main_drilldown import DrillDownScreen
from logonscope.tui.screens.navigation import PANES
from logonscope.tui.screens.pick import PickScreen
from logonscope.tui.tables import Sort, sortable
from logonscope.tui.widgets.detail import DetailPane
from logonscope.tui.widgets.sessions import SessionsPane
from logonscope.tui.widgets.status import KeyHints, StatusLine
from logonscope.tui.widgets.timeline import TimelineStrip
from logonscope.tui.widgets.user_ips import UserIpsPane
from logonscope.tui.widgets.users import UsersPane

if TYPE_CHECKING:  # the screens a key opens are imported by that key: not before the first screen
    from logonscope.tui.screens.host_timeline import OpenSession


class MainScreen(DrillDownScreen):
    DEFAULT_CSS = """
    MainScreen #panes { height: 1fr; }
    MainScreen #left { width: 2fr; }
    MainScreen #right { width: 3fr; }
    MainScreen #search { dock: bottom; display: none; }
    MainScreen #search.open { display: block; }
    MainScreen.narrow #left, MainScreen.narrow #right { width: 1fr; }
    MainScreen.short TimelineStrip { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "next_pane(1)", "next pane", priority=True, show=False),
        Binding("shift+tab", "next_pane(-1)", "previous pane", priority=True, show=False),
        Binding("escape,backspace", "back", "back (history)"),
        Binding("right_square_bracket", "forward", "forward (history)", show=False),
        Binding("slash", "search", "search this table"),
        Binding("f", "filters", "filters: host, time, kind, outcome, system"),
        Binding("o", "sort", "sort this table by a column"),
        Binding("O", "reverse_sort", "reverse sort", show=False),
        Binding("C", "columns", "choose the columns this table shows", show=False),
        Binding("S", "toggle_system", "show / hide system accounts", show=False),
        Binding("x", "failures", "failures only", show=False),
        Binding("c", "clear_filters", "clear filters and searches", show=False),
        Binding("s", "all_sessions", "all sessions of the case", show=False),
        Binding("H", "hosts", "sessions of a host", show=False),
        Binding("h", "host_timeline", "host timeline: who was on this host when", show=False),
        Binding("A", "unattributed", "activity no session holds"),
        Binding("u", "goto('users')", "go to Users", show=False),
        Binding("t", "next_tab", "next detail tab", show=False),
        Binding(
            "v",
            "next_view",
            "sessions view: investigator → Windows logon → desktop sessions",
            show=False,
        ),
        Binding("e", "export", "export this view (CSV / JSON)"),
        Binding("r", "reload", "reload every pane", show=False),
        Binding("question_mark", "help", "help (this list)"),
        Binding("q", "quit", "quit"),
    ]

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
        yield KeyHints()

    def on_mount(self) -> None:
        self._layout(self.size.width, self.size.height)
        self._status()
        # Users first and alone: the first user's highlight loads User+IP and Sessions (a
        # case-wide Sessions list loaded now would be thrown away, after competing with the
        # first paint; the filters' facets come once Users is up); on_loaded covers a case
        # without users.
        self.load_users()
        self.pane("users").focus_table()

    # --- actions --------------------------------------------------------------------

    def action_next_pane(self, step: int) -> None:
        if self.searching():
            self._close_search(clear=False)
        current = PANES.index(self.focused_pane())
        target = PANES[(current + step) % len(PANES)]
        self._focus(target)
        # what a key in that pane shows next (a cursor move in Sessions: the details of the
        # sessions around), read ahead as after a result there
        self.shown("detail" if target == "sessions" else target)

    def action_goto(self, name: str) -> None:
        self._push()
        self._focus(name)

    def action_next_view(self) -> None:
        """Switch the Sessions pane to the next notion of a session (same selection and
        filters); the Detail follows the row the cursor lands on."""
        self._push()
        view = next_view(self.nav.view)
        self.nav = replace(self.nav, view=view, session_id=None, burst=None)
        self.load_sessions()
        self.load_detail(None)
        self._status(f"sessions view: {LABELS[view]}")
        if not self._wide:
            self._focus("sessions")

    def action_next_tab(self) -> None:
        self.pane("detail").next_tab()
        if not self._wide:
            self._focus("detail")

    def action_sort(self) -> None:
        table = self.active_table()
        if table.shaped is None:
            return
        available = table.available_columns()
        columns = [c for c in available if c in sortable(table.shaped.rows)]
        current = table.order.column if table.order else None

        def by(column: str) -> Sort:  # Enter on `column`: reversed if sorted by it already
            order = table.order
            return Sort(column, not order.descending if order and order.column == column else False)

        def picked(column: str | None) -> None:
            if column is not None:
                # the screen under the picker is drawn again in full as the picker goes: held,
                # with the sorted list, for one frame (drawn at once, it was one of three)
                self.hold_frames()
                table.set_order(by(column))

        labels = [
            (
                c,
                f"{c}  {'(' + ('↓' if table.order.descending else '↑') + ')' if c == current and table.order else ''}",
            )
            for c in columns
        ]

        picker = PickScreen(f"Sort {table.title} by", labels, current)
        self.app.push_screen(picker, picked)
        if table is self.pane("sessions") and columns:  # the picker opens on this column
            self.read_ahead_sort(picker, by(current if current in columns else columns[0]))

    def action_columns(self) -> None:
        table = self.active_table()
        if table.shaped is None:
            return
        available = table.available_columns()
        shown = list(table.chosen_columns or available)

        def picked(columns: tuple[str, ...] | None) -> None:
            if columns:
                table.chosen_columns = columns
                table.post_message(table.Searched(table))

        from logonscope.tui.screens.columns import ColumnsScreen

        self.app.push_screen(ColumnsScreen(f"Columns of {table.title}", available, shown), picked)

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
        from logonscope.tui.screens.filters import FiltersScreen

        self.app.push_screen(FiltersScreen(self.filters, self.facets), self._apply_filters)

    def action_toggle_system(self) -> None:
        self._apply_filters(replace(self.filters, show_system=not self.filters.show_system))

    def action_failures(self) -> None:
        outcomes = () if self.filters.outcomes == ("failure",) else ("failure",)
        self._apply_filters(replace(self.filters, outcomes=outcomes))

    def action_clear_filters(self) -> None:
        """Back to every row: no filter, no search in any pane."""
        if self.search_open():
            self._close_search(clear=True)
        for name in ("users", "ips", "sessions"):
            self.pane(name).clear_searches()
        for table in self.pane("detail").tables():
            table.clear_searches()
        self._apply_filters(FilterState(show_system=self.filters.show_system))

    def action_all_sessions(self) -> None:
        self._push()
        self.nav = replace(
            self.nav,
            user=None,
            user_label=None,
            ip=None,
            ip_set=False,
            session_id=None,
            burst=None,
        )
        self.load_ips()
        self.load_sessions()
        self._focus("sessions")

    def action_hosts(self) -> None:
        hosts = list(getattr(self.facets, "hosts", ()) or ())
        label = getattr(self.facets, "label", lambda h: h)
        options = [("", "all hosts")] + [(h, label(h)) for h in hosts]

        def picked(host: str | None) -> None:
            if host is None:
                return
            self.filters = replace(self.filters, host=host or None)
            self.load_users()
            self.action_all_sessions()

        self.app.push_screen(
            PickScreen("Sessions of host", options, self.filters.host or ""), picked
        )

    def action_host_timeline(self) -> None:
        """The host of the session under the cursor, else the host filter, else the one host
        of the address under the cursor; otherwise ask which host."""
        focused = self.focused_pane()
        row = self.pane("sessions").current() if focused in ("sessions", "detail") else None
        host = (row or {}).get("host") or self.filters.host
        hosts = list(getattr(self.facets, "hosts", ()) or ())
        if host is None and focused == "ips":
            hosts = list((self.pane("ips").current() or {}).get("hosts") or hosts)
            host = hosts[0] if len(hosts) == 1 else None
        if host is not None:
            self._open_timeline(str(host))
            return
        if not hosts:
            self.notify("no hosts in this case yet", severity="warning")
            return

        def picked(choice: str | None) -> None:
            if choice:
                self._open_timeline(choice)

        self.app.push_screen(
            PickScreen("Host timeline of", [(h, h) for h in hosts], hosts[0]), picked
        )

    def _open_timeline(self, host: str) -> None:
        from logonscope.tui.screens.host_timeline import HostTimelineScreen

        screen = HostTimelineScreen(self.backend, self.filters, host, self.timelines)
        self.app.push_screen(screen, self._open_from_timeline)

    def _open_from_timeline(self, chosen: OpenSession | None) -> None:
        """Enter on the timeline: that user's sessions, the session's detail (a failure mark
        or a bar of several sessions: those listed, as Enter on a burst does). Esc comes back
        here."""
        if chosen is None:
            return
        self._push()
        first = chosen.session_ids[0]
        self.nav = replace(
            self.nav,
            user=chosen.user_key,
            user_label=chosen.user,
            ip=None,
            ip_set=False,
            session_id=first,
            burst=chosen.session_ids if chosen.failed or len(chosen.session_ids) > 1 else None,
        )
        self.load_ips()
        self.load_sessions(select=first)
        self.load_detail(first)
        self._focus("detail")

    def action_unattributed(self) -> None:
        from logonscope.tui.screens.unattributed import UnattributedScreen

        self.app.push_screen(UnattributedScreen(self.backend, self.filters))

    def action_reload(self) -> None:
        self.reload_all()
        if self.nav.session_id:
            self.load_detail(self.nav.session_id)

    def action_export(self) -> None:
        # the export dialog and writers are imported when first asked for, not at start-up
        from logonscope.tui.screens.export import PLAIN, ExportScreen
        from logonscope.tui.timeline_export import timeline_kind

        table = self.active_table()
        if table.shaped is None:
            self.notify("nothing to export yet", severity="warning")
            return
        view = table.shaped.view
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        heading = table.heading().removesuffix(" (v)")
        name = heading.lower().replace(" + ", "-").replace(" ", "-")
        what = f"{heading} ({view.num_rows:,} rows, every column, search and sort applied)"

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice:
                self.export_view(view, *choice)

        folder = (self.backend.case_dir / "exports").resolve()
        default = str(folder / f"logonscope-{name}-{stamp}.csv")
        formats = PLAIN + (TIMELINE_FORMATS if timeline_kind(view) else ())
        self.app.push_screen(ExportScreen(default, what, formats), chosen)

    def action_help(self) -> None:
        groups: list[tuple[str, list[Any]]] = [
            ("main", self.BINDINGS),
            ("app", list(self.app.BINDINGS)),
            (
                "dialogs",
                [
                    Binding("escape", "", "close a dialog / cancel"),
                    Binding("space", "", "tick or untick a [x] box (filters, columns)"),
                    Binding("enter,ctrl+s", "", "apply the filter or column dialog"),
                ],
            ),
            ("tables", [Binding("ctrl+c", "", "copy the row under the cursor")]),
        ]
        from logonscope.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(groups))

    def action_quit(self) -> None:
        self.app.exit(0)
