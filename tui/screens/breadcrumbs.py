"""The text of the main screen's status line and pane titles: where the responder is.

Pure functions of the selection and the filters; every evidence value goes through
`visible`, so a user name or an IP read from evidence is shown as typed, never interpreted.
"""

from __future__ import annotations

from logonscope.analysis.session_views import LABELS
from logonscope.tui.backend import FilterState
from logonscope.tui.screens.navigation import PANE_NAMES, Nav
from logonscope.tui.tables import visible


def crumbs(nav: Nav, filters: FilterState, case_label: str = "") -> str:
    """`case › user alice › from 10.0.0.5 › [Sessions]`: the path to the focused pane."""
    parts = [case_label or "case"]
    if nav.user is not None:
        parts.append(f"user {visible(nav.user_label or nav.user)}")
    elif nav.pane in ("sessions", "detail"):
        parts.append(f"all sessions{' of ' + visible(filters.host) if filters.host else ''}")
    if nav.ip_set:
        parts.append(f"from {_ip(nav)}")
    if nav.burst:
        parts.append(f"burst of {len(nav.burst)} failures")
    if nav.session_id and nav.pane == "detail":
        parts.append(f"{_kind(nav)}session {visible(nav.session_id)}")
    pane = PANE_NAMES[nav.pane]
    if nav.pane == "sessions" and nav.view != "investigator":
        pane = f"Sessions: {LABELS[nav.view]}"
    parts.append(f"[{pane}]")
    return " › ".join(parts)


def sessions_context(nav: Nav, filters: FilterState) -> str:
    """Whose sessions the Sessions pane lists (`alice from 10.0.0.5 on WS01`)."""
    who = visible(nav.user_label or nav.user) if nav.user is not None else "all users"
    if nav.ip_set:
        who += f" from {_ip(nav)}"
    if filters.host:
        who += f" on {visible(filters.host)}"
    if nav.burst:
        who += f" · burst of {len(nav.burst)} failures (Esc: back)"
    return who


def _kind(nav: Nav) -> str:
    return {"logon": "logon ", "desktop": "desktop "}.get(nav.view, "")


def user_context(nav: Nav) -> str:
    """Whose source IPs the User + IP pane lists ("" when no user is selected)."""
    return visible(nav.user_label or nav.user) if nav.user is not None else ""


def _ip(nav: Nav) -> str:
    return visible(nav.ip) if nav.ip is not None else "no address"


def filters_short(filters: FilterState) -> str:
    """Only the filters that narrow the view (`kind: Network  outcome: failure`), or `none`:
    what the status line shows when the full list does not fit."""
    full = FilterState(show_system=filters.show_system)
    if filters == full:
        return "none" + ("  system: shown" if filters.show_system else "")
    parts = [p for p in filters.describe().split("  ") if not p.endswith((": all", "hidden"))]
    return "  ".join(parts)
