"""The help screen: every key of the app, generated from the bindings so none is missing.

Shown by `?`; closed by Esc, `?` or `q`. Lists keys only; performs no action of its own.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# Keys the tables handle themselves (textual-fastdatatable), in words.
TABLE_KEYS = (
    ("↑ ↓ ← →", "move the cursor"),
    ("PgUp PgDn Home End", "page / jump in a table"),
    (
        "Enter",
        "drill down: user → source IPs → sessions → detail; on a burst of failures: its "
        "attempts; on a source or activity row: the full event",
    ),
)


def key_rows(groups: list[tuple[str, list]]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for group, bindings in groups:
        seen: set[str] = set()
        for b in bindings:
            if not isinstance(b, Binding) or not b.description or b.description in seen:
                continue
            seen.add(b.description)
            keys = ", ".join(_pretty(k) for k in b.key.split(","))
            rows.append((group, keys, b.description))
    return rows


def _pretty(key: str) -> str:
    names = {
        "question_mark": "?",
        "slash": "/",
        "escape": "Esc",
        "backspace": "Backspace",
        "tab": "Tab",
        "shift+tab": "Shift+Tab",
        "enter": "Enter",
        "right_square_bracket": "]",
        "left_square_bracket": "[",
    }
    key = key.strip()
    if key in names:
        return names[key]
    if "+" in key:  # ctrl+q → Ctrl+Q, the way the footer and dialogs spell it
        *mods, last = key.split("+")
        return "+".join([m.capitalize() for m in mods] + [last.upper() if len(last) == 1 else last])
    return key


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """
    BINDINGS: ClassVar[list] = [
        Binding("escape,question_mark,q", "close", "close help"),
        Binding("down,j", "scroll(1)", show=False),
        Binding("up,k", "scroll(-1)", show=False),
    ]

    def __init__(self, groups: list[tuple[str, list]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        table = Table(show_edge=False, box=None, pad_edge=False, expand=True)
        table.add_column("where", style="dim", no_wrap=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        # Text cells: a str cell is Rich markup, and key names include `[` and `]`
        for keys, does in TABLE_KEYS:
            table.add_row(Text("tables"), Text(keys), Text(does))
        for group, keys, does in key_rows(self.groups):
            table.add_row(Text(group), Text(keys), Text(does))
        with VerticalScroll():
            yield Static(Text("logonscope keys  (Esc closes)", style="bold"))
            yield Static(table, id="help-keys")

    def action_scroll(self, step: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=step, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
