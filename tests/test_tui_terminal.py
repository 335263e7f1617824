"""The app in a real (pseudo-)terminal: what Textual writes there, read back as a screen.

Pilot runs the app headless, where no frame is written, so a frame that leaves a region out
only shows in a terminal: the footer line once stayed blank at 80×24 from the first screen
on, and no snapshot showed it. Here `logonscope open` runs on a pty of 80×24 and `Screen`
applies what it writes (cursor moves and text; colours dropped) to a grid of cells.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.tui_support import demo_case

# an escape sequence: CSI (parameters, final byte), OSC (to BEL or ST), or ESC and one byte
_ESCAPE = re.compile(r"\x1b\[([0-9;?<=>$]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")


class Screen:
    """Cells written by cursor addressing (`CSI row;col H`) and text, as a terminal keeps
    them; every character one cell wide (the demo case's text is)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[" "] * width for _ in range(height)]
        self.row = self.col = 0

    def feed(self, text: str) -> None:
        at = 0
        for match in _ESCAPE.finditer(text):
            self._text(text[at : match.start()])
            at = match.end()
            if match.group(2) == "H":
                row, _, col = match.group(1).partition(";")
                self.row, self.col = int(row or 1) - 1, int(col or 1) - 1
            elif match.group(2) == "J" and match.group(1) == "2":
                self.cells = [[" "] * self.width for _ in range(self.height)]
        self._text(text[at:])

    def _text(self, text: str) -> None:
        for char in text:
            if char == "\r":
                self.col = 0
            elif char == "\n":
                self.row += 1
            elif char >= " " and 0 <= self.row < self.height and 0 <= self.col < self.width:
                self.cells[self.row][self.col] = char
                self.col += 1

    def line(self, row: int) -> str:
        return "".join(self.cells[row])

    def text(self) -> str:
        return "\n".join(self.line(r) for r in range(self.height))


def run_in_terminal(case: Path, size: tuple[int, int], shown: str, then: float) -> Screen:
    """`logonscope open --case CASE` on a pty of `size` until `shown` is on its screen, then
    `then` seconds more (what comes after the first frame); the screen it wrote."""
    width, height = size
    screen = Screen(width, height)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-m", "logonscope.tui.cli", "open", "--case", str(case)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    decode = codecs.getincrementaldecoder("utf-8")("replace").decode
    deadline, until = time.monotonic() + 120, None
    try:
        while time.monotonic() < (until or deadline):
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    screen.feed(decode(os.read(master, 1 << 16)))
                except OSError:  # the app ended
                    break
            if until is None and shown in screen.text():
                until = time.monotonic() + then
    finally:
        app.kill()
        app.wait()
        os.close(master)
    return screen


def test_the_footer_line_shows_help_at_80x24(tmp_path_factory: pytest.TempPathFactory) -> None:
    screen = run_in_terminal(demo_case(tmp_path_factory), (80, 24), "Users", then=1.0)
    text = screen.text()
    header = [line for line in text.splitlines() if "user" in line and "sessions" in line]
    assert "Users" in text and header, text  # the first screen is up: the Users table
    assert "? help" in screen.line(23), text  # the footer, drawn in the terminal
    assert screen.line(0).strip(), text  # the breadcrumb line too
