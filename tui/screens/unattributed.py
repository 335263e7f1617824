"""The activity no session holds, for the host and time range the filters select.

Opened with `A` from the main screen. Service installs, scheduled tasks, log clears and the
like that no session owns (no logon id, no user, or none open) are listed by host and time,
so nothing an intruder had SYSTEM do is hidden; Enter shows the whole event. Activity that
a session holds by host and time alone (`host+time`, the weak link) is in that session's
Activity tab with its strength. The user selection is not applied: what is listed here
names no session's user. Never queries the case itself: the backend does, in a worker.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from logonscope.tui.backend import Backend, FilterState
from logonscope.tui.screens.event import EventScreen
from logonscope.tui.tables import visible
from logonscope.tui.widgets.detail import ActivityTable
from logonscope.tui.widgets.grid import prepare


class UnattributedTable(ActivityTable):
    title: ClassVar[str] = "Unattributed activity"
    preferred: ClassVar[tuple[str, ...]] = (
        "time",
        "host",
        "event_id",
        "summary",
        "user",
        "match_note",
        "channel",
        "record_id",
    )
    empty_text: ClassVar[str] = "no unattributed activity for these host and time filters"


class UnattributedScreen(Screen[None]):
    DEFAULT_CSS = """
    UnattributedScreen > Vertical { height: 1fr; }
    UnattributedScreen .preview { height: auto; max-height: 4; padding: 0 1; }
    """
    BINDINGS: ClassVar[list] = [Binding("escape,q,A", "close", "back to the main screen")]

    def __init__(self, backend: Backend, state: FilterState) -> None:
        super().__init__()
        self.backend, self.state = backend, state

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "Activity no session holds  (Enter shows the event, Esc goes back)  "
                + self.state.describe(),
                markup=False,
            )
            yield UnattributedTable(id="unattributed")
            yield Static("", classes="preview", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(UnattributedTable)
        table.loading_for("unattributed activity")
        self._load(table.shape_spec())

    @work(thread=True, exclusive=True, exit_on_error=False, group="unattributed")
    def _load(self, spec: Any) -> None:
        rows = self.backend.unattributed(self.state)
        self.app.call_from_thread(self._show, rows, prepare(spec.apply(rows)))

    def _show(self, rows: pa.Table, shaped: Any) -> None:
        where = f"host {visible(self.state.host)}" if self.state.host else "every host"
        self.query_one(UnattributedTable).show(rows, shaped, context=where, focus=True)

    @on(ActivityTable.ActivityChosen)
    def _chosen(self, message: ActivityTable.ActivityChosen) -> None:
        message.stop()
        row = message.row
        sha, rid = row.get("evidence_sha256"), row.get("record_id")
        if not sha or rid is None:
            self.notify("this row has no stored event to show", severity="warning")
            return
        title = f"{visible(row.get('channel'))} {visible(row.get('event_id'))} · record {rid}"
        self._event(title, sha, int(rid))

    @work(thread=True, exclusive=True, exit_on_error=False, group="event")
    def _event(self, title: str, sha: str, rid: int) -> None:
        event = self.backend.event(sha, rid)
        self.app.call_from_thread(self.app.push_screen, EventScreen(title, event))

    def action_close(self) -> None:
        self.dismiss(None)
