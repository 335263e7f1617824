"""Who was on this host when: the host timeline screen (`h` on the main screen).

Reads the host's sessions (the main screen's filters, any host filter replaced by this host)
in a thread worker, then shows them as lanes (`HostTimelineView`): `+`/`-` zoom, ←/→ pan,
↑/↓ move between lanes, Tab between bars, `0` shows the whole host again. Enter closes the
screen with the session under the cursor (a failure mark: its attempts) for the main screen to
open; Esc goes back. Where the view was (window, selected session) is kept in `memory`, so
coming back to the same host finds it as it was left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import pyarrow as pa
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import get_current_worker

from logonscope.analysis.host_timeline import Window
from logonscope.tui.backend import Backend, FilterState
from logonscope.tui.screens.help import HelpScreen
from logonscope.tui.widgets.host_chart import describe
from logonscope.tui.widgets.host_timeline import HostTimelineView

HINTS = (
    ("+/-", "zoom"),
    ("←/→", "pan"),
    ("↑/↓", "lane"),
    ("Tab", "bar"),
    ("Enter", "open"),
    ("0", "all"),
    ("Esc", "back"),
    ("?", "help"),
)
ZOOM = 2.0
PAN = 0.25


@dataclass(frozen=True)
class OpenSession:
    """What Enter chose: a session of one user (or the several a mark or bar stands for)."""

    user_key: str | None
    user: str | None
    session_ids: tuple[str, ...]
    failed: bool


class HostSessionsLoaded(Message):
    def __init__(self, sessions: pa.Table) -> None:
        super().__init__()
        self.sessions = sessions


class HostTimelineScreen(Screen[OpenSession | None]):
    DEFAULT_CSS = """
    HostTimelineScreen #timeline-filters { height: 1; padding: 0 1; background: $boost; }
    HostTimelineScreen #timeline-info { height: 2; padding: 0 1; background: $boost; }
    HostTimelineScreen #timeline-keys { height: 1; dock: bottom; background: $panel;
                                        padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "close", "back to the panes"),
        Binding("plus,equals_sign", f"zoom({1 / ZOOM})", "zoom in (+)"),
        Binding("minus,underscore", f"zoom({ZOOM})", "zoom out (-)"),
        Binding("left", f"pan({-PAN})", "pan earlier"),
        Binding("right", f"pan({PAN})", "pan later"),
        Binding("up", "lane(-1)", "lane above"),
        Binding("down", "lane(1)", "lane below"),
        Binding("tab", "item(1)", "next bar or failure mark", priority=True),
        Binding("shift+tab", "item(-1)", "previous bar or mark", priority=True),
        Binding("enter", "open", "open the session under the cursor"),
        Binding("0", "fit", "the whole host again"),
        Binding("question_mark", "help", "help (this list)"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(
        self,
        backend: Backend,
        filters: FilterState,
        host: str,
        memory: dict[str, tuple[Window | None, str | None]] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.filters = replace(filters, host=host)
        self.host = host
        self.memory = memory if memory is not None else {}

    def compose(self) -> ComposeResult:
        shown = replace(self.filters, host=None)
        if shown.active:  # the lanes leave out what the main screen's filters hide
            note = Text("filters ", style="dim")
            note.append(shown.describe().replace("host: all  ", ""))
            yield Static(note, id="timeline-filters")
        yield HostTimelineView(self.host, id="host-timeline")
        yield Static(Text(""), id="timeline-info")
        keys = Text(no_wrap=True, overflow="ellipsis")
        for key, what in HINTS:
            keys.append(key, style="bold reverse")
            keys.append(" ", style="not bold")  # its own run: SVG renderers drop leading spaces
            keys.append(f"{what}  ")
        keys.rstrip()
        yield Static(keys, id="timeline-keys")

    def on_mount(self) -> None:
        self._load(self.backend, self.filters)

    @work(thread=True, exclusive=True, exit_on_error=False, group="host-timeline")
    def _load(self, backend: Backend, filters: FilterState) -> None:
        table = backend.host_sessions(filters)
        if not get_current_worker().is_cancelled:
            self.post_message(HostSessionsLoaded(table))

    def on_host_sessions_loaded(self, message: HostSessionsLoaded) -> None:
        window, anchor = self.memory.get(self.host, (None, None))
        self.view.show(message.sessions, window, anchor)
        self._info()

    @property
    def view(self) -> HostTimelineView:
        return self.query_one(HostTimelineView)

    def _info(self) -> None:
        found = self.view.current()
        if found is None:
            text = Text("no session selected", style="dim")
        else:
            text = describe(found[1], found[0].user)
        self.query_one("#timeline-info", Static).update(text)

    # --- keys ---------------------------------------------------------------------------

    def action_zoom(self, factor: float) -> None:
        self.view.zoom(factor)
        self._info()

    def action_pan(self, fraction: float) -> None:
        self.view.pan(fraction)
        self._info()

    def action_fit(self) -> None:
        self.view.fit()
        self._info()

    def action_lane(self, step: int) -> None:
        self.view.move_lane(step)
        self._info()

    def action_item(self, step: int) -> None:
        self.view.move_item(step)
        self._info()

    def action_open(self) -> None:
        found = self.view.current()
        if found is None:
            self.notify("no session under the cursor", severity="warning")
            return
        lane, item = found
        self._remember()
        self.dismiss(OpenSession(lane.user_key, lane.user, item.session_ids, item.failed))

    def action_close(self) -> None:
        self._remember()
        self.dismiss(None)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([("host timeline", self.BINDINGS)]))

    def action_quit(self) -> None:
        self.app.exit(0)

    def _remember(self) -> None:
        view = self.view
        found = view.current()
        self.memory[self.host] = (view.window, found[1].session_id if found else None)
