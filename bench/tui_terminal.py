#!/usr/bin/env python3
"""TUI latency as a person sees it, in a real terminal: `python bench/tui_terminal.py [--events N]`.

The app runs in a detached tmux session (`logonscope open --case C`, TERM=xterm-256color);
for each key the bench sends it with `tmux send-keys` and polls `tmux capture-pane` until the
screen has not changed for `--quiet` seconds (0.6 s). The key's time is *settled*: from
sending it to the last screen change before that stillness (the first change is printed
too). Anything that animates while idle (a blinking cursor, a spinner) would never settle:
such a key is capped at 5 s and shows up as an outlier.

Actions (each `--runs` times unless said): cursor Down/Up in Users (the preview panes follow)
and in Sessions (the detail follows); drill down (Enter on a user, then Enter on its first
address: the sessions of that address) and back (Esc); Tab; sort (`o` opens the column
picker, Enter reverses the Sessions order); filter (`x`, failures only on and off); all
sessions of the case (`s`, then Esc). First screen: from starting the process to the Users
rows on screen, and to the whole first screen settled (every pane loaded), `--starts` starts
(3; `--no-keys`: only those).
The `CPU s` rows are the app's CPU time (all threads; milliseconds in the `ms` columns)
until the first screen settled, and for all the keys of one run: a figure the machine's
load hardly moves, to compare versions on a busy machine.

The case (`bulk` scenario, N events over max(4, N/100k) hosts, seed 1) is generated with
`logonscope generate` and ingested once into /tmp/logonscope-term-<N>/ and reused; `--case`
measures an existing case instead. `--compare REV` (repeatable) runs the code at git REV too,
alternating with the working tree's (or `--this REV`) in one run, and prints the p95 ratio per
action against the first REV, and with several REVs one median/p95 column per version: on a
shared, noisy machine a before/after ratio from one run says more than two runs apart. Not a
test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from revisions import code_at  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parent.parent
CAP = 5.0  # a key that has not settled after this long counts as this long
TMUX = ["tmux", "-L", f"lsbench{os.getpid()}"]  # a server of our own: nobody else's sessions


def logonscope(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "logonscope.tui.cli", *args], cwd=ROOT, check=True)


def prepare(case: Path, events: int, hosts: int | None, seed: int) -> None:
    """Generate and ingest the case once (later runs reuse it), then build its analysis."""
    from logonscope.analysis.build import ensure_built
    from logonscope.storage.case import is_case

    evidence = case.parent / "evidence"
    if not is_case(case):
        if not (evidence / "truth.json").exists():
            hosts = hosts or max(4, events // 100_000)
            logonscope(
                "generate", "--out", str(evidence), "--scenario", "bulk",
                "--hosts", str(hosts), "--events", str(events), "--seed", str(seed),
            )  # fmt: skip
        logonscope("ingest", str(evidence), "--case", str(case))
    ensure_built(case)


def case_size(case: Path) -> dict[str, int]:
    from logonscope.storage.case import connect

    con = connect(case)
    try:
        return {
            name: con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0]  # fixed names
            for name in ("events", "sessions", "users")
        }
    finally:
        con.close()


def first_user(case: Path) -> str:
    """The text the Users pane shows first (its top row's user), to tell when it is up."""
    from logonscope.analysis import queries
    from logonscope.storage.case import connect

    con = connect(case)
    try:
        table = queries.users(con, queries.Filters())
    finally:
        con.close()
    return str(table.column("user")[0].as_py()) if table.num_rows else "no user"


class Terminal:
    """One detached tmux session running a command at a fixed size."""

    def __init__(self, command: str, size: tuple[int, int]) -> None:
        self.name = f"lsbench{os.getpid()}_{time.monotonic_ns()}"
        width, height = size
        for attempt in range(5):  # a server exiting as its last session closed: try again
            started = subprocess.run(
                [*TMUX, "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                 f"TERM=xterm-256color {command}"],
                capture_output=True, text=True,
            )  # fmt: skip
            if started.returncode == 0:
                break
            time.sleep(0.5 * (attempt + 1))
        else:
            raise SystemExit(f"tmux new-session failed: {started.stderr}")
        self.started = time.perf_counter()

    def screen(self) -> str:
        return subprocess.run(
            [*TMUX, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        ).stdout

    def send(self, key: str) -> None:
        subprocess.run([*TMUX, "send-keys", "-t", self.name, key], check=True)

    def wait_for(self, text: str, timeout: float = 180.0) -> float:
        """Seconds from the start until `text` is on screen."""
        while text not in self.screen():
            if time.perf_counter() - self.started > timeout:
                raise SystemExit(f"never saw {text!r}:\n{self.screen()}")
            time.sleep(0.01)
        return time.perf_counter() - self.started

    def settle(
        self, since: float, quiet: float, before: str | None = None, still_from: float | None = None
    ) -> tuple[float, float]:
        """(first change, last change) in seconds after `since`, once the screen has been
        still for `quiet` seconds counted from `still_from` (default `since`) or the last
        change (NaN first change: nothing changed)."""
        previous = self.screen() if before is None else before
        quiet_from = since if still_from is None else still_from
        first = last = None
        while True:
            time.sleep(0.005)
            now_screen = self.screen()
            now = time.perf_counter()
            if now_screen != previous:
                previous, last = now_screen, now
                first = first if first is not None else now
            if now - (last or quiet_from) > quiet or now - quiet_from > CAP:
                break
        nan = float("nan")
        return (first - since if first else nan, last - since if last else 0.0)

    def key(self, key: str, quiet: float) -> tuple[float, float]:
        before = self.screen()
        sent = time.perf_counter()
        self.send(key)
        return self.settle(sent, quiet, before)

    def cpu(self) -> float:
        """CPU seconds (user + system, every thread) the app has used so far: unlike wall
        times, hardly changed by what else runs on the machine."""
        pane = subprocess.run(
            [*TMUX, "display", "-p", "-t", self.name, "#{pane_pid}"], capture_output=True, text=True
        ).stdout.strip()
        pids = [pane] if pane else []
        total = 0.0
        while pids:  # the pane's process and its children (a shell may run the app)
            pid = pids.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except (OSError, IndexError, ValueError):
                continue
            pids.extend(children)
        return total

    def close(self) -> None:
        subprocess.run([*TMUX, "kill-session", "-t", self.name], capture_output=True)


def command(case: Path, sources: Path | None = None) -> str:
    """The app over `case`; `sources`: run another version of the code (see `checkout`)."""
    env = f"PYTHONPATH={shlex.quote(str(sources))} " if sources else ""
    app = (
        f"{shlex.quote(sys.executable)} -m logonscope.tui.cli open --case {shlex.quote(str(case))}"
    )
    return env + app


def checkout(rev: str) -> Path:
    """The project's code at git `rev`, unpacked as a `logonscope` package folder that wins
    over the installed one on PYTHONPATH: a before/after comparison in one run."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    target = Path(f"/tmp/logonscope-term-src-{sha}")
    if not (target / "logonscope" / "tui").is_dir():
        code_at(sha, target)
    return target


def compiled(sources: Path | None) -> None:
    """Compile the code of a version (None: the working tree's) as an install does: an
    editable install where no process writes bytecode (PYTHONDONTWRITEBYTECODE) compiles
    what it imports at every start, ~0.1 s of CPU before the first screen, and a version
    compiled by an earlier `dev.py test` and one not would differ by that alone."""
    folders = (
        [sources] if sources else [ROOT / name for name in ("api", "storage", "analysis", "tui")]
    )
    subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, folders)], check=True)


Samples = dict[str, list[tuple[float, float]]]


def first_screen(case: Path, size: tuple[int, int], quiet: float, ready: str, sources, add):
    term = Terminal(command(case, sources), size)
    try:
        shown = term.wait_for(ready)
        _, settled = term.settle(term.started, quiet, still_from=term.started + shown)
        add("first screen: Users rows", (shown, shown))
        add("first screen: settled", (shown, max(settled, shown)))
        cpu = term.cpu()
        add("CPU s: first screen settled", (cpu, cpu))
    finally:
        term.close()


def actions(case, runs, size, quiet, ready, sources, add, warm=2.0, idle=False) -> None:
    """One app session through every action, `runs` samples each (about); the keys start
    once the screen has been still for `warm` seconds. Each key's CPU time is counted too
    (`CPU ms:` rows; the app's background read of the sessions, when still running, adds
    to the keys pressed meanwhile: `idle` waits for it to end)."""
    term = Terminal(command(case, sources), size)
    try:
        term.wait_for(ready)
        term.settle(term.started, warm)
        if idle:  # until the app's background work is done (2 s with under 30 ms of CPU)
            while time.perf_counter() - term.started < 180:
                before = term.cpu()
                time.sleep(2.0)
                if term.cpu() - before < 0.03:
                    break
        cpu = term.cpu()

        def timed(name: str, key: str) -> None:
            before = term.cpu()
            add(name, term.key(key, quiet))
            used = term.cpu() - before
            add(f"CPU ms: {name}", (used, used))

        half = max(runs // 2, 1)
        for key in ["Down"] * half + ["Up"] * half:
            timed("cursor in Users", key)
        for _ in range(half):
            timed("drill down: Enter (user → its addresses)", "Enter")
            timed("drill down: Enter (address → its sessions)", "Enter")
            timed("back: Esc", "Escape")
            timed("back: Esc", "Escape")
        for _ in range(4 * max(runs // 4, 1)):  # whole turns: back in Users
            timed("Tab (next pane)", "Tab")
        for key in ("Tab", "Tab"):  # → Sessions
            term.key(key, quiet)
        for key in ["Down"] * half + ["Up"] * half:
            timed("cursor in Sessions", key)
        for _ in range(half):
            timed("sort: o (column picker opens)", "o")
            timed("sort: Enter (Sessions reversed)", "Enter")
        for _ in range(runs):
            timed("filter: x (failures only on / off)", "x")
        for _ in range(half):
            timed("all sessions: s", "s")
            timed("back: Esc", "Escape")
        used = term.cpu() - cpu
        add("CPU s: every key above, one app", (used, used))
    finally:
        term.close()


def measure(
    case: Path,
    runs: int,
    size: tuple[int, int],
    quiet: float,
    variants: dict[str, Path | None],
    warm: float = 2.0,
    idle: bool = False,
    starts: int = 3,
    keys: bool = True,
) -> dict[str, Samples]:
    """Figures per variant; with two variants their runs alternate (two rounds each, and
    the starts of a round one by one), so a machine that gets busier halfway weighs on both
    alike."""
    ready = first_user(case)
    samples: dict[str, Samples] = {name: {} for name in variants}
    rounds = 1 if len(variants) == 1 else 2
    for round_ in range(rounds):
        per_round = starts if rounds == 1 else (starts - starts // 2, starts // 2)[round_]
        for _ in range(per_round):
            for name, sources in variants.items():

                def add(action: str, figures: tuple[float, float], name: str = name) -> None:
                    samples[name].setdefault(action, []).append(figures)

                first_screen(case, size, quiet, ready, sources, add)
        if not keys:
            continue
        for name, sources in variants.items():

            def add(action: str, figures: tuple[float, float], name: str = name) -> None:
                samples[name].setdefault(action, []).append(figures)

            actions(case, max(runs // rounds, 2), size, quiet, ready, sources, add, warm, idle)
    return samples


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summary(pairs: list[tuple[float, float]]) -> dict:
    firsts = [f for f, _ in pairs if f == f]
    settled = [s for _, s in pairs]
    return {
        "n": len(settled),
        "first_change_median_ms": 1000 * statistics.median(firsts) if firsts else None,
        "median_ms": 1000 * statistics.median(settled),
        "p95_ms": 1000 * p95(settled),
        "max_ms": 1000 * max(settled),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    parser.add_argument("--hosts", type=int, help="hosts (default max(4, events / 100k))")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--case", help="measure this case (default /tmp/logonscope-term-<N>/case)")
    parser.add_argument("--runs", type=int, default=20, help="samples per action")
    parser.add_argument("--size", default="120x36", help="terminal size WxH")
    parser.add_argument("--quiet", type=float, default=0.6, help="stillness that ends a key (s)")
    parser.add_argument(
        "--compare",
        metavar="REV",
        action="append",
        default=[],
        help="also run the code at git REV, interleaved (repeatable: one column per lever)",
    )
    parser.add_argument(
        "--this", metavar="REV", help="measure the code at git REV instead of the working tree"
    )
    parser.add_argument(
        "--warm", type=float, default=2.0, help="stillness before the first key (s)"
    )
    parser.add_argument(
        "--idle", action="store_true", help="first keys once the app's background work is done"
    )
    parser.add_argument(
        "--starts", type=int, default=3, help="first-screen starts per version (default 3)"
    )
    parser.add_argument(
        "--no-keys", action="store_true", help="only the starts: no key is measured"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    case = Path(args.case or f"/tmp/logonscope-term-{args.events}/case")
    if not args.case:
        prepare(case, args.events, args.hosts, args.seed)
    width, height = (int(v) for v in args.size.lower().split("x"))
    size = case_size(case)
    this = checkout(args.this) if args.this else None
    variants: dict[str, Path | None] = {"now": this}
    if args.compare:
        variants = {rev: checkout(rev) for rev in args.compare} | {"now": this}
    for sources in variants.values():
        compiled(sources)
    samples = measure(
        case,
        args.runs,
        (width, height),
        args.quiet,
        variants,
        args.warm,
        args.idle,
        args.starts,
        not args.no_keys,
    )

    print(
        f"case {case}: {size['events']:,} events, {size['sessions']:,} sessions, "
        f"{size['users']:,} users; terminal {args.size}, settled = last change before "
        f"{args.quiet} s still"
    )
    report: dict = {"case": str(case), "size": size, "terminal": args.size, "variants": {}}
    for variant, found in samples.items():
        report["variants"][variant] = {name: summary(pairs) for name, pairs in found.items()}
    head = f"{'action':44} {'n':>3} {'first ms':>9} {'median ms':>10} {'p95 ms':>7} {'max ms':>7}"
    base = args.compare[0] if args.compare else None
    if base:
        head += f"   {'vs ' + base[:12]:>16}"
    print(head)
    for name, row in report["variants"]["now"].items():
        first = f"{row['first_change_median_ms']:.0f}" if row["first_change_median_ms"] else "-"
        line = (
            f"{name:44} {row['n']:>3} {first:>9} {row['median_ms']:>10.0f} "
            f"{row['p95_ms']:>7.0f} {row['max_ms']:>7.0f}"
        )
        if base:
            old = report["variants"][base].get(name)
            if old:
                line += (
                    f"   p95 {old['p95_ms']:>5.0f} → ×{row['p95_ms'] / max(old['p95_ms'], 1):.2f}"
                    f" (median {old['median_ms']:.0f})"
                )
        print(line)
    if len(variants) > 2:  # one column per version, in the order given: what each step moved
        names = list(variants)
        print("\nmedian / p95 ms per version: " + " → ".join(names))
        for name in report["variants"]["now"]:
            cells = []
            for variant in names:
                row = report["variants"][variant].get(name)
                cells.append(f"{row['median_ms']:.0f}/{row['p95_ms']:.0f}" if row else "-")
            print(f"{name:44} " + "  ".join(f"{c:>11}" for c in cells))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
