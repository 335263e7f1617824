"""The status line: where you are (breadcrumb) and which filters apply.

Two lines of inert text, set by the screen; never queries, never parses markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

HINTS = (
    ("Enter", "drill"),
    ("Esc", "back"),
    ("Tab", "pane"),
    ("/", "search"),
    ("f", "filter"),
    ("x", "failures"),
    ("S", "system"),
    ("o", "sort"),
    ("s", "all sessions"),
    ("e", "export"),
    ("?", "help"),
    ("^p", "commands"),
    ("q", "quit"),
)


class KeyHints(Widget):
    """The footer: the main keys, always the same line (no re-layout when the focus moves,
    unlike Textual's Footer, which rebuilds itself on every focus change)."""

    DEFAULT_CSS = """
    KeyHints { height: 1; dock: bottom; background: $panel; padding: 0 1; }
    """

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for key, what in HINTS:
            text.append(key, style="bold reverse")
            text.append(f" {what}  ")
        return text


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: 2; padding: 0 1; background: $boost; }
    """

    crumbs: reactive[str] = reactive("")
    filters: reactive[str] = reactive("")
    note: reactive[str] = reactive("")

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(self.crumbs, style="bold")
        if self.note:
            text.append("   " + self.note, style="italic")
        text.append("\n")
        text.append("filters ", style="dim")
        text.append(self.filters)
        return text
