"""How the three notions of a session relate, as rows of the Detail's Summary tab.

An investigator session is in one or more Windows logon sessions (its logon ids) and in at
most one desktop session (its LSM session); a Windows logon or desktop session contains the
investigator sessions that share its events. Pure text from the detail dict the backend
hands over; every evidence value goes through `visible`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from logonscope.analysis.session_views import LABELS
from logonscope.tui.tables import visible

# Keys of a detail dict that are relations or tables, not fields of the Summary.
NOT_FIELDS = ("sources", "activity", "related", "contained", "view", "session_ids")


def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return "…" if value is None else visible(value)


def _span(row: dict[str, Any]) -> str:
    return f"{_when(row.get('start'))} → {_when(row.get('end'))} ({visible(row.get('end_reason'))})"


def _logon(row: dict[str, Any]) -> str:
    lid = row.get("logon_id")
    hexid = f"0x{lid:X}" if isinstance(lid, int) else "?"
    return f"logon id {hexid} · {visible(row.get('logon_kind'))} · {_span(row)}"


def _desktop(row: dict[str, Any]) -> str:
    ips = ", ".join(visible(ip) for ip in row.get("src_ips") or []) or "no address"
    n = len(row.get("session_ids") or [])
    return (
        f"LSM session {visible(row.get('lsm_session_id'))} · {_span(row)} · from {ips} · "
        f"{n} investigator session(s)"
    )


def _investigator(row: dict[str, Any]) -> str:
    how = "reconnect" if row.get("is_reconnect") else visible(row.get("outcome"))
    return (
        f"{_when(row.get('start'))} · {visible(row.get('user'))} · "
        f"{visible(row.get('logon_kind'))} from {visible(row.get('src_ip')) or 'no address'}"
        f" · {how}"
    )


def relation_rows(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, value) rows under `── …` group headers: the other views of this session."""
    rows: list[tuple[str, str]] = []
    view = detail.get("view", "investigator")
    if view == "investigator":
        related = detail.get("related") or {}
        logons = related.get("logon_sessions") or []
        desktops = related.get("desktop_sessions") or []
        rows.append((f"── in {len(logons)} {LABELS['logon']}", ""))
        rows += [(visible(r.get("logon_session_id")), _logon(r)) for r in logons]
        rows.append((f"── in {len(desktops)} {LABELS['desktop']}", ""))
        rows += [(visible(r.get("desktop_session_id")), _desktop(r)) for r in desktops]
        return rows
    contained = detail.get("contained") or []
    rows.append((f"── contains {len(contained)} {LABELS['investigator']}", ""))
    rows += [(visible(r.get("session_id")), _investigator(r)) for r in contained]
    return rows


def title(detail: dict[str, Any]) -> tuple[str, str]:
    """(the Detail's id of this session, its kind in words) for the pane's title."""
    view = detail.get("view", "investigator")
    key = {"logon": "logon_session_id", "desktop": "desktop_session_id"}.get(view, "session_id")
    kind = {"logon": "Windows logon session", "desktop": "Desktop session"}.get(view, "Session")
    return detail.get(key) or "", kind
