"""Generated cases built once per test run and shared by every test (and xdist worker) that
asks for the same one: the first asker writes the evidence with the project's generator (or
names a real evidence folder), ingests and builds it under a lock; the others wait and reuse
it. Tests must only read them.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from logonscope.storage.scenarios.generate import SCENARIOS

_BUILT: dict[str, Path] = {}


def _base(factory: pytest.TempPathFactory) -> Path:
    """Where cases are built: the run's temp folder, shared by all xdist workers of one run."""
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # .../pytest-N/popen-gwK: share .../pytest-N
        base = base.parent
    return base / "tui-cases"


def evidence_of(case: Path) -> Path:
    """The generated evidence folder a case was ingested from (`<case>-evidence`)."""
    return case.parent / f"{case.name}-evidence"


def build_once(factory: pytest.TempPathFactory, name: str, write: Callable[[Path], object]) -> Path:
    """The case `name`: `write(evidence folder)`, ingested and built, once per run."""

    def make(case: Path) -> None:
        shutil.rmtree(evidence_of(case), ignore_errors=True)
        write(evidence_of(case))
        _ingest_and_build([evidence_of(case)], case)

    return _once(factory, name, make)


def evidence_case(factory: pytest.TempPathFactory, name: str, folder: Path) -> Path:
    """Real evidence `folder` (read in place, never copied) ingested and built, once per run:
    the tests that only read a built case of the same folder share it."""
    return _once(factory, name, lambda case: _ingest_and_build([folder], case))


def ingested_once(factory: pytest.TempPathFactory, name: str, sources: list[Path]) -> Path:
    """`sources` ingested without a build, once per run: tests copy it before they build or
    open it (a connection makes a spill folder inside the case)."""

    def make(case: Path) -> None:
        from logonscope.storage.ingest import ingest

        ingest(sources, case, jobs=1)

    return _once(factory, name, make)


def _ingest_and_build(sources: list[Path], case: Path) -> None:
    from logonscope.analysis.build import build
    from logonscope.storage.ingest import ingest

    ingest(sources, case, jobs=1)
    build(case)


def _once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """`make(case)` for the case `name` under the run's shared folder, by the first asker (under
    a lock); the other workers wait for it and reuse the result."""
    if name in _BUILT:
        return _BUILT[name]
    case = _base(factory) / name
    case.parent.mkdir(parents=True, exist_ok=True)
    done = case.parent / f"{name}.built"
    with open(case.parent / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds; the others wait and reuse
        if not done.exists():
            shutil.rmtree(case, ignore_errors=True)
            make(case)
            done.touch()
    _BUILT[name] = case
    return case


def scenario_case(
    factory: pytest.TempPathFactory,
    scenarios: list[str] | None,
    seed: int,
    events: int | None = None,
) -> tuple[Path, Path]:
    """(generated evidence, built case) of `generate(scenarios, seed, events)`, shared: the
    same scenario set is written once per run, whichever tests compare it with its truth."""
    from logonscope.storage.scenarios import generate

    name = "scn-" + _set_name(tuple(scenarios or ()), seed, events)
    case = build_once(factory, name, lambda out: generate(out, scenarios, None, events, seed))
    return evidence_of(case), case


# The scenario sets the truth tests compare with their truth.json, generated apart (each in its
# own folder with its own truth.json, its hosts' names prefixed `T<n>`) and ingested and built
# as ONE case: a tiny build's cost is nearly all fixed, and sessions are per host, so each set's
# sessions are those it has alone. Sets that other tests read whole (the demo, the renamed
# host, the cleared log, the clock change, the system service) stay cases of their own
# (`scenario_case`).
# read whole by other tests, or generated at another seed and size (bulk)
_APART = ("bulk", "clock-change", "system-service", "host-rename", "log-cleared")
_SEED_1 = tuple(s for s in SCENARIOS if s not in _APART)
TRUTH_SETS: tuple[tuple[tuple[str, ...], int, int | None], ...] = (
    *(((s,), 1, None) for s in _SEED_1),
    *(
        ((s,), seed, None)
        for s in ("rdp-reconnect", "rdp-bruteforce", "console", "lateral")
        for seed in (3, 4)
    ),
    (("bulk",), 2, 4000),
    ((), 4, None),
    ((), 7, None),
)


def _set_name(scenarios: tuple[str, ...], seed: int, events: int | None) -> str:
    name = f"{'+'.join(scenarios) if scenarios else 'default'}-s{seed}"
    return name + (f"-e{events}" if events is not None else "")


def truth_case(
    factory: pytest.TempPathFactory,
    scenarios: list[str] | None,
    seed: int,
    events: int | None = None,
) -> tuple[Path, Path]:
    """(generated evidence of one set, built case): the shared case of every `TRUTH_SETS` set
    (the evidence is that set's own folder), or the set's own case (`scenario_case`)."""
    wanted = (tuple(scenarios or ()), seed, events)
    if wanted not in TRUTH_SETS:
        return scenario_case(factory, scenarios, seed, events)

    def write(out: Path) -> None:
        from logonscope.storage.scenarios import generate

        for n, (names, s, e) in enumerate(TRUTH_SETS):
            generate(out / _set_name(names, s, e), list(names), None, e, s, host_prefix=f"T{n}")

    case = build_once(factory, "truth-sets", write)
    return evidence_of(case) / _set_name(*wanted), case


def set_shas(con: Any, gen: Path) -> list[str]:
    """The sha256 of every evidence file of the generated set in `gen` (a truth case holds
    several sets; these files are one set's)."""
    rows = con.execute("SELECT path, sha256 FROM evidence").fetchall()
    return sorted({sha for path, sha in rows if Path(path).resolve().is_relative_to(gen.resolve())})
