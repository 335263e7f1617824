"""The main screen's base layer: its state, the four panes' layout and focus, the search bar.

`MainScreen` is built in layers, each a `Screen` subclass adding one concern:
`PanesScreen` (this module: state, layout, focus, status line, search bar) →
`LoadingScreen` (queries in thread workers, results shown) → `DrillDownScreen` (pane
messages decide what loads next; back/forward history) → `MainScreen` (widgets, styles
and key bindings). Each layer only calls the layers below it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyarrow as pa
from textual import on, work
from textual.events import Resize, ScreenResume
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input

from logonscope.tui.backend import Backend, FilterState
from logonscope.tui.screens.breadcrumbs import crumbs, filters_short
from logonscope.tui.screens.messages import EventLoaded, Exported
from logonscope.tui.screens.navigation import PANES, History, Nav
from logonscope.tui.tables import visible
from logonscope.tui.widgets.status import KeyHints, StatusLine
from logonscope.tui.widgets.table_pane import TablePane

WIDE = (100, 28)  # at least this many columns and rows show every pane at once
# A key that asked for results draws nothing until they are in, for at most this long
# (seconds): its focus move and its results in one frame, not a frame of each.
FRAME_HOLD_S = 0.08
# At most this many rounds of the event loop between a key's results and its frame.
QUIET_ROUNDS = 40


class PanesScreen(Screen[None]):
    """State and pane plumbing shared by every layer of the main screen."""

    # Textual repaints the whole screen when the focus moves (a full frame: every line of
    # every pane drawn again). What the focus changes on screen redraws itself: the panes'
    # borders (`FocusBorder`), the tables' cursor rows (their focus style), the status line.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self, backend: Backend, case_label: str = "") -> None:
        super().__init__()
        self.backend = backend
        self.case_label = case_label
        self.filters = FilterState()
        self.nav = Nav()
        self.history = History()
        self.facets: Any = None
        # the host timeline's window and selected session per host, kept between visits
        self.timelines: dict[str, tuple[Any, str | None]] = {}
        self._wide = True
        self._search_target: TablePane | None = None
        self.search_bar: Input | None = None  # made by the first `/` (see `action_search`)
        self._frames_held: Any = None  # the timer that ends `hold_frames` at the latest
        self._render_kept = False  # a render was asked for while the frames were held
        self._after_hold: list[Callable[[], None]] = []  # run once the held frame is drawn
        self.after_frame_pending = 0  # callbacks waiting for a frame (`after_frame`)
        self._resumed = False

    # --- layout ---------------------------------------------------------------------

    def on_screen_resume(self, event: ScreenResume) -> None:
        if not self._resumed:  # shown for the first time: its widgets were styled as mounted
            self._resumed = True
            event.refresh_styles = False  # (Textual styled every one of them again)
        # Back from a dialog: Textual refocuses what had the focus before it opened, but the
        # dialog may have moved us on (a host picked → Sessions): the selection decides.
        self.call_after_refresh(self._refocus)

    def _refocus(self) -> None:
        if self.is_current and not self.pane(self.nav.pane).has_focus_within:
            self._focus(self.nav.pane)

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width, event.size.height)

    def _layout(self, width: int, height: int) -> None:
        """Wide terminals show all four panes; smaller ones only the active pane."""
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

    # --- one frame per key ------------------------------------------------------------

    def hold_frames(self) -> None:
        """Draw nothing until `release_frames` (the results asked for are in) or
        `FRAME_HOLD_S`: each frame redraws most of the screen, and a key's first frame
        (focus, cursor, status line) would delay its results' by its own drawing."""
        if self._frames_held is None and not self.app.is_headless and self.is_current:
            self.app._begin_batch()  # Textual's `batch_update`, across calls
            self._frames_held = self.set_timer(FRAME_HOLD_S, self._end_hold)

    def release_frames(self) -> None:
        """The results are in: draw once the app has handled what they set off. A focus
        move reaches each pane up the tree one message at a time, and a table asks for a
        layout from its own queue: drawn at once, those came as a second frame ~30 ms later
        (Esc). So the frames go on once the event loop has nothing ready to run (or
        `FRAME_HOLD_S` is up, or after `QUIET_ROUNDS` rounds of the loop)."""
        if self._frames_held is None:
            return
        loop = asyncio.get_running_loop()

        def when_quiet(rounds: int = 1) -> None:
            if self._frames_held is None:
                return  # ended meanwhile
            if getattr(loop, "_ready", None) and rounds < QUIET_ROUNDS:
                loop.call_soon(when_quiet, rounds + 1)  # after what is ready now
                return
            self._end_hold()

        loop.call_soon(when_quiet)

    def _end_hold(self) -> None:
        held, self._frames_held = self._frames_held, None
        if held is not None:
            held.stop()
            self.app._end_batch()
            if self._render_kept:  # a frame comes: the kept regions with what changed since
                self._render_kept = False
                self._dirty_widgets.add(self)  # no region of its own unless refreshed
            self.check_idle()  # the screen draws what changed meanwhile
            waiting, self._after_hold = self._after_hold, []
            for callback in waiting:
                self.call_after_refresh(callback)

    def after_frame(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the screen's next frame is drawn. Textual's
        `call_after_refresh` runs it at once while the frames are held (nothing is drawn then),
        and work started before a frame shares the interpreter with drawing it."""
        self.after_frame_pending += 1

        def run() -> None:
            self.after_frame_pending -= 1
            callback()

        if self._frames_held is None:
            self.call_after_refresh(run)
        else:
            self._after_hold.append(run)

    def _compositor_refresh(self) -> None:
        """Textual's, except while this screen holds its frames. A layout during a batch
        made Textual render the update and then drop it (a batch writes nothing), and the
        regions it rendered were spent: the next frame written left them out (at the first
        screen, ~45 ms of CPU for a frame never seen, and a first frame that was not the
        whole screen). Held, the regions wait for the frame after the hold."""
        if self._frames_held is not None and self.app._batch_count and self is self.app.screen:
            self._render_kept = True
            return
        super()._compositor_refresh()

    # --- panes and focus ------------------------------------------------------------

    def pane(self, name: str) -> Any:
        """The pane called `name` (a `TablePane`, or the `DetailPane` for "detail")."""
        return self.query_one(f"#{name}")

    def focused_pane(self) -> str:
        for name in PANES:
            if self.pane(name).has_focus_within:
                return name
        return self.nav.pane

    def active_table(self) -> TablePane:
        """The table keys act on: the focused pane's, or the detail's visible tab."""
        name = self.focused_pane()
        if name == "detail":
            table: TablePane = self.pane("detail").active_table()
            return table
        pane: TablePane = self.pane(name)
        return pane

    def _focus(self, name: str) -> None:
        self.nav = replace(self.nav, pane=name)
        self._layout(self.size.width, self.size.height)
        self.pane(name).focus_table()
        self._status()

    def _may_focus(self) -> bool:
        """A new table may take the focus: this screen is on top and nobody is typing."""
        return self.is_current and not self.searching()

    def searching(self) -> bool:
        """The search bar has the focus: the responder is typing a search."""
        return self.search_bar is not None and self.search_bar.has_focus

    def search_open(self) -> bool:
        """The search bar is on screen (open, with or without the focus)."""
        return self.search_bar is not None and self.search_bar.has_class("open")

    def _status(self, note: str = "") -> None:
        status = self.query_one(StatusLine)
        status.crumbs = crumbs(self.nav, self.filters, self.case_label)
        status.filters = self.filters.describe()
        status.filters_short = filters_short(self.filters)
        status.note = note

    # --- the search bar -------------------------------------------------------------

    async def action_search(self) -> None:
        table = self.active_table()
        search = self.search_bar
        if search is None:  # made now, not with the first screen: ~10 ms of styles it never shows
            search = self.search_bar = Input(id="search")
            await self.mount(search, before=self.query_one(KeyHints))
        self._search_target = table
        search.value = table.search_text
        search.placeholder = f"search {table.title} (Enter keeps it, Esc clears)"
        search.add_class("open")
        search.focus()

    def _close_search(self, clear: bool) -> None:
        target = self._search_target
        if self.search_bar is not None:
            self.search_bar.remove_class("open")
        if target is not None:
            if clear and target.search_text:
                target.set_search("")
            target.focus_table()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        target = self._search_target
        if target is not None and event.value != target.search_text:
            target.set_search(event.value)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._close_search(clear=False)

    # --- one-off workers: an event's record, an export -------------------------------

    def load_event(self, title: str, evidence_sha256: str, record_id: int) -> None:
        self._event_worker(self.backend, title, evidence_sha256, record_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="event")
    def _event_worker(
        self, backend: Backend, title: str, evidence_sha256: str, record_id: int
    ) -> None:
        self.post_message(EventLoaded(title, backend.event(evidence_sha256, record_id)))

    @work(thread=True, exclusive=False, exit_on_error=False, group="export")
    def export_view(self, table: pa.Table, path: str, fmt: str | None = None) -> None:
        from logonscope.tui.export import export_table

        written = export_table(table, path, fmt)
        self.post_message(Exported(str(written), table.num_rows))

    def on_event_loaded(self, message: EventLoaded) -> None:
        # imported here: its TextArea costs ~40 ms of CPU that the first screen need not wait for
        from logonscope.tui.screens.event import EventScreen

        self.app.push_screen(EventScreen(message.title, message.event))

    def on_exported(self, message: Exported) -> None:
        self.notify(
            f"wrote {message.rows:,} rows to {visible(message.path)}", title="export", markup=False
        )
