"""The status line: where you are (breadcrumb) and which filters apply.

Two lines of inert text, set by the screen; never queries, never parses markup. Each line
is fitted to the width on its own: the breadcrumb loses its start (the end says where you
are), the filters line is never pushed out of sight, and the footer keeps `? help`.
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
    ("h", "host timeline"),
    ("v", "view"),
    ("e", "export"),
    ("A", "unattributed"),
    ("?", "help"),
    ("Ctrl+P", "commands"),
    ("q", "quit"),
)
# Hints left out, in this order, when the footer is too narrow for all of them.
DROP_FIRST = ("A", "Ctrl+P", "S", "o", "v", "e", "s", "h", "x", "Tab", "/")


def fitted_hints(width: int) -> list[tuple[str, str]]:
    """The hints that fit `width` cells; `? help` and `q quit` always stay."""
    hints = list(HINTS)
    for key in DROP_FIRST:
        if sum(len(k) + len(w) + 3 for k, w in hints) <= width:
            break
        hints = [h for h in hints if h[0] != key]
    return hints


def left_cut(text: str, width: int) -> str:
    """`text` in `width` cells, its start replaced by `…` when it is too long."""
    if width <= 0 or len(text) <= width:
        return text
    return "…" + text[len(text) - width + 1 :]


class KeyHints(Widget):
    """The footer: the main keys, always the same line (no re-layout when the focus moves,
    unlike Textual's Footer, which rebuilds itself on every focus change)."""

    DEFAULT_CSS = """
    KeyHints { height: 1; dock: bottom; background: $panel; padding: 0 1; }
    """

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for key, what in fitted_hints(self.content_size.width or 200):
            text.append(key, style="bold reverse")
            text.append(f" {what}  ")
        text.rstrip()
        return text


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: 2; padding: 0 1; background: $boost; }
    """

    crumbs: reactive[str] = reactive("")
    filters: reactive[str] = reactive("")
    filters_short: reactive[str] = reactive("")  # only what is set, for narrow terminals
    note: reactive[str] = reactive("")

    def render(self) -> Text:
        width = self.content_size.width or 200
        text = Text(no_wrap=True, overflow="ellipsis")
        crumbs = left_cut(self.crumbs, width)
        text.append(crumbs, style="bold")
        note = f"   {self.note}" if self.note else ""
        if note and len(crumbs) + len(note) <= width:
            text.append(note, style="italic")
        text.append("\n")
        shown = self.filters
        if len("filters ") + len(shown) > width and self.filters_short:
            shown = self.filters_short
        text.append("filters ", style="dim")
        text.append(shown)
        return text
