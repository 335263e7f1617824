"""`logonscope ingest PATH... --case DIR`: build or update a case, progress on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "ingest",
        help="add EVTX evidence (files, folders, zips) to a case",
        description="Add EVTX evidence to a case folder. Files already in the case (same "
        "SHA-256) are skipped; records already stored from another copy are counted once.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="EVTX files, folders or zips")
    parser.add_argument("--case", required=True, help="case folder (created if new)")
    parser.add_argument(
        "--jobs", type=int, default=None, help="worker processes (default: all cores)"
    )
    parser.add_argument(
        "--parser",
        choices=("auto", "evtx", "python-evtx"),
        default="auto",
        help="auto: evtx, python-evtx for what it rejects (default)",
    )
    parser.add_argument(
        "--password", default=None, help="password of encrypted zip archives (e.g. CyLR)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="only store the events; the first command that reads sessions builds them "
        "(open, sessions, users, user-ips, session, or query over a derived table)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from logonscope.storage.case import CaseError, CaseIOError
    from logonscope.storage.ingest import ingest
    from logonscope.tui.errors import UsageError
    from logonscope.tui.output import visible
    from logonscope.tui.progress import IngestProgress

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    try:
        with IngestProgress(enabled=not args.quiet) as bar:
            report = ingest(
                args.paths,
                args.case,
                jobs=args.jobs or args.workers,
                parser=args.parser,
                progress=bar.update,
                password=args.password,
            )
    except CaseError as exc:
        raise UsageError(str(exc)) from None
    except CaseIOError as exc:  # read-only case, disk full: one line, exit 1
        print(f"logonscope: {visible(str(exc))}", file=sys.stderr)
        return 1
    print_report(report)
    if not report.usable:
        print("logonscope: no usable evidence", file=sys.stderr)
        return 2
    if args.no_build:
        from logonscope.storage import geoip

        geoip.remember(Path(args.case), geoip.databases(Path(args.case)))  # for the build
    else:
        from logonscope.analysis.build import ensure_built

        def say(msg: str) -> None:
            print(msg, file=sys.stderr)

        built = ensure_built(args.case, progress=None if args.quiet else say)
        if built.rebuilt and args.quiet:
            say(built.summary())
        if built.failed:
            return 1  # stored, but some hosts' sessions are missing (the summary names them)
    return 0


def print_report(report) -> None:
    """One line per problem file, then a summary: what a responder checks first."""
    from logonscope.tui.output import visible

    err = sys.stderr
    for result in report.files:
        if result.status == "rejected":
            print(f"skipped {visible(result.source)}: {visible(result.reason)}", file=err)
        elif result.status == "stored" and (result.skipped or result.errors):
            print(
                f"warning {visible(result.source)}: {result.skipped} records skipped; "
                f"{visible('; '.join(result.errors[:3]))}",
                file=err,
            )
    stored, known = report.of("stored"), report.of("known")
    records = report.records
    rate = records / report.seconds if report.seconds > 0 else 0
    if stored:
        duplicates = sum(f.duplicates for f in stored)
        skipped = sum(f.skipped for f in stored)
        print(
            f"ingested {len(stored)} new file(s): {records:,} records read, {report.stored:,} stored, "
            f"{duplicates:,} duplicates, {skipped:,} skipped in {report.seconds:.1f} s "
            f"({rate:,.0f} records/s)",
            file=err,
        )
    else:
        print("nothing new to ingest", file=err)
    if known:
        print(f"{len(known)} file(s) already in the case", file=err)
