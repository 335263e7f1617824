"""`logonscope import-activity FILE --case DIR`: attribute another tool's timeline rows."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import-activity",
        help="import a CSV/JSONL timeline (time, host, user, description) and attribute it",
        description="Import rows from another tool's timeline (file access, browser, LNK, "
        "prefetch, ...) as CSV with a header or JSONL, with at least time, host, user and "
        "description; they are attributed to sessions by host, user and time. Times without "
        "an offset are taken as UTC.",
    )
    parser.add_argument("file", help="CSV or JSONL file")
    parser.add_argument("--case", required=True, help="case folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from logonscope.analysis.build import build
    from logonscope.storage.case import CaseError
    from logonscope.storage.imports import import_timeline
    from logonscope.tui.errors import UsageError
    from logonscope.tui.output import visible

    try:
        report = import_timeline(args.file, args.case)
    except CaseError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror or exc}") from None
    name = visible(str(args.file))
    for line, reason in report.bad:
        print(f"{name}:{line}: skipped: {visible(reason)}", file=sys.stderr)
    if report.already:
        print(f"{name}: already imported", file=sys.stderr)
        return 0
    if not report.rows:
        print(f"{name}: no usable rows", file=sys.stderr)
        return 2
    build(args.case, force=True)
    print(f"{name}: imported {report.rows:,} rows, {len(report.bad)} skipped", file=sys.stderr)
    return 0
