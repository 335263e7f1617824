"""The read-ahead thread: only the newest request's reads run, in order, and closing stops it.

A responder holding ↓ asks for a read-ahead on every row; reads for rows already left behind
must be dropped, not queued, or the reads the next key needs wait behind them.
"""

from __future__ import annotations

import threading
from typing import Any, cast

from logonscope.tui.screens.read_ahead import ReadAhead

WAIT_S = 10.0


def test_a_newer_request_replaces_the_reads_not_yet_started() -> None:
    ahead = ReadAhead(cast(Any, None))  # plain tasks: the backend is not used
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    ran: list[str] = []

    def running() -> None:
        started.set()
        release.wait(WAIT_S)
        ran.append("running")

    ahead.ask([running, lambda: ran.append("left behind")])
    assert started.wait(WAIT_S)
    ahead.ask([lambda: ran.append("newest 1"), lambda: (ran.append("newest 2"), finished.set())])
    release.set()
    assert finished.wait(WAIT_S)
    assert ran == ["running", "newest 1", "newest 2"]
    ahead.close()


def test_a_failing_read_does_not_stop_the_ones_after_it() -> None:
    ahead = ReadAhead(cast(Any, None))
    finished = threading.Event()

    def failing() -> None:
        raise RuntimeError("a read that fails")

    ahead.ask([failing, finished.set])
    assert finished.wait(WAIT_S)
    ahead.close()


def test_close_ends_the_thread_and_drops_what_waits() -> None:
    ahead = ReadAhead(cast(Any, None))
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def running() -> None:
        started.set()
        release.wait(WAIT_S)

    ahead.ask([running, lambda: ran.append("after close")])
    assert started.wait(WAIT_S)
    ahead.close()
    release.set()
    thread = ahead._thread
    assert thread is not None
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert ran == []
