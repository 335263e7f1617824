"""Shared pieces of the TUI tests: cases built once per session, and `settle`.

Cases are built once per test session (cached by name under pytest's session temp folder)
whichever TUI test module asks first. `settle` waits until every worker has finished and
the messages they posted are handled, so assertions see a quiet app.
"""

from __future__ import annotations

import asyncio
import functools
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
