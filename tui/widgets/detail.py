"""The Session detail pane: tabs Summary, Sources and Activity for one session.

Summary lists the session's fields grouped (who, from where, when, how it ended, ids) with
codes in words (strings made inert); Sources lists every event that defined the session
with its role and key fields (Enter posts `SourceChosen`, the screen shows the whole
event); Activity lists the events attributed to it. Under Sources and Activity a preview
line shows the whole of the row under the cursor, which a column would cut. It renders what the
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
from textual.widget import AwaitMount
from textual.widgets import Static, TabbedContent, TabPane

from logonscope.tui.tables import Shaped, shape, visible
from logonscope.tui.widgets import relations
from logonscope.tui.widgets.focus_border import FocusBorder
from logonscope.tui.widgets.table_pane import TablePane

# The Summary tab, grouped as a responder reads a session: who, from where, when, how it
# ended, then the identifiers. The address comes early, so it is on the first screen.
SUMMARY_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("who", ("user", "domain", "logon_kind")),
    (
        "from where",
        (
            "src_ip",
            "src_ip_source",
            "gateway_ip",
            "gateway_host",
            "src_host",
            "src_ip_class",
            "src_country",
            "src_city",
            "src_asn",
            "src_org",
            "src_ip_zone",
            "tunnelled",
            "client_tz",
        ),
    ),
    ("when", ("start", "end", "duration", "is_reconnect", "clock_changed", "clock_changes")),
    ("how it ended", ("outcome", "failure_reason", "end_reason")),
    ("signs of tampering", ("tampered", "tampering_signs")),
    (
        "host and ids",
        (
            "host",
            "host_names",
            "logon_type",
            "admin",
            "elevated",
            "system",
            "sid",
            "logon_ids",
            "lsm_session_id",
            "n_sources",
            "n_activity",
            "session_id",
        ),
    ),
)
SUMMARY_FIELDS = tuple(f for _, fields in SUMMARY_GROUPS for f in fields)
# Shown only when known: where the address is needs a geoip/ASN database (storage.geoip);
# an RD Gateway in between and a client time zone only some sessions have.
ONLY_WHEN_KNOWN = frozenset(
    {"src_country", "src_city", "src_asn", "src_org", "gateway_ip", "gateway_host", "client_tz"}
)

# What the event that gave a session its source address is, in words.
IP_SOURCES = {
    "131": "RdpCoreTS 131 (RDP connection accepted)",
    "140": "RdpCoreTS 140 (RDP logon failed: user name or password not correct)",
    "gateway": "RD Gateway 302 (the external client behind the gateway's address)",
    "1149": "RemoteConnectionManager 1149 (RDP user authenticated)",
    "4624": "Security 4624 (successful logon)",
    "4625": "Security 4625 (failed logon)",
    "4778": "Security 4778 (session reconnected)",
    "4648": "Security 4648 (logon with explicit credentials)",
    "LSM": "LocalSessionManager 21/22/25 (session logon / shell / reconnect)",
}
LOGON_TYPES = {
    0: "system",
    2: "interactive (console)",
    3: "network",
    4: "batch",
    5: "service",
    7: "unlock",
    8: "network, cleartext password",
    9: "new credentials (runas /netonly)",
    10: "remote interactive (RDP)",
    11: "cached interactive",
    12: "cached remote interactive",
    13: "cached unlock",
}


def explained(name: str, value: Any) -> str:
    """A field's value as inert text, with a code said in words (`3 (network)`)."""
    text = visible(value)
    if value is None or text == "":
        return text
    if name == "src_ip_source":
        return visible(IP_SOURCES.get(str(value), f"event {value}"))
    if name in ("clock_changes", "tampering_signs") and isinstance(value, list):
        return "; ".join(visible(v) for v in value)
    if name == "logon_type" and isinstance(value, int) and value in LOGON_TYPES:
        return f"{value} ({LOGON_TYPES[value]})"
    return text


def summary_table(detail: dict[str, Any]) -> pa.Table:
    """(field, value) rows of a session, grouped under `── group ──` rows, values as inert
    text with codes explained."""
    values = dict(detail)
    start, end = values.get("start"), values.get("end")
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        values["duration"] = str(end - start)
    elif start is not None and "end" in values:
        values["duration"] = "open (no end seen)"
    names: list[str] = []
    shown: list[str] = []
    for group, fields in SUMMARY_GROUPS:
        present = [
            f
            for f in fields
            if f in values and not (f in ONLY_WHEN_KNOWN and values[f] in (None, ""))
        ]
        if present:
            names.append(f"── {group}")
            shown.append("")
            names += present
            shown += [explained(f, values[f]) for f in present]
    rest = [
        k
        for k in values
        if k not in SUMMARY_FIELDS and k not in relations.NOT_FIELDS and not k.endswith("_key")
    ]
    if rest:
        names.append("── more")
        shown.append("")
        names += rest
        shown += [explained(k, values[k]) for k in rest]
    for name, value in relations.relation_rows(detail):
        names.append(name)
        shown.append(value)
    return pa.table({"field": names, "value": shown})


def preview(row: dict[str, Any] | None, first: tuple[str, ...]) -> str:
    """The whole of a row on one wrapped line: `first` fields, then every other non-empty
    one as `name: value` (what a table column cuts at its width)."""
    if not row:
        return ""
    hidden = ("evidence_sha256", "session_id", "host_key")
    parts = [visible(row.get(f)) for f in first if row.get(f) not in (None, "")]
    parts += [
        f"{k}: {visible(v)}"
        for k, v in row.items()
        if k not in first and k not in hidden and v not in (None, "", [])
    ]
    return " · ".join(parts)


class SummaryTable(TablePane):
    title: ClassVar[str] = "Summary"
    key_column: ClassVar[str | None] = "field"
    fit: ClassVar[bool] = False  # two columns: a long value may run past the edge
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

    def highlighted(self, row: dict[str, Any] | None) -> None:
        _show_preview(self, preview(row, ("time", "channel", "event_id", "role")))

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
    fit: ClassVar[bool] = False  # the summary runs to the edge; the preview shows it whole

    def highlighted(self, row: dict[str, Any] | None) -> None:
        _show_preview(self, preview(row, ("time", "event_id", "summary")))

    class ActivityChosen(Message, bubble=True):
        def __init__(self, row: dict[str, Any]) -> None:
            super().__init__()
            self.row = row

    def chosen(self, row: dict[str, Any]) -> None:
        self.post_message(self.ActivityChosen(row))


def _show_preview(table: TablePane, text: str) -> None:
    """Put `text` in the preview line under `table` (its tab's `.preview` Static)."""
    parent = table.parent
    if parent is not None:
        for line in parent.query(".preview"):
            if isinstance(line, Static):
                shown = line.content
                if (shown.plain if isinstance(shown, Content) else str(shown)) != text:
                    line.update(Content(text))  # re-lays out the screen: on change only


class DetailPane(FocusBorder, Vertical):
    """Holds the three tabs; the screen fills them with `show_detail`."""

    DEFAULT_CSS = """
    DetailPane { border: round $primary-darken-2; height: 1fr; }
    DetailPane TablePane { border: none; }
    DetailPane TabbedContent, DetailPane ContentSwitcher, DetailPane TabPane { height: 1fr; }
    DetailPane TabPane { padding: 0; }
    DetailPane .preview { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    """

    TABS: ClassVar[tuple[str, ...]] = ("summary", "sources", "activity")

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.session_id: str | None = None
        kinds = (SummaryTable, SourcesTable, ActivityTable)
        self._tables = {n: k(id=f"{n}-table") for n, k in zip(self.TABS, kinds, strict=True)}
        self._pending: dict[str, tuple[pa.Table, Shaped, bool]] = {}  # for tabs not built yet
        # tabs whose table is mounted or being mounted; mounted and composed
        self._built, self._ready = {"summary"}, {"summary"}
        self._premount = False  # `premount` asked: tables built later are premounted too

    def compose(self) -> ComposeResult:
        # Sources and Activity, hidden at first: built when first shown or the screen idles
        with TabbedContent(id="detail-tabs"):
            with TabPane("Summary", id="summary"):
                yield self._tables["summary"]
            yield TabPane("Sources", id="sources")
            yield TabPane("Activity", id="activity")

    def on_mount(self) -> None:
        self.border_title = "Session detail"

    def build_tabs(self, *names: str) -> None:
        """Mount the tables of the tabs `names` (every tab when none), if not yet there."""
        for name in names or self.TABS:
            if name in self._built:
                continue
            self._built.add(name)
            table = self._tables[name]
            preview = Static("", classes="preview", id=f"{name}-preview", markup=False)
            self.call_later(
                self._mounted, name, self.query_one(f"#{name}", TabPane).mount(table, preview)
            )

    async def _mounted(self, name: str, mounted: AwaitMount) -> None:
        await mounted
        self._ready.add(name)
        table = self._tables[name]
        if self._premount:
            table.premount()
        pending = self._pending.pop(name, None)
        if pending is not None:
            source, result, focus = pending
            table.show(source, result, focus=True if focus else None)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.build_tabs(event.pane.id or "summary")  # a tab clicked

    def premount(self) -> None:
        """Every tab built, its grid mounted (the screen idles): the first `t` mounts nothing."""
        self._premount = True
        self.build_tabs()
        for name in self._ready:
            self._tables[name].premount()

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one(TabbedContent)

    def active_table(self) -> TablePane:
        return self._tables[self.tabs.active or "summary"]

    def tables(self) -> list[TablePane]:
        """The tabs' tables, built or not (one not built yet has no result, no search)."""
        return [self._tables[name] for name in self.TABS]

    def table(self, name: str) -> TablePane:
        return self._tables[name]

    def show_tab(self, name: str) -> None:
        had_focus = self.has_focus_within
        self.build_tabs(name)
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
            for name in self.TABS:
                self._show(name, empty, shape(empty), focus and name == self.tabs.active)
            return
        self.session_id, kind = relations.title(detail)
        who = visible(detail.get("user")) or "?"
        # Content, not str: a border title given as str is parsed as markup
        self.border_title = Content(
            f"{kind} {visible(self.session_id)} · {who} @ {visible(detail.get('host'))}"
        )
        how = (
            f"{visible(detail.get('outcome'))} · {visible(detail.get('logon_kind'))}"
            if "view" not in detail
            else f"{detail.get('n_members')} events · {visible(detail.get('end_reason'))}"
        )
        self.border_subtitle = Content(f"{how} · t next tab")
        for name in self.TABS:
            source, result = shaped[name]
            self._tables[name].reset_announced()  # row 0 of another session is news
            self._show(name, source, result, focus and name == self.tabs.active)

    def _show(self, name: str, source: pa.Table, result: Shaped, focus: bool) -> None:
        if name in self._ready:
            self._tables[name].show(source, result, focus=focus)
        else:  # shown once its tab is built
            self._pending[name] = (source, result, focus)
