"""`logonscope demo [--case DIR] [--no-tui] [--fresh]`: synthetic evidence → case → app.

Generates the default scenario set (genuine EVTX written by `storage.scenarios`) into a
folder beside the case (`<case>-evidence/`), ingests it, builds the analysis and opens the
app. The default case lives in the user cache (`$XDG_CACHE_HOME/logonscope/demo-case`, else
`~/.cache/...`) and is reused on the next run unless `--fresh`. No EVTX parsing or SQL here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def default_case() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "logonscope" / "demo-case"


def evidence_dir(case: Path) -> Path:
    return case.parent / f"{case.name}-evidence"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo",
        help="generate demo evidence, build a case from it and open the app",
        description="Write the default synthetic scenario set as EVTX beside the case "
        "(<case>-evidence/), ingest it, build the analysis and open the app. The default case "
        f"({default_case()}) is reused unless --fresh.",
    )
    parser.add_argument("--case", help="case folder (default: in the user cache)")
    parser.add_argument("--no-tui", action="store_true", help="prepare the case and print its path")
    parser.add_argument("--fresh", action="store_true", help="regenerate evidence and case")
    parser.set_defaults(func=run)


def generate(out: Path) -> object:
    """Write the default demo scenario set (fixed seed: the same demo every time) into `out`."""
    from logonscope.storage import scenarios

    return scenarios.generate(out, seed=0)


def prepare(case: Path, fresh: bool = False, quiet: bool = False) -> Path:
    """A built demo case at `case` (reused when already there and not `fresh`)."""
    from logonscope.analysis.build import ensure_built
    from logonscope.storage.case import is_case
    from logonscope.storage.ingest import ingest
    from logonscope.tui.commands.ingest import print_report
    from logonscope.tui.errors import UsageError
    from logonscope.tui.progress import IngestProgress

    evidence = evidence_dir(case)
    if fresh:
        for folder in (case, evidence):
            if folder.exists() and (is_case(folder) or folder == evidence):
                shutil.rmtree(folder)
    if case.exists() and not is_case(case) and any(case.iterdir()):
        raise UsageError(f"{case}: not a logonscope case and not empty; name a new folder")
    if not is_case(case) or not (case / "evidence.parquet").exists():
        if not evidence.exists() or not any(evidence.rglob("*.evtx")):
            if not quiet:
                print(f"writing demo evidence to {evidence}", file=sys.stderr)
            generate(evidence)
        with IngestProgress(enabled=not quiet) as bar:
            report = ingest([evidence], case, progress=bar.update)
        if not quiet:
            print_report(report)
    ensure_built(case, progress=None if quiet else (lambda m: print(m, file=sys.stderr)))
    return case


def run(args: argparse.Namespace) -> int:
    case = Path(args.case) if args.case else default_case()
    prepare(case, fresh=args.fresh)
    if args.no_tui:
        print(case)
        return 0
    from logonscope.tui.commands.open import launch

    return launch(case, label="demo")
