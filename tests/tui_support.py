"""Shared pieces of the TUI tests: cases built once per session, and `settle`.

Cases are built once per test session (cached by name under pytest's session temp folder)
whichever TUI test module asks first. `settle` waits until every worker has finished and
the messages they posted are handled, so assertions see a quiet app.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from logonscope.tui.pilot import settle  # re-exported for the TUI tests  # noqa: F401
from tests.conftest import BELKASOFT, EVIDENCE

_BUILT: dict[str, Path] = {}

# What an attacker-controlled user name could try: Rich markup, an ANSI colour and a title
# change, a bell. The app must show all of it as text.
EVIL_USER = "[red]x[/red]\x1b[31mEVIL\x1b]0;pwned\x07"


def async_test(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test in a fresh event loop (no pytest-asyncio plugin needed)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def _base(factory: pytest.TempPathFactory) -> Path:
    return factory.getbasetemp() / "tui-cases"


def belkasoft_case(factory: pytest.TempPathFactory) -> Path:
    """The Belkasoft CTF workstation logs, ingested and built (skips when absent)."""
    if "belkasoft" in _BUILT:
        return _BUILT["belkasoft"]
    source = EVIDENCE / BELKASOFT
    if not source.exists():
        pytest.skip(f"real evidence not available: {source} (../shared/evidence is absent)")
    from logonscope.analysis.build import build
    from logonscope.storage.ingest import ingest

    case = _base(factory) / "belkasoft"
    shutil.rmtree(case, ignore_errors=True)
    ingest([source], case, jobs=1)
    build(case)
    _BUILT["belkasoft"] = case
    return case


def demo_case(factory: pytest.TempPathFactory) -> Path:
    """The default generated scenario set (`logonscope demo`), ingested and built."""
    if "demo" in _BUILT:
        return _BUILT["demo"]
    try:
        from logonscope.tui.commands import demo
    except ImportError as exc:  # pragma: no cover - generator not available
        pytest.skip(f"demo generator unavailable: {exc}")
    case = _base(factory) / "demo-case"
    shutil.rmtree(case, ignore_errors=True)
    try:
        demo.prepare(case, fresh=True, quiet=True)
    except ImportError as exc:
        pytest.skip(f"scenario generator not available yet: {exc}")
    _BUILT["demo"] = case
    return case


def evil_case(factory: pytest.TempPathFactory) -> Path:
    """A copy of the Belkasoft case whose main user is renamed to EVIL_USER everywhere the
    app reads names from (sessions and the derived users / user IP summaries)."""
    if "evil" in _BUILT:
        return _BUILT["evil"]
    source = belkasoft_case(factory)
    case = _base(factory) / "evil"
    shutil.rmtree(case, ignore_errors=True)
    shutil.copytree(source, case)
    for name in ("sessions", "users", "user_ips", "users_nonsystem", "user_ips_nonsystem"):
        path = case / "derived" / f"{name}.parquet"
        table = pq.read_table(path)
        mask = pc.equal(table.column("user_key"), "anit.ghosh")
        for column in ("user",):
            index = table.column_names.index(column)
            renamed = pc.if_else(mask, pa.scalar(EVIL_USER), table.column(column))
            table = table.set_column(index, column, renamed)
        pq.write_table(table, path)
    _BUILT["evil"] = case
    return case


BRUTE_IP, USUAL_IP = "45.146.164.110", "10.20.0.50"
BRUTE_FAILURES = 95


def brute_force_case(factory: pytest.TempPathFactory) -> Path:
    """A server where alice logs on over RDP ten times from her usual workstation, then an
    address fails 95 times as alice (RDP with NLA) within a minute or two, and gets in once:
    written with the project's scenario generator, ingested and built."""
    if "brute" in _BUILT:
        return _BUILT["brute"]
    from logonscope.analysis.build import build
    from logonscope.storage.ingest import ingest
    from logonscope.storage.scenarios import stories as st

    # the module, not the package's `generate` function of the same name
    g = importlib.import_module("logonscope.storage.scenarios.generate")
    base = _base(factory)
    evidence, case = base / "brute-evidence", base / "brute"
    for folder in (evidence, case):
        shutil.rmtree(folder, ignore_errors=True)
    evidence.mkdir(parents=True)
    run = g._Run(evidence, 7, ["rdp-bruteforce"], 1, g.DEFAULT_MAX_BYTES)
    server = run.hosts[0]
    for _ in range(10):
        logon, t = st.rdp_logon(server, run.clock, run.alice, USUAL_IP)
        run.then(st.rdp_disconnect(server, t + 600 * g.S, logon))
    run.then(st.nla_bruteforce(server, run.clock, BRUTE_IP, ["alice"], BRUTE_FAILURES))
    logon, t = st.rdp_logon(server, run.clock, run.alice, BRUTE_IP)
    run.then(st.rdp_disconnect(server, t + 60 * g.S, logon))
    run.truth.finish(server.finish())
    ingest([evidence], case, jobs=1)
    build(case)
    _BUILT["brute"] = case
    return case
