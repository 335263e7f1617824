"""The User + source IP pane: the selected user's sessions grouped by source address.

Successful logons and failed attempts counted apart, first/last of each, IP class and
rarity (on successful logons), so an outlier address stands out; with a geoip/ASN database
its country and ASN, and whether either is new for the user (`new cc`, `new AS`: defined in
`analysis.geo`); a private address's country and ASN name its range (`private`, `CGNAT`);
a session without an address is listed as `no address`. Posts
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
    # Most important first: a pane shows the leading columns that fit its width whole.
    preferred: ClassVar[tuple[str, ...]] = (
        "src_ip",
        "rare_for_user",
        "new_country",
        "new_asn",
        "src_country",
        "src_asn",
        "successes",
        "failures",
        "first_logon",
        "last_logon",
        "first_failure",
        "last_failure",
        "user_share",
        "case_users",
        "case_share",
        "src_ip_class",
        "src_org",
        "src_city",
        "src_network",
        "hosts",
        "logon_kinds",
        "src_hosts",
        "sessions",
        "first_seen",
        "last_seen",
        "user_logons",
        "case_logons",
    )
    blanks: ClassVar[tuple[tuple[str, str], ...]] = (("src_ip", "no address"),)
    percent: ClassVar[tuple[str, ...]] = ("user_share", "case_share")
    labels: ClassVar[tuple[tuple[str, str], ...]] = (
        ("rare_for_user", "rare"),
        ("successes", "logons"),
        ("user_share", "share"),
        ("new_country", "new cc"),
        ("new_asn", "new AS"),
        ("src_country", "cc"),
        ("src_asn", "ASN"),
        ("src_org", "org"),
        ("src_city", "city"),
    )
    # without a database nothing is located: the pane looks as it did, places at the end
    sparse: ClassVar[tuple[str, ...]] = (
        "new_country",
        "new_asn",
        "src_country",
        "src_asn",
        "src_org",
        "src_city",
    )
    # a private address's place columns name its range class
    fallbacks: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("src_country", "src_ip_class", "public"),
        ("src_asn", "src_ip_class", "public"),
    )
    empty_text: ClassVar[str] = "choose a user (Enter in Users)"

    class IpChosen(Message, bubble=True):
        def __init__(self, row: dict[str, Any]) -> None:
            super().__init__()
            self.row = row

    def chosen(self, row: dict[str, Any]) -> None:
        self.post_message(self.IpChosen(row))
