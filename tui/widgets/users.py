"""The Users pane: one row per user (sessions, failures, hosts, kinds, IPs, first/last seen).

Posts `UserHighlighted` when the cursor rests on a user and `UserChosen` on Enter; the screen
decides what loads next. It never queries the case itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.message import Message

from logonscope.tui.widgets.table_pane import TablePane


class UsersPane(TablePane):
    title: ClassVar[str] = "Users"
    key_column: ClassVar[str | None] = "user_key"
    hidden_columns: ClassVar[tuple[str, ...]] = ("user_key", "system")
    preferred: ClassVar[tuple[str, ...]] = (
        "user",
        "sessions",
        "failures",
        "n_hosts",
        "n_src_ips",
        "logon_kinds",
        "first_seen",
        "last_seen",
        "last_failure",
        "successes",
        "unknown",
        "reconnects",
        "admin_sessions",
        "hosts",
        "domains",
    )
    empty_text: ClassVar[str] = "no users (system accounts are hidden: S shows them)"

    class UserHighlighted(Message, bubble=True):
        def __init__(self, user: dict[str, Any] | None) -> None:
            super().__init__()
            self.user = user

        def can_replace(self, message: Message) -> bool:  # cursor bursts coalesce
            return isinstance(message, UsersPane.UserHighlighted)

    class UserChosen(Message, bubble=True):
        def __init__(self, user: dict[str, Any]) -> None:
            super().__init__()
            self.user = user

    def highlighted(self, row: dict[str, Any] | None) -> None:
        self.post_message(self.UserHighlighted(row))

    def chosen(self, row: dict[str, Any]) -> None:
        self.post_message(self.UserChosen(row))
