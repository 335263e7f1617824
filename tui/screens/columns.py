"""The column chooser: which columns a table shows, in order of importance.

A table shows the columns that fit whole in its width, most important first; this dialog
ticks and unticks them (Space), Enter applies. Returns the ticked names in their order (or
None when cancelled); the pane keeps the choice. Column names are ours, not evidence.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from logonscope.tui.widgets.checklist import CheckList


class ColumnsScreen(ModalScreen[tuple[str, ...] | None]):
    DEFAULT_CSS = """
    ColumnsScreen { align: center middle; }
    ColumnsScreen > Vertical { width: 60; max-width: 90%; height: auto; max-height: 90%;
                               border: round $accent; background: $surface; }
    ColumnsScreen CheckList { height: auto; max-height: 24; }
    """
    BINDINGS: ClassVar[list] = [
        Binding("escape", "cancel", "cancel"),
        Binding("ctrl+s", "apply", "apply"),
    ]

    def __init__(self, title: str, columns: list[str], shown: list[str]) -> None:
        super().__init__()
        self.title_text, self.columns, self.shown = title, columns, shown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"{self.title_text}  (Space ticks [x], Enter applies, Esc cancels)\n"
                "the ticked columns that fit the pane's width are shown, top first",
                markup=False,
            )
            yield CheckList(
                *[(Content(c), c, c in self.shown) for c in self.columns], id="columns-list"
            )

    def on_mount(self) -> None:
        self.query_one(CheckList).focus()

    def action_apply(self) -> None:
        ticked = set(self.query_one(CheckList).selected)
        self.dismiss(tuple(c for c in self.columns if c in ticked))

    def action_cancel(self) -> None:
        self.dismiss(None)
