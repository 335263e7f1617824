"""The read-ahead thread: only the newest request's reads run, in order, and closing stops it.

A responder holding ↓ asks for a read-ahead on every row; reads for rows already left behind
must be dropped, not queued, or the reads the next key needs wait behind them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

from logonscope.tui.screens.read_ahead import ReadAhead

WAIT_S = 10.0


def _blocking(ran: list[str]) -> tuple[threading.Event, threading.Event, Callable[[], None]]:
    """A read that says when it started and runs until released, then notes "running"."""
    started, release = threading.Event(), threading.Event()

    def running() -> None:
        started.set()
        release.wait(WAIT_S)
        ran.append("running")

    return started, release, running


def test_a_newer_request_replaces_the_reads_not_yet_started() -> None:
    ahead = ReadAhead(cast(Any, None))  # plain tasks: the backend is not used
    finished = threading.Event()
    ran: list[str] = []
    started, release, running = _blocking(ran)

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
    ran: list[str] = []
    started, release, running = _blocking([])

    ahead.ask([running, lambda: ran.append("after close")])
    assert started.wait(WAIT_S)
    ahead.close()
    release.set()
    thread = ahead._thread
    assert thread is not None
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert ran == []


def test_the_sort_picker_reads_the_sorted_list_and_the_detail_the_cursor_lands_on(
    monkeypatch: Any,
) -> None:
    """Enter in the sort picker sorts Sessions (newest first, say): that list is shaped and the
    session it puts first (the first of tied starts, in list order) is the detail read while
    the picker is up, so Enter's reshape finds the list made."""
    import pyarrow as pa

    from logonscope.tui import backend_views
    from logonscope.tui.backend import FilterState
    from logonscope.tui.screens.jobs import DetailJob, PaneJob
    from logonscope.tui.tables import ShapeSpec, Sort

    read: list[str] = []
    done = threading.Event()

    def view_detail(backend: Any, view: str, sid: str, row: Any, group: str) -> None:
        read.append(sid)
        done.set()

    monkeypatch.setattr(backend_views, "view_detail", view_detail)
    rows = pa.table({"session_id": ["a", "b", "c", "d"], "start": [1, 3, 2, 3]})
    spec = ShapeSpec(order=Sort("start", descending=True))
    ahead = ReadAhead(cast(Any, None))
    ahead.ask([ahead.sorted_list(rows, spec, DetailJob(0, "", ()))])
    assert done.wait(WAIT_S)
    assert read == ["b"]
    shaped = PaneJob("shape-sessions", 1, FilterState(), spec).loaded(rows, 0.0).shaped
    assert shaped.rows.column("session_id").to_pylist() == ["b", "d", "c", "a"]
    again = PaneJob("shape-sessions", 2, FilterState(), spec).loaded(rows, 0.0).shaped
    assert again is shaped, "made once, by the read-ahead, for the reshape too"
    done.clear()
    ahead.ask([ahead.sorted_list(rows, spec, DetailJob(0, "", ()), select="c")])
    assert done.wait(WAIT_S)
    assert read == ["b", "c"], "a sort keeps the cursor on its session: that detail is read"
    ahead.close()


def test_a_paused_read_ahead_finishes_its_read_and_starts_no_other_until_resumed() -> None:
    """A key's results are being drawn: the read running goes on (the key may wait for it),
    the next waits until the read-ahead resumes."""
    ahead = ReadAhead(cast(Any, None))
    finished = threading.Event()
    ran: list[str] = []
    started, release, running = _blocking(ran)

    ahead.ask([running, lambda: (ran.append("next"), finished.set())])
    assert started.wait(WAIT_S)
    ahead.pause()
    release.set()
    assert not finished.wait(0.3)
    assert ran == ["running"]
    ahead.resume()
    assert finished.wait(WAIT_S)
    assert ran == ["running", "next"]
    ahead.close()
