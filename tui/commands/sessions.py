"""`logonscope sessions | users | user-ips | session`: read the logon sessions of a case.

A thin front end over `analysis.queries`: parses options into a `Filters`, makes sure the
derived tables are built (`analysis.build.ensure_built`), and prints Arrow tables with the
shared formatter (`tui.output`). JSON uses the DESIGN column names, times ISO 8601 UTC `Z`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from logonscope.storage import times as storage_times
from logonscope.tui.commands.session_views import (
    VIEW_HELP,
    VIEW_TABLES,
    iso_members,
    pairs,
    view_session,
)
from logonscope.tui.errors import UsageError
from logonscope.tui.format_names import FORMATS, TIMELINE_FORMATS

# What `--format table` shows of a session (every column goes to csv/json/jsonl).
TABLE_COLUMNS = (
    "session_id",
    "start",
    "end",
    "end_reason",
    "host_key",
    "user",
    "logon_kind",
    "outcome",
    "failure_reason",
    "src_ip",
    "src_host",
    "flags",
    "n_sources",
)
# `flags` in table output: one letter per set flag
FLAGS = (
    ("is_reconnect", "R"),
    ("admin", "A"),
    ("elevated", "E"),
    ("tunnelled", "T"),
    ("system", "S"),
)
USERS_TABLE = (
    "user",
    "sessions",
    "successes",
    "failures",
    "reconnects",
    "admin_sessions",
    "n_hosts",
    "logon_kinds",
    "n_src_ips",
    "first_seen",
    "last_seen",
)
USER_IPS_TABLE = (
    "user",
    "src_ip",
    "src_ip_class",
    "src_network",
    "src_country",
    "src_asn",
    "new_country",
    "new_asn",
    "successes",
    "failures",
    "hosts",
    "first_logon",
    "last_logon",
    "last_failure",
    "user_share",
    "rare_for_user",
    "case_users",
    "case_share",
)


def parse_time(option: str, text: str | None) -> dt.datetime | None:
    """ISO 8601 date or date-time; no zone means UTC; `Z` accepted. A time that is unreadable
    or out of range is a usage error (one line, exit 2)."""
    if text is None:
        return None
    try:
        return storage_times.parse_time(text)
    except ValueError as exc:
        raise UsageError(
            f"{option}: {exc} (ISO 8601, e.g. 2021-02-12 or 2021-02-12T12:34:25Z)"
        ) from None


def _common(parser: argparse.ArgumentParser, formats: tuple[str, ...] = FORMATS) -> None:
    parser.add_argument("--case", required=True, help="case folder")
    timelines = [f for f in formats if f in TIMELINE_FORMATS]
    parser.add_argument(
        "--format",
        choices=formats,
        default="table",
        help="timesketch: Timesketch JSONL; tle: Timeline Explorer CSV" if timelines else None,
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write to FILE (whole or not at all) instead of standard output",
    )


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", help="user in any form (CORP\\alice, alice@corp, Alice)")
    parser.add_argument("--ip", help="source address (any form; '-' = sessions without one)")
    parser.add_argument("--host", help="host, FQDN or short name")
    parser.add_argument("--failed", action="store_true", help="failed attempts only")
    parser.add_argument("--since", metavar="TIME", help="from this time (UTC unless zoned)")
    parser.add_argument("--until", metavar="TIME", help="until this time (UTC unless zoned)")
    parser.add_argument(
        "--kind",
        action="append",
        default=[],
        dest="kinds",
        help="logon kind (Interactive, Network, RemoteInteractive, ...); repeat",
    )
    parser.add_argument("--search", help="case-insensitive text in user/host/ip/...")
    parser.add_argument(
        "--all",
        action="store_true",
        help="include system sessions (machine accounts, services, DWM/UMFD)",
    )


def _view(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--view",
        choices=("investigator", "logon", "desktop"),
        default="investigator",
        help=VIEW_HELP,
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sessions",
        help="list logon sessions (one per attempt)",
        description="List logon sessions: every attempt to gain access, "
        "failed ones and reconnects included. System sessions are hidden "
        "unless --all. --format timesketch|tle writes a timeline: a record at each "
        "session's start and end.",
    )
    _common(p, FORMATS + TIMELINE_FORMATS)
    _filters(p)
    _view(p)
    p.set_defaults(func=run_sessions)

    p = sub.add_parser(
        "users",
        help="per-user summary of sessions",
        description="One row per user: sessions, failures, hosts, logon kinds, "
        "source addresses, first and last seen.",
    )
    _common(p)
    _filters(p)
    p.set_defaults(func=run_users)

    p = sub.add_parser(
        "user-ips",
        help="per user + source IP, with rarity (outlier IPs)",
        description="One row per user and source address: successful logons "
        "and failed attempts counted apart with their first/last, IP class and "
        "network, how rare the IP is for the user (user_share of their "
        "successful logons, rare_for_user: also true for an address they never "
        "logged on from) and across the case (case_users who logged on from it, "
        "case_share). Rarest first.",
    )
    _common(p)
    _filters(p)
    p.set_defaults(func=run_user_ips)

    p = sub.add_parser(
        "session",
        help="one session with its source events",
        description="One session: its columns, its source events (role, "
        "channel, event id, record id, time, evidence path) and activity. "
        "--format timesketch|tle writes its source events and activity as a timeline.",
    )
    p.add_argument("session_id", metavar="ID", help="session_id from `logonscope sessions`")
    _common(p, ("json", "table", *TIMELINE_FORMATS))
    _view(p)
    p.set_defaults(func=run_session)


def _open(case: str) -> Any:
    from logonscope.analysis.build import ensure_built
    from logonscope.storage.case import CaseError, connect

    try:
        ensure_built(case, progress=lambda msg: print(msg, file=sys.stderr))
        return connect(Path(case))
    except CaseError as exc:
        raise UsageError(str(exc)) from None


def _make_filters(args: argparse.Namespace) -> Any:
    from logonscope.analysis.queries import Filters

    since, until = parse_time("--since", args.since), parse_time("--until", args.until)
    if since and until and since > until:
        raise UsageError("--since is after --until")
    return Filters(
        user=args.user,
        ip=args.ip,
        host=args.host,
        failed=args.failed,
        since=since,
        until=until,
        kinds=tuple(args.kinds),
        show_system=args.all,
        search=args.search,
    )


def _for_humans(table: Any, columns: tuple[str, ...]) -> Any:
    """Table output only: times to the second (UTC), flags as letters, fewer columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "flags" in columns and all(name in table.column_names for name, _ in FLAGS):
        letters = [
            [letter if table[name][i].as_py() else "" for name, letter in FLAGS]
            for i in range(table.num_rows)
        ]
        table = table.append_column("flags", pa.array(["".join(x) for x in letters], pa.string()))
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            text = pc.strftime(
                table.column(i).cast(pa.timestamp("s", tz="UTC"), safe=False),
                format="%Y-%m-%d %H:%M:%S",
            )
            table = table.set_column(i, field.name, text)
    return table.select([c for c in columns if c in table.column_names])


def _print(table: Any, fmt: str, table_columns: tuple[str, ...], out: str | None = None) -> None:
    from logonscope.tui.output import write

    if fmt == "table":
        table = _for_humans(table, table_columns)
    with _output(out) as handle:
        write(table, fmt, handle)


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    """Standard output, or `--out FILE` written atomically (`tui.export.atomic_text`)."""
    if path is None:
        yield sys.stdout
        return
    from logonscope.tui.export import atomic_text

    try:
        with atomic_text(path) as handle:
            yield handle
    except FileNotFoundError as exc:
        raise UsageError(f"--out: {exc}") from None


def run_sessions(args: argparse.Namespace) -> int:
    from logonscope.analysis import queries, view_queries

    filters = _make_filters(args)  # bad input is refused before any build
    con = _open(args.case)
    if args.view == "investigator":
        _print(queries.sessions(con, filters), args.format, TABLE_COLUMNS, args.out)
        return 0
    members = args.format in ("json", "jsonl")  # nested: not for table or csv
    table = view_queries.view_sessions(con, args.view, filters, members=members)
    _print(iso_members(table), args.format, VIEW_TABLES[args.view], args.out)
    return 0


def run_users(args: argparse.Namespace) -> int:
    from logonscope.analysis import queries

    filters = _make_filters(args)  # bad input is refused before any build
    con = _open(args.case)
    _print(queries.users(con, filters), args.format, USERS_TABLE, args.out)
    return 0


def run_user_ips(args: argparse.Namespace) -> int:
    from logonscope.analysis import queries

    filters = _make_filters(args)  # bad input is refused before any build
    con = _open(args.case)
    _print(queries.user_ips(con, filters), args.format, USER_IPS_TABLE, args.out)
    return 0


def run_session(args: argparse.Namespace) -> int:
    import json

    import pyarrow as pa

    from logonscope.analysis import queries, view_queries
    from logonscope.tui.output import rows, write

    if args.out and args.format == "table":
        raise UsageError("--out: the table goes to the terminal; use --format json")
    con = _open(args.case)
    if args.view != "investigator":
        return view_session(con, args)
    if args.format in TIMELINE_FORMATS:
        return _session_timeline(con, args)
    detail = queries.session_detail(con, args.session_id)
    if detail is None:
        raise UsageError(f"no session {args.session_id!r} in {args.case}")
    detail.update(view_queries.related_ids(con, args.session_id, detail.get("host_key")))
    sources = detail.pop("sources")
    activity = detail.pop("activity")
    head = rows(pa.Table.from_pylist([detail]))[0]
    src_rows = rows(pa.Table.from_pylist(sources)) if sources else []
    act_rows = rows(pa.Table.from_pylist(activity)) if activity else []
    if args.format == "json":
        with _output(args.out) as out:
            json.dump(
                {**head, "sources": src_rows, "activity": act_rows},
                out,
                ensure_ascii=False,
                indent=1,
            )
            out.write("\n")
        return 0
    pairs(head)
    print("\nsources:")
    src_table = (
        pa.Table.from_pylist(sources).drop_columns(["evidence_sha256"])
        if sources
        else pa.table({"role": pa.array([], pa.string())})
    )
    write(src_table, "table")
    print(f"\nactivity: {len(act_rows)} event(s)")
    if activity:
        write(pa.Table.from_pylist(activity), "table")
    return 0


def _session_timeline(con: Any, args: argparse.Namespace) -> int:
    """The session's source events (with the key fields of each event) and its activity as
    one timeline."""
    import pyarrow as pa

    from logonscope.analysis import lookup, queries
    from logonscope.tui.timeline_export import records, write_records

    if queries.session_row(con, args.session_id).num_rows == 0:
        raise UsageError(f"no session {args.session_id!r} in {args.case}")
    sources = lookup.source_events(
        con, queries.session_sources(con, args.session_id), Path(args.case)
    )
    sources = sources.append_column(
        "session_id", pa.array([args.session_id] * sources.num_rows, pa.string())
    )
    timeline = records(sources, queries.session_activity(con, args.session_id))
    with _output(args.out) as out:
        write_records(timeline, args.format, out)
    return 0
