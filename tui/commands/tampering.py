"""`logonscope tampering --case DIR [--host H]`: the signs that a host's logs were tampered
with -- every log clear (Security 1102, System 104, with who cleared it) and every run of
missing EventRecordIDs inside a log -- by host and time. Sessions whose span holds one are
`tampered` in `sessions` and in the app.
"""

from __future__ import annotations

import argparse

from logonscope.tui.format_names import FORMATS

TABLE_COLUMNS = (
    "time",
    "host",
    "kind",
    "channel",
    "record_id",
    "record_to",
    "missing",
    "user",
    "note",
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "tampering",
        help="list log clears and missing records (signs of tampering)",
        description="List every log clear (Security 1102, System 104: the log, when, by whom) "
        "and every run of EventRecordIDs missing inside a log (host + channel, one evidence "
        "file; ids another copy of the log holds are not missing, ids ingest could not read "
        "are said so in the note), by host and time.",
    )
    parser.add_argument("--case", required=True, help="case folder")
    parser.add_argument("--host", help="only this host (any of its names)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from logonscope.analysis import tampering
    from logonscope.analysis.queries import host_key
    from logonscope.tui.commands.sessions import _open, _print

    con = _open(args.case)
    key = host_key(con, args.host) if args.host is not None else None
    table = tampering.listed(con, key)
    _print(table, args.format, TABLE_COLUMNS)
    return 0
