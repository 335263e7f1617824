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
    "plot",
    "tampering",
)
# Commands that ingest or build sessions: they take --executor/--scheduler/--workers.
BUILDS = (
    "ingest",
    "open",
    "sessions",
    "users",
    "user-ips",
    "session",
    "query",
    "import-activity",
    "plot",
    "tampering",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logonscope",
        description="Investigate Windows logons from EVTX evidence.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"logonscope.tui.commands.{name}").register(sub)
    for command in sub.choices.values():
        if command.get_default("func") is not None and command.prog.split()[-1] != "generate":
            command.add_argument(
                "--memory",
                metavar="SIZE",
                help="memory for DuckDB, shared by all its work in this command and its "
                "workers (e.g. 500MB, 2GB; default 1GB); more spills to the case folder",
            )
    for name in BUILDS:
        _executor_options(sub.choices[name])
        _place_options(sub.choices[name])
    return parser


def _place_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "where addresses are (offline; the case remembers the files and rebuilds when they change)"
    )
    group.add_argument(
        "--geoip",
        metavar="PATH",
        help="a MaxMind or DB-IP city/country .mmdb file: country and city of each public "
        "source address (e.g. GeoLite2-City.mmdb, dbip-city-lite.mmdb)",
    )
    group.add_argument(
        "--asn",
        metavar="PATH",
        help="a MaxMind or DB-IP ASN .mmdb file: autonomous system number and organisation "
        "(e.g. GeoLite2-ASN.mmdb, dbip-asn-lite.mmdb)",
    )


def _executor_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where the work runs (ingest and building sessions)")
    group.add_argument(
        "--executor",
        choices=("local", "dask"),
        default=None,
        help="local: worker processes on this machine (default); dask: a Dask distributed "
        "cluster (pip install 'logonscope[dask]')",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler to use (e.g. tcp://10.0.0.5:8786); implies --executor dask. "
        "Every worker needs the case folder at the same path",
    )
    group.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes (local), or the size of a Dask LocalCluster on this machine "
        "(default: all cores)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        if getattr(args, "memory", None):
            _set_memory(args.memory)
        if hasattr(args, "executor"):
            _set_executor(args)
        if getattr(args, "geoip", None) or getattr(args, "asn", None):
            _set_places(args.geoip, args.asn)
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"logonscope: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("logonscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if not _out_of_memory(exc):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(
            f"logonscope: out of memory within the --memory budget ({first}); "
            "give it more (e.g. --memory 2GB) or fewer --jobs",
            file=sys.stderr,
        )
        return 1
    finally:
        if getattr(args, "geoip", None) or getattr(args, "asn", None):
            from logonscope.storage import geoip as places

            places.forget_choice()  # the choice is this command's (tests run many in one process)


def _out_of_memory(exc: BaseException) -> bool:
    """DuckDB ran out of its memory limit (here or in a worker process): a setting to change,
    not a crash to show as a traceback."""
    import duckdb

    return isinstance(exc, duckdb.OutOfMemoryException)


def _set_memory(text: str) -> None:
    from logonscope.storage.connection import parse_size, set_memory

    try:
        set_memory(parse_size(text))
    except ValueError as exc:
        raise UsageError(f"--memory: {exc}") from None


def _set_places(geoip: str | None, asn: str | None) -> None:
    from logonscope.storage import geoip as places

    for option, path in (("--geoip", geoip), ("--asn", asn)):
        try:
            places.choose(**{option.lstrip("-"): path})
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None


def _set_executor(args: argparse.Namespace) -> None:
    kind = args.executor or ("dask" if args.scheduler else None)
    if kind is None and args.workers is None:
        return  # the environment's choice, or the default
    # imported only for a choice: multiprocessing and the process pool cost `open` ~30 ms
    # of CPU before its first screen, which runs no worker
    from logonscope.storage.executors import configure

    try:
        configure(kind or "local", args.scheduler, args.workers)
    except ValueError as exc:
        raise UsageError(f"--executor: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
