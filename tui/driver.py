"""The terminal driver: Textual's own, with a lone Esc delivered when its delay is up.

Textual's input thread waits for input in steps of 100 ms and only then checks whether a lone
Esc byte has waited long enough to be the Esc key: whatever the escape delay, Esc (back in
this app) came 100 ms after the key. Here the wait ends when the parser's pending Esc is due.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from typing import Any

from textual import constants
from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

POLL_S = 0.1  # Textual's step when no escape sequence is pending
# How long a lone Esc byte waits for the rest of an escape sequence before it is the Esc key
# (seconds; Textual's default is 100 ms). A terminal writes a sequence's bytes at once, so
# they come together well within this, over SSH too: tmux, which sits on the same links, made
# 10 ms its default in 3.5. `ESCDELAY` (milliseconds, as in curses) still decides when it is
# set: raise it on a link that splits sequences (an arrow key read as Esc, then `[A`).
ESCAPE_DELAY_S = 0.02


def wait_for(parser: Any) -> float:
    """How long the input thread may wait for input: until the pending Esc of `parser` is
    due (it is the Esc key unless more bytes came), else Textual's usual step."""
    due = getattr(parser, "_timeout_time", None)
    if due is None:
        return POLL_S
    return max(0.0, min(POLL_S, due - get_time()))


class Driver(LinuxDriver):
    """`LinuxDriver` whose input thread waits only as long as a pending Esc allows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "ESCDELAY" not in os.environ:
            constants.ESCAPE_DELAY = ESCAPE_DELAY_S  # type: ignore[misc]  # read per Esc

    def run_input_thread(self) -> None:
        """Textual's (8.x) loop, with `wait_for` as the select timeout."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        parser = XTermParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode
        read = os.read

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for last, (_key, mask) in loop_last(events):
                if mask & selectors.EVENT_READ:
                    data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not data:
                        break  # stdin piped and done
                    for event in feed(data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(wait_for(parser)))
            selector.unregister(self.fileno)
            process(selector.select(POLL_S), final=True)
        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
