"""A pane says "loading…" while a slow query runs, and not once its result is shown."""

from __future__ import annotations

import asyncio
import time
import types
from pathlib import Path

import pytest

from logonscope.analysis import queries as real_queries
from logonscope.tui.app import make_app
from logonscope.tui.widgets.table_pane import LOADING_NOTE_DELAY
from tests.tui_support import async_test, demo_case, settle


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


def slow_sessions(delay: float) -> types.ModuleType:
    """The real queries, with the Sessions query taking `delay` seconds longer."""
    slow = types.ModuleType("slow_queries")
    slow.__dict__.update(real_queries.__dict__)

    def sessions(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(delay)
        return real_queries.sessions(*args, **kwargs)

    def held_sessions(*args, **kwargs):  # type: ignore[no-untyped-def]
        # nothing held in memory: a user's sessions come from the (slow) query, not from
        # the held rows, which answer the default filters without one
        raise RuntimeError("not held")

    slow.sessions = sessions  # type: ignore[attr-defined]
    slow.held_sessions = held_sessions  # type: ignore[attr-defined]
    return slow


@async_test
async def test_a_slow_sessions_query_shows_loading_until_its_rows_come(case: Path) -> None:
    app = make_app(
        case, label="demo", queries=slow_sessions(LOADING_NOTE_DELAY + 0.6), read_ahead=False
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        sessions = app.screen.pane("sessions")
        before = sessions.shaped
        await pilot.press("down")  # the next user: their sessions load (slowly)
        seen = False
        deadline = time.monotonic() + LOADING_NOTE_DELAY + 0.55
        while time.monotonic() < deadline and not seen:
            await asyncio.sleep(LOADING_NOTE_DELAY / 3)
            seen = "loading…" in str(sessions.border_subtitle)
        assert seen, "no loading note while the query ran"
        await settle(pilot)
        assert sessions.shaped is not before
        assert "loading…" not in str(sessions.border_subtitle)
        assert "row" in str(sessions.border_subtitle)


@async_test
async def test_a_late_reshape_does_not_bring_back_the_rows_it_was_made_of(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Choosing an address resizes the Sessions pane (a reshape of the rows it shows) while
    that address's sessions load; a reshape finishing after them must not redraw the old
    rows under the new breadcrumb (a flaky snapshot showed every address's failures)."""
    from logonscope.tui.screens.main_loading import LoadingScreen

    shape = LoadingScreen._shape

    def slow_shape(self, job, source):  # type: ignore[no-untyped-def]
        time.sleep(0.4)
        shape(self, job, source)

    monkeypatch.setattr(LoadingScreen, "_shape", slow_shape)
    app = make_app(case, label="demo", read_ahead=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("x", "enter", "enter"):  # failures → administrator → first address
            await pilot.press(key)
            await settle(pilot)
        ip = app.screen.nav.ip
        assert ip
        rows = app.screen.pane("sessions").source
        assert rows is not None and rows.num_rows > 0
        assert set(rows.column("src_ip").to_pylist()) == {ip}
