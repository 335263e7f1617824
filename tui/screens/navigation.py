"""Where the responder is in the drill-down, and how they got there.

`Nav` is one place (the selection and the pane with the focus); `History` is the back and
forward stacks of places, like a browser's. Plain values, no Textual: the main screen owns
one of each and decides what a move loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PANES = ("users", "ips", "sessions", "detail")
PANE_NAMES = {"users": "Users", "ips": "User + IP", "sessions": "Sessions", "detail": "Detail"}


@dataclass(frozen=True)
class Nav:
    """One place in the drill-down: what is selected and which pane has the focus."""

    pane: str = "users"
    user: str | None = None  # user_key; None = every user (case-wide sessions)
    user_label: str | None = None
    ip: Any = None
    ip_set: bool = False  # sessions narrowed to one source IP (which may be null)
    session_id: str | None = None
    burst: tuple[str, ...] | None = None  # Sessions opened on one burst's attempts (ids)
    view: str = "investigator"  # which sessions: investigator, logon or desktop (`v`)


@dataclass
class History:
    """Back and forward stacks: a new step clears what lay ahead."""

    back: list[Nav] = field(default_factory=list)
    forward: list[Nav] = field(default_factory=list)

    def push(self, here: Nav) -> None:
        """`here` is left for a new place."""
        self.back.append(here)
        self.forward.clear()

    def go_back(self, here: Nav) -> Nav | None:
        """The place before `here` (None: nothing behind); `here` becomes the way forward."""
        if not self.back:
            return None
        self.forward.append(here)
        return self.back.pop()

    def go_forward(self, here: Nav) -> Nav | None:
        """The place `back` came from (None: nothing ahead); `here` becomes the way back."""
        if not self.forward:
            return None
        self.back.append(here)
        return self.forward.pop()
