"""The User + source IP pane: the selected user's sessions grouped by source address.

Counts, first/last, IP class and rarity, so an outlier address stands out. Posts
`IpChosen` on Enter (the screen then narrows Sessions to that address); never queries.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.message import Message

from logonscope.tui.widgets.table_pane import TablePane


class UserIpsPane(TablePane):
    title: ClassVar[str] = "User + source IP"
    key_column: ClassVar[str | None] = "src_ip"
    hidden_columns: ClassVar[tuple[str, ...]] = ("user_key", "user", "system")
    preferred: ClassVar[tuple[str, ...]] = (
        "src_ip",
        "rare_for_user",
        "sessions",
        "failures",
        "user_share",
        "case_users",
        "case_share",
        "src_ip_class",
        "src_network",
        "first_seen",
        "last_seen",
        "hosts",
        "logon_kinds",
        "src_hosts",
        "successes",
        "user_sessions",
        "case_sessions",
    )
    empty_text: ClassVar[str] = "choose a user (Enter in Users)"

    class IpChosen(Message, bubble=True):
        def __init__(self, row: dict[str, Any]) -> None:
            super().__init__()
            self.row = row

    def chosen(self, row: dict[str, Any]) -> None:
        self.post_message(self.IpChosen(row))
