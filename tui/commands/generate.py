"""`logonscope generate --out DIR`: write synthetic EVTX evidence and its truth.json.

A thin front end over `storage.scenarios.generate`; prints what it wrote. Must not build
events itself.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    from logonscope.storage.scenario_names import SCENARIOS

    parser = sub.add_parser(
        "generate",
        help="write synthetic EVTX evidence with ground truth (tests, demo, benchmarks)",
        description="Write genuine EVTX files for realistic multi-host scenarios, deterministic "
        "by --seed, with truth.json (the expected sessions and activity attribution) beside "
        "them. Without --scenario: a mixed set of every scenario but bulk (what the demo uses). "
        "Files roll over at --max-mb (default 20, Windows' default Security log size).",
    )
    parser.add_argument(
        "--out", required=True, help="output folder (created; must be new or empty)"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        metavar="NAME",
        help=f"repeatable; one of: {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--hosts", type=int, default=None, help="number of hosts")
    parser.add_argument(
        "--events",
        type=int,
        default=None,
        help="records to write (adds bulk when no --scenario names it)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--max-mb", type=float, default=20.0, help="maximum size of one EVTX file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from logonscope.storage.scenarios import generate
    from logonscope.tui.errors import UsageError

    if args.hosts is not None and args.hosts < 1:
        raise UsageError("--hosts must be at least 1")
    if args.events is not None and args.events < 1:
        raise UsageError("--events must be at least 1")
    if args.max_mb * 1024 * 1024 < 4096 + 65536:
        raise UsageError("--max-mb must hold at least one 64 KiB chunk")
    try:
        result = generate(
            args.out,
            args.scenario,
            hosts=args.hosts,
            events=args.events,
            seed=args.seed,
            max_bytes=int(args.max_mb * 1024 * 1024),
        )
    except (ValueError, FileExistsError) as exc:
        raise UsageError(str(exc)) from None
    for f in result.files:
        print(f"{f['records']:>10,}  {f['file']}")
    rate = result.records / result.seconds if result.seconds else 0.0
    print(
        f"{result.records:,} records in {len(result.files)} files, {result.sessions:,} sessions, "
        f"{result.activity:,} activity events -> {result.truth} "
        f"({result.seconds:.1f} s, {rate:,.0f} records/s)"
    )
    sys.stdout.flush()
    return 0
