"""`logonscope open [PATH... | --case DIR]`: ingest what is new, then the Textual app.

- `open PATH...` ingests new evidence into `--case` (default `./logonscope-case`), rebuilds the
  analysis when the evidence changed, then opens the app (progress and cancel on screen);
- `open --case DIR` opens an existing case;
- `open` alone opens the built-in demo (`logonscope demo`).

This module only wires arguments to `tui.app.make_app`; it does not parse EVTX or query.
"""

from __future__ import annotations

import argparse
import gc
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by `launch`, after the collector is off
    from logonscope.tui.app import LogonscopeApp

DEFAULT_CASE = "logonscope-case"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "open",
        help="open evidence or a case in the terminal workstation (no arguments: the demo)",
        description="Ingest what is new in PATH... (files, folders, zips) into the case, build "
        "the analysis, and open the app. With --case only, open that case. With nothing, open "
        f"the built-in demo. The default case for PATH... is ./{DEFAULT_CASE}.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="EVTX files, folders or zips")
    parser.add_argument("--case", help=f"case folder (default for PATH...: ./{DEFAULT_CASE})")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the analysis tables")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from logonscope.storage.case import CaseError, is_case, require_case
    from logonscope.tui.errors import UsageError

    if not args.paths and not args.case:
        from logonscope.tui.commands import demo

        return demo.run(argparse.Namespace(case=None, no_tui=False, fresh=False))
    case = Path(args.case or DEFAULT_CASE)
    if args.paths:
        missing = [p for p in args.paths if not Path(p).exists()]
        if missing:
            raise UsageError(f"no such file or folder: {', '.join(missing)}")
        if case.exists() and not is_case(case) and any(case.iterdir()):
            raise UsageError(f"{case}: not a logonscope case and not empty; name a new folder")
    else:
        try:
            require_case(case)
        except CaseError as exc:
            raise UsageError(str(exc)) from None
    return launch(case, paths=args.paths, build=True if args.rebuild else None)


def _is_stale(case: Path) -> bool:
    from logonscope.analysis.build_state import is_stale

    return is_stale(case)


def launch(
    case: Path, paths: list[str] | None = None, build: bool | None = None, label: str | None = None
) -> int:
    """Run the app over `case` in this terminal; its exit status becomes ours."""
    # Importing the app, Textual, DuckDB and Arrow makes ~10^5 objects that live as long as
    # the app; the collector's passes over them meanwhile are ~7 % of the imports' CPU. Off
    # until the app runs (it freezes them out of later passes once its first screen is up).
    gc.disable()
    try:
        app = _made_app(case, paths, build, label)
    finally:
        # what the imports made lives as long as the app: out of the collector's full passes
        # (one came while the first screen was composed: ~25 ms over ~55k objects)
        gc.freeze()
        gc.enable()
    code = app.run()
    if app.message:
        print(f"logonscope: {app.message}", file=sys.stderr)
    return int(code or app.return_code or 0)


def _made_app(
    case: Path, paths: list[str] | None, build: bool | None, label: str | None
) -> LogonscopeApp:
    backend = None
    if not paths and build is None:
        from logonscope.storage.case import is_case
        from logonscope.tui.backend import Backend, FilterState

        build = False
        if is_case(case) and (case / "evidence.parquet").exists():
            # Three things at once before the first screen: whether the analysis is stale
            # (read from the files, ~25 ms), the first Users rows (from the summary file),
            # and importing Textual. The rows are dropped if a rebuild has to come first.
            with ThreadPoolExecutor(1, thread_name_prefix="logonscope-stale") as pool:
                stale = pool.submit(_is_stale, case)
                backend = Backend(case)
                backend.prefetch_users(FilterState())
                from logonscope.tui.app import make_app

                build = stale.result()
            if build:
                backend = None
    from logonscope.tui.app import make_app

    return make_app(case, paths=paths, build=build, label=label, backend=backend)
