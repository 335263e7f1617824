"""Driving the app headless (tests, screenshots, benchmarks): wait until it is quiet."""

from __future__ import annotations

import asyncio

from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerState


async def settle(pilot: Pilot, quiet_turns: int = 3) -> None:
    """Wait for the first screen, the workers, the messages they post and any preview
    waiting for a cursor to rest (`quiet_turns` quiet turns in a row)."""
    app = pilot.app
    quiet = 0
    while quiet < quiet_turns:
        await pilot.pause()
        if getattr(app, "opening", False) or getattr(app.screen, "previews_pending", False):
            await asyncio.sleep(0.02)
            quiet = 0
        elif any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:  # superseded by a newer query: wait again
                pass
            quiet = 0
        else:
            quiet += 1
