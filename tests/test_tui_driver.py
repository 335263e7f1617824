"""The terminal driver hands over a lone Esc when its delay is up, not at Textual's 100 ms step."""

from __future__ import annotations

import os
import threading
import time

import pytest
from textual import constants, events

pytest.importorskip("termios")

from logonscope.tui.driver import ESCAPE_DELAY_S, POLL_S, Driver, wait_for  # noqa: E402


@pytest.fixture
def esc_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(constants, "ESCAPE_DELAY", ESCAPE_DELAY_S)  # as the driver sets it


def test_the_input_wait_ends_when_a_pending_esc_is_due(esc_delay: None) -> None:
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    assert wait_for(parser) == POLL_S  # nothing pending: Textual's usual step
    list(parser.feed("\x1b"))  # a lone Esc: the key, unless more bytes come
    assert wait_for(parser) <= ESCAPE_DELAY_S


def test_a_lone_esc_reaches_the_app_within_its_delay(esc_delay: None) -> None:
    """The input thread reading a pipe: Esc is handed over well before Textual's 100 ms
    step (an arrow key's sequence, written at once, stays one key)."""
    read_fd, write_fd = os.pipe()
    got: list[tuple[str, float]] = []
    done = threading.Event()

    def process_message(message: object) -> None:
        if isinstance(message, events.Key):
            got.append((message.key, time.monotonic()))
            done.set()

    driver = Driver.__new__(Driver)  # the input thread needs only these of a driver
    driver._debug = False
    driver.exit_event = threading.Event()
    driver.fileno = read_fd
    driver.process_message = process_message  # type: ignore[method-assign]
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    try:
        os.write(write_fd, b"\x1b[A")
        assert done.wait(2.0)
        done.clear()
        time.sleep(0.2)
        sent = time.monotonic()
        os.write(write_fd, b"\x1b")
        assert done.wait(2.0)
        assert [key for key, _ in got] == ["up", "escape"]
        assert got[1][1] - sent < 0.09  # Textual's own loop: 0.1 s or more
    finally:
        driver.exit_event.set()
        thread.join(1.0)
        os.close(write_fd)
        os.close(read_fd)
