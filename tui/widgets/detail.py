"""The Session detail pane: tabs Summary, Sources and Activity for one session.

Summary lists the session's fields (strings made inert); Sources lists every event that
defined the session with its role and key fields (Enter posts `SourceChosen`, the screen
shows the whole event); Activity lists the events attributed to it. It renders what the
screen hands it and never queries the case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pyarrow as pa
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import TabbedContent, TabPane

from logonscope.tui.tables import Shaped, shape, visible
from logonscope.tui.widgets.table_pane import TablePane

SUMMARY_FIELDS = (
    "session_id",
    "host",
    "user",
    "domain",
    "sid",
    "logon_kind",
    "logon_type",
    "outcome",
    "failure_reason",
    "start",
    "end",
    "duration",
    "end_reason",
    "src_ip",
    "src_ip_source",
    "src_ip_class",
    "src_ip_zone",
    "src_host",
    "tunnelled",
    "logon_ids",
    "lsm_session_id",
    "is_reconnect",
    "elevated",
    "admin",
    "system",
    "n_sources",
    "n_activity",
)


def summary_table(detail: dict[str, Any]) -> pa.Table:
    """(field, value) rows of a session, values as inert text."""
    values = dict(detail)
    start, end = values.get("start"), values.get("end")
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        values["duration"] = str(end - start)
    elif start is not None and "end" in values:
        values["duration"] = "open (no end seen)"
    names = [f for f in SUMMARY_FIELDS if f in values]
    names += [
        k
        for k in values
        if k not in names and k not in ("sources", "activity") and not k.endswith("_key")
    ]
    return pa.table({"field": names, "value": [visible(values[n]) for n in names]})


class SummaryTable(TablePane):
    title: ClassVar[str] = "Summary"
    key_column: ClassVar[str | None] = "field"
    empty_text: ClassVar[str] = "choose a session (Enter in Sessions)"


class SourcesTable(TablePane):
    title: ClassVar[str] = "Sources"
    key_column: ClassVar[str | None] = None
    hidden_columns: ClassVar[tuple[str, ...]] = ("evidence_sha256", "session_id")
    preferred: ClassVar[tuple[str, ...]] = (
        "time",
        "event_id",
        "role",
        "channel",
        "target_user",
        "logon_type",
        "ip",
        "port",
        "workstation",
        "target_logon_id",
        "lsm_session_id",
        "status",
        "sub_status",
    )
    abbreviate: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("channel", "Microsoft-Windows-", ""),
        ("channel", "TerminalServices-", "TS-"),
    )
    empty_text: ClassVar[str] = "no source events"

    class SourceChosen(Message, bubble=True):
        def __init__(self, row: dict[str, Any]) -> None:
            super().__init__()
            self.row = row

    def chosen(self, row: dict[str, Any]) -> None:
        self.post_message(self.SourceChosen(row))


class ActivityTable(TablePane):
    title: ClassVar[str] = "Activity"
    key_column: ClassVar[str | None] = None
    hidden_columns: ClassVar[tuple[str, ...]] = ("session_id", "evidence_sha256", "host_key")
    preferred: ClassVar[tuple[str, ...]] = (
        "time",
        "event_id",
        "summary",
        "user",
        "confidence",
        "channel",
        "match_note",
    )
    abbreviate: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("channel", "Microsoft-Windows-", ""),
        ("channel", "TerminalServices-", "TS-"),
    )
    empty_text: ClassVar[str] = "no activity attributed to this session"

    class ActivityChosen(Message, bubble=True):
        def __init__(self, row: dict[str, Any]) -> None:
            super().__init__()
            self.row = row

    def chosen(self, row: dict[str, Any]) -> None:
        self.post_message(self.ActivityChosen(row))


class DetailPane(Vertical):
    """Holds the three tabs; the screen fills them with `show_detail`."""

    DEFAULT_CSS = """
    DetailPane { border: round $primary-darken-2; height: 1fr; }
    DetailPane:focus-within { border: round $accent; }
    DetailPane TablePane, DetailPane TablePane:focus-within { border: none; }
    DetailPane TabbedContent, DetailPane ContentSwitcher, DetailPane TabPane { height: 1fr; }
    DetailPane TabPane { padding: 0; }
    """

    TABS: ClassVar[tuple[str, ...]] = ("summary", "sources", "activity")

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.session_id: str | None = None

    def compose(self) -> ComposeResult:
        with TabbedContent(id="detail-tabs"):
            with TabPane("Summary", id="summary"):
                yield SummaryTable(id="summary-table")
            with TabPane("Sources", id="sources"):
                yield SourcesTable(id="sources-table")
            with TabPane("Activity", id="activity"):
                yield ActivityTable(id="activity-table")

    def on_mount(self) -> None:
        self.border_title = "Session detail"

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one(TabbedContent)

    def active_table(self) -> TablePane:
        return self.query_one(f"#{self.tabs.active}-table", TablePane)

    def tables(self) -> list[TablePane]:
        return [self.query_one(f"#{name}-table", TablePane) for name in self.TABS]

    def show_tab(self, name: str) -> None:
        had_focus = self.has_focus_within
        self.tabs.active = name
        if had_focus:
            self.active_table().focus_table()

    def next_tab(self, step: int = 1) -> None:
        current = self.TABS.index(self.tabs.active or "summary")
        self.show_tab(self.TABS[(current + step) % len(self.TABS)])

    def focus_table(self) -> None:
        self.active_table().focus_table()

    def loading_for(self, context: str) -> None:
        self.border_subtitle = "loading…"

    def show_detail(
        self,
        detail: dict[str, Any] | None,
        shaped: dict[str, tuple[pa.Table, Shaped]],
        focus: bool | None = None,
    ) -> None:
        """`shaped` maps tab name → (source table, shaped result), computed in a worker;
        `focus`: whether the active tab's table takes the focus (None: keep it if it had it)."""
        if focus is None:
            focus = self.has_focus_within
        if detail is None:
            self.session_id = None
            self.border_title = "Session detail"
            self.border_subtitle = "no session"
            empty = pa.table(
                {"field": pa.array([], pa.string()), "value": pa.array([], pa.string())}
            )
            for table in self.tables():
                table.show(
                    empty, shape(empty), context="", focus=focus and table is self.active_table()
                )
            return
        self.session_id = detail.get("session_id")
        who = visible(detail.get("user")) or "?"
        # Content, not str: a border title given as str is parsed as markup
        self.border_title = Content(
            f"Session {visible(self.session_id)} · {who} @ {visible(detail.get('host'))}"
        )
        self.border_subtitle = Content(
            f"{visible(detail.get('outcome'))} · {visible(detail.get('logon_kind'))} · t next tab"
        )
        active = self.active_table()
        for name in self.TABS:
            source, result = shaped[name]
            table = self.query_one(f"#{name}-table", TablePane)
            table.show(source, result, focus=focus and table is active)
