"""The `logonscope` command line: a thin front end over storage and analysis.

Each subcommand lives in its own module under `tui/commands/` and exposes
`register(subparsers)` (adds its parser, sets `func`). Heavy imports (textual, duckdb,
pyarrow) happen inside the commands so `logonscope --help` stays instant.
Exit codes (DESIGN 3): 0 success, 2 bad usage or input, 1 failure.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from logonscope.tui.errors import UsageError

__all__ = ["UsageError", "build_parser", "main"]

# Order is the order shown in --help.
COMMANDS = (
    "ingest",
    "query",
    "sessions",
    "open",
    "demo",
    "generate",
    "import_activity",
    "activity",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logonscope",
        description="Investigate Windows logons from EVTX evidence.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"logonscope.tui.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"logonscope: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("logonscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
