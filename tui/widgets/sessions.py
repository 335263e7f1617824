"""The Sessions pane: sessions of the selection (a user, a user + IP, a host or the case).

Posts `SessionHighlighted` as the cursor moves (the screen previews the detail) and
`SessionChosen` on Enter; never queries the case itself. A burst of failed attempts (one
source, one user, one host, close together) is one row, its outcome `failure ×95`; Enter on
it posts `BurstChosen` and the screen lists its attempts.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.message import Message

from logonscope.analysis.session_views import LABELS, TABLES
from logonscope.tui.widgets.table_pane import TablePane


class SessionsPane(TablePane):
    title: ClassVar[str] = "Sessions"
    key_column: ClassVar[str | None] = "session_id"
    hidden_columns: ClassVar[tuple[str, ...]] = ("host_key", "user_key", "burst_ids")
    # Most important first: a pane shows the leading columns that fit its width whole.
    preferred: ClassVar[tuple[str, ...]] = (
        "start",
        "user",
        "src_ip",
        "src_ips",  # a desktop session's addresses
        "logon_id",  # a Windows logon session's id
        "outcome",
        "tampered",  # "yes" marks a session during a log clear or missing records
        "duration",
        "logon_kind",
        "n_connects",
        "host",
        "end",
        "attempts",
        "failure_reason",
        "end_reason",
        "src_ip_class",
        "src_host",
        "tunnelled",
        "elevated",
        "admin",
        "is_reconnect",
        "n_sources",
        "n_activity",
        "logon_type",
        "domain",
        "src_ip_source",
        "gateway_ip",
        "client_tz",
        "logon_ids",
        "lsm_session_id",
        "sid",
        "system",
        "session_id",
        # the Windows logon and desktop views
        "n_disconnects",
        "n_members",
        "session_ids",
        "linked_logon_id",
        "boot",
        "logon_session_id",
        "desktop_session_id",
    )
    counted: ClassVar[tuple[tuple[str, str], ...]] = (("outcome", "attempts"),)
    sparse: ClassVar[tuple[str, ...]] = ("tampered",)  # leads only when a shown row is
    empty_text: ClassVar[str] = "no sessions for this selection and these filters"

    class SessionHighlighted(Message, bubble=True):
        def __init__(self, session: dict[str, Any] | None) -> None:
            super().__init__()
            self.session = session

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, SessionsPane.SessionHighlighted)

    class BurstChosen(Message, bubble=True):
        """Enter on a burst of failures: its attempts, one row each."""

        def __init__(self, row: dict[str, Any]) -> None:
            super().__init__()
            self.row = row

    class SessionChosen(Message, bubble=True):
        def __init__(self, session: dict[str, Any]) -> None:
            super().__init__()
            self.session = session

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view = "investigator"  # the kind of sessions listed (`v` switches)

    def key_name(self) -> str | None:
        return TABLES[self.view][1]

    def heading(self) -> str:
        label = LABELS[self.view]
        return label[0].upper() + label[1:] + " (v)"

    def row_id(self, row: dict[str, Any] | None) -> str | None:
        """The id of a listed row in the current view."""
        return None if row is None else row.get(TABLES[self.view][1])

    def highlighted(self, row: dict[str, Any] | None) -> None:
        self.post_message(self.SessionHighlighted(row))

    def chosen(self, row: dict[str, Any]) -> None:
        if row.get("attempts"):
            self.post_message(self.BurstChosen(row))
        else:
            self.post_message(self.SessionChosen(row))
