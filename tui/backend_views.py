"""The Backend reads of the three session views (`analysis.session_views`): the Sessions
pane's rows in the Windows logon or desktop view, and the Detail of a session in any view.
Cached and run on the worker groups' connections like every other read of the Backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from logonscope.tui.backend import FilterState
from logonscope.tui.held import as_table

if TYPE_CHECKING:
    from logonscope.tui.backend import Backend

# Reads made beside a detail's own (its related sessions): the panes' worker and the read-ahead
_BESIDE = ThreadPoolExecutor(2, thread_name_prefix="logonscope-beside")


def view_sessions(
    backend: Backend,
    state: FilterState,
    view: str,
    user: str | None,
    ip: Any = None,
    ip_set: bool = False,
) -> pa.Table:
    """The Windows logon or desktop sessions of a selection (`analysis.session_views`)."""
    from logonscope.analysis import view_queries

    selection: dict[str, Any] = {"user": user}
    if ip_set:
        selection["ip"] = ip if ip is not None else getattr(backend.queries, "NO_IP", "-")
    filters = backend.filters(state, **selection)
    return backend.cached(
        "sessions",
        (view, state, user, ip, ip_set),
        lambda: backend.run("sessions", view_queries.view_sessions, view, filters),
    )


def view_detail(
    backend: Backend,
    view: str,
    view_id: str,
    known: dict[str, Any] | None = None,
    group: str = "detail",
) -> dict[str, Any] | None:
    """One session of `view` as the Detail pane shows it: an investigator session with the
    Windows logon and desktop sessions it is in (`related`); a logon or desktop session
    with its members (as `sources`) and the investigator sessions it contains."""
    from logonscope.analysis import view_queries

    if view == "investigator":

        def with_related() -> dict[str, Any] | None:
            # the related sessions read beside the detail (another cursor, another core)
            # when the row says which host: the two reads take as long as the longer one
            row = known if known is not None and known.get("session_id") == view_id else {}
            pending = None
            if row.get("host_key") is not None:
                args = (view_queries.related, view_id, row["host_key"])
                pending = _BESIDE.submit(backend.run, f"{group}-related", *args)
            found = backend.session_detail(view_id, known, group)
            if found is None:
                return None
            if pending is not None:
                related = pending.result()
            else:
                related = backend.run(group, view_queries.related, view_id, found.get("host_key"))
            return {**found, "related": related}

        # one object per session: the screen reuses its tabs' shaped tables when it is shown
        # again (a step back, the cursor back on it)
        return backend.cached("detail", ("related", view_id), with_related)  # type: ignore[no-any-return]

    def detail(con: Any) -> dict[str, Any] | None:
        found = view_queries.view_detail(con, view, view_id)
        if found is None:
            return None
        members = found.pop("members")
        found["contained"] = found.pop("sessions")
        found["sources"] = as_table(members) if members else pa.table({})
        found["activity"] = pa.table({})
        found["view"] = view
        return found

    return backend.cached("detail", (view, view_id), lambda: backend.run(group, detail))
