"""`sessions --view` and `session --view`: the Windows logon and desktop views of a case
(`analysis.session_views`) on the command line: their table columns, their member events in
JSON with times like every other time, one view session with its members and the
investigator sessions it contains."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from logonscope.tui.errors import UsageError

# `--format table` for the Windows logon and desktop views
VIEW_TABLES = {
    "logon": (
        "logon_session_id",
        "start",
        "end",
        "end_reason",
        "host_key",
        "user",
        "logon_kind",
        "logon_id",
        "src_ip",
        "n_members",
        "session_ids",
    ),
    "desktop": (
        "desktop_session_id",
        "start",
        "end",
        "end_reason",
        "host_key",
        "user",
        "lsm_session_id",
        "src_ips",
        "n_connects",
        "n_disconnects",
        "n_members",
        "session_ids",
    ),
}
VIEW_HELP = (
    "which sessions: investigator (default: every attempt, reconnects split), logon "
    "(Windows logon sessions: one per logon id per boot, 4624 to 4634/4647) or desktop "
    "(one per LSM session id per boot, across disconnects and reconnects)"
)


def iso_members(table: Any) -> Any:
    """Member times as ISO 8601 UTC `Z` like every other time in JSON (nested, the JSON
    writer would print them its own way)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "members" not in table.column_names:
        return table
    column = table.column("members").combine_chunks()
    if isinstance(column, pa.ChunkedArray):  # an empty table
        column = pa.concat_arrays(column.chunks) if column.chunks else column
    structs = column.flatten()
    fields = {f.name: structs.field(f.name) for f in structs.type}
    fields["time"] = pc.strftime(fields["time"], format="%Y-%m-%dT%H:%M:%SZ")
    iso = pa.StructArray.from_arrays(list(fields.values()), names=list(fields))
    members = pa.ListArray.from_arrays(column.offsets, iso, mask=column.is_null())
    return table.set_column(table.column_names.index("members"), "members", members)


def view_session(con: Any, args: argparse.Namespace) -> int:
    """`session ID --view logon|desktop`: its columns, member events, contained sessions."""
    import json

    import pyarrow as pa

    from logonscope.analysis import view_queries
    from logonscope.tui.output import rows, write

    detail = view_queries.view_detail(con, args.view, args.session_id)
    if detail is None:
        raise UsageError(f"no {args.view} session {args.session_id!r} in {args.case}")
    members = detail.pop("members")
    contained = detail.pop("sessions")
    head = rows(pa.Table.from_pylist([detail]))[0]
    member_rows = rows(pa.Table.from_pylist(members)) if members else []
    contained_rows = rows(pa.Table.from_pylist(contained)) if contained else []
    if args.format == "json":
        out = {**head, "members": member_rows, "sessions": contained_rows}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    pairs(head)
    print(f"\nmembers: {len(member_rows)} event(s)")
    if members:
        write(pa.Table.from_pylist(members).drop_columns(["evidence_sha256"]), "table")
    print(f"\ninvestigator sessions: {len(contained_rows)}")
    if contained:
        write(pa.Table.from_pylist(contained), "table")
    return 0


def pairs(head: dict[str, Any]) -> None:
    import json

    import pyarrow as pa

    from logonscope.tui.output import write

    values = [
        "" if v is None else json.dumps(v) if isinstance(v, list) else str(v) for v in head.values()
    ]
    write(pa.table({"field": list(head), "value": values}), "table")
