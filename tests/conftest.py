"""Shared test fixtures: where the real evidence lives, and how to run the CLI.

Determinism: UTC everywhere, an isolated HOME. Tests that read the real samples in
../shared/evidence (or `$LOGONSCOPE_EVIDENCE`, which also lets a run pretend they are absent)
carry the `evidence` marker and skip with a reason when the folder is absent (it is never
copied into the project); the run ends by saying how many of them ran. Everything else builds
its input with the project's own generator.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import headless

headless.install()  # Pilot apps draw what a test looks at, not every frame in between


def _duckdb_one_thread() -> None:
    """Every DuckDB connection a test process opens runs one thread unless it asks for more.

    DuckDB's default is a thread per core, and xdist already runs a worker per core (or
    more): the extra threads only contend. Same-time pairs on the build-heavy modules:
    -8 % CPU. Worker processes (ingest, build executors) pass their own count and keep it."""
    import duckdb

    connect = duckdb.connect

    @functools.wraps(connect)
    def one_thread(database: object = ":memory:", *args: object, **kwargs: Any) -> Any:
        config = dict(kwargs.pop("config", None) or {})
        config.setdefault("threads", 1)
        return connect(database, *args, config=config, **kwargs)

    duckdb.connect = one_thread


_duckdb_one_thread()

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = Path(os.environ.get("LOGONSCOPE_EVIDENCE") or ROOT.parent / "shared" / "evidence")

os.environ["TZ"] = "UTC"

_current: list[pytest.Item] = []  # the test being run, so `evidence()` can check its marker


def evidence(relative: str) -> Path:
    """A real sample from the evidence folder, or a skip saying it is missing.

    Only tests marked `evidence` may read it, so the count the run prints is honest."""
    if _current and _current[-1].get_closest_marker("evidence") is None:
        raise AssertionError(f"{_current[-1].nodeid} reads real evidence: mark it `evidence`")
    path = EVIDENCE / relative
    if not path.exists():
        pytest.skip(f"real evidence not available: {path} (the evidence folder is absent)")
    return path


BELKASOFT = "AndrewRathbun__DFIRArtifactMuseum/Windows/EventLogs/Win10/BelkasoftCTF_InsiderThreat"
RDPAUTH = "Velocidex__velociraptor/artifacts/testdata/files"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _current.append(item)
    try:
        return (yield)
    finally:
        _current.pop()


# The longest tests and groups, longest first (CPU seconds measured on the full suite): under
# xdist they start first, so the two workers end together on short tests instead of one of
# them finishing a long test alone. A test not listed keeps its place after these.
LONGEST_FIRST = (
    "tests/test_executors.py",  # one Dask cluster for the module (xdist_group)
    "tests/test_ingest_real.py",  # every real sample ingested once for the module (xdist_group)
    # builds the truth tests' shared case early (tests.cases.truth_case), while the other
    # worker is busy: the rest of the truth tests then find it built instead of waiting
    "tests/test_sessions_truth.py::test_bulk_scenario_equals_truth",
    "tests/test_sessions_cli.py::test_build_is_skipped_when_evidence_is_unchanged",
    "tests/test_scenarios.py::test_generate_a_multi_chunk_set_that_both_parsers",
    "tests/test_build_case.py",
    "tests/test_attribution.py::test_import_attributes_good_rows",
    "tests/test_fuzz.py",
    "tests/test_hostile_storage.py::test_a_parser_crash_in_a_worker",
    "tests/test_bad_input.py::test_kill_9_during_ingest",
    "tests/test_tui_app_open.py::test_open_paths_ingests_and_builds",
    "tests/test_evtx_writer.py::test_random_events_read_back_exactly",
    "tests/test_scenarios_rdp_sources.py::test_a_gateway_log_added_later",
    "tests/test_tui_app_open.py::test_demo_no_tui_builds_the_demo_case",
    # every filter state x every user, held vs plain (~6 CPU s): ran last on a worker before
    "tests/test_tui_backend_held.py::test_held_sessions_answer_like_the_case",
    # Pilot tests that run several checks in one app (~5-12 s of CPU each)
    "tests/test_tui_app.py::test_browsing_the_demo_case",
    "tests/test_tui_app.py::test_dialogs_help_and_quit",
    "tests/test_tui_frictions.py::test_the_demo_case",
    "tests/test_tui_frictions.py::test_the_brute_force_case",
    "tests/test_tui_host_timeline.py::test_the_host_timeline_of_the_demo_case",
    "tests/test_sessions_truth.py",
    "tests/test_attribution_truth.py",
    # 2.5-5 CPU s or 4-9 s of wall each (python-evtx, a Pilot app's waits, a per-worker
    # module case): they ran last on one worker while the others had finished (up to 25 s
    # alone at the end of a run at load 10)
    "tests/test_evtx_writer.py::test_python_evtx_rendering_is_the_same_as_record_xml",
    "tests/test_tui_hostile.py",
    "tests/test_tui_unattributed.py::test_the_system_service_case_at_120x36",
    "tests/test_users_selection.py",
    "tests/test_tui_demo.py",
    "tests/test_evtx_writer.py::test_a_multi_chunk_multi_file_set",
    "tests/test_tui_snapshots.py",
)


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[None]:
    """The garbage collector, tuned for a test process (never for the product's processes).

    Collection imports Textual, DuckDB, Arrow and every test module: ~10^5 objects that live
    as long as the process, which the collector walked over and over meanwhile (off until
    collection ends, as the app does during its imports) and in every full pass of the run
    after it (frozen out of those passes). The run allocates and frees many short-lived
    objects in bursts (Arrow tables, Textual messages): a youngest generation of 10,000
    objects instead of 700 makes ~10x fewer passes. Measured on four modules, -n 0: the
    collector's CPU 4.1 -> 1.2 s of ~50 s. Objects are still freed by reference counting at
    once; only cycles wait for a later pass."""
    gc.disable()
    try:
        return (yield)
    finally:
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        gc.enable()


def pytest_configure(config: pytest.Config) -> None:
    """One full garbage collection at the end of a test process, not five.

    pytest collects five times as it unconfigures, to turn a `__del__` that raises into a
    warning (a count the Trio project found catches every such object). Each pass walks the
    whole heap a run of Pilot apps and Arrow tables leaves: ~1.1 CPU s per process, at the
    end of each xdist worker. One pass still finds what the run left in cycles. pytest's own
    test helper sets the same private key (to 0); without it, pytest's default stands."""
    try:
        from _pytest.unraisableexception import gc_collect_iterations_key
    except ImportError:  # a pytest without it: keep its default
        return
    config.stash[gc_collect_iterations_key] = 1


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers per core. A Pilot test spends much of its wall waiting (the
    app's timers, Textual's idle polls, a query in a thread), a CLI test waits for its
    child, a shared case is built by one worker while the others wait for it: with one
    worker per core those waits leave a core idle (the suite kept ~1.7 of 2 cores busy)."""
    return 2 * len(os.sched_getaffinity(0))


def _rank(item: pytest.Item) -> int:
    for rank, prefix in enumerate(LONGEST_FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    return len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: the order within a rank is the collection order


_evidence_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Tally evidence tests (on the controller too, under xdist): skipped in any phase, or ran."""
    if "evidence" not in report.keywords:
        return
    if report.skipped:
        _evidence_outcomes[report.nodeid] = "skipped"
    elif report.when == "call":
        _evidence_outcomes.setdefault(report.nodeid, "ran")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _evidence_outcomes:
        return
    ran = sum(v == "ran" for v in _evidence_outcomes.values())
    skipped = len(_evidence_outcomes) - ran
    where = "present" if EVIDENCE.is_dir() else "absent"
    terminalreporter.write_line(
        f"evidence tests: {ran} ran, {skipped} skipped ({EVIDENCE} {where})"
    )


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("TZ", "UTC")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `logonscope ARGS` as a user would, in a fresh process.

    For what only a real process shows (signals, a clean interpreter, the entry point);
    `run_cli_inline` is the fast way to check output and exit codes."""
    return subprocess.run(
        [sys.executable, "-m", "logonscope.tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=600,
    )


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli_inline(*args: object) -> CliResult:
    """`logonscope ARGS` in this process: `main(argv)` with stdout/stderr captured and the exit
    code it returns (or that argparse exits with), as `run_cli` would report them.

    Options such as `--memory` or `--executor` set environment variables for the process and
    its children; they are put back afterwards, as a separate process would leave them."""
    from logonscope.tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    environ = dict(os.environ)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse: --help exits 0, bad usage exits 2
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        if dict(os.environ) != environ:
            os.environ.clear()
            os.environ.update(environ)
    return CliResult(code, out.getvalue(), err.getvalue())
