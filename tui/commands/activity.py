"""`logonscope activity --case DIR [--unattributed] [--host H]`: what happened, and in which
session. Lists the attributed activity of a case (service installs, process creations, share
access, ...) with its session, how strongly it is linked (`confidence`: logon_id, user+time,
or the weak host+time) and why (`match_note`); `--unattributed` shows only what no session
holds, so nothing is hidden.
"""

from __future__ import annotations

import argparse

from logonscope.tui.format_names import FORMATS

TABLE_COLUMNS = (
    "time",
    "host",
    "channel",
    "event_id",
    "user",
    "summary",
    "confidence",
    "session_id",
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "activity",
        help="list activity events and the session each belongs to",
        description="List the activity of a case (7045 service installs, 4688 process "
        "creations, share access, ...) by host and time, with the session it is attributed "
        "to, the link's strength (logon_id, user+time, host+time = weak) and the reason.",
    )
    parser.add_argument("--case", required=True, help="case folder")
    parser.add_argument(
        "--unattributed", action="store_true", help="only activity that no session holds"
    )
    parser.add_argument("--host", help="only this host (any spelling of its name)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from logonscope.analysis.listing import activity_rows
    from logonscope.tui.commands.sessions import _open, _print

    con = _open(args.case)
    table = activity_rows(con, unattributed=args.unattributed, host=args.host)
    _print(table, args.format, TABLE_COLUMNS)
    return 0
