"""A small picker dialog: choose one of a list (sort column, host). Returns the choice.

Generic and inert: options are shown as text, never markup. It changes nothing itself.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from logonscope.tui.tables import visible


class PickScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    PickScreen > Vertical { width: 60; max-width: 90%; height: auto; max-height: 90%;
                            border: round $accent; background: $surface; }
    PickScreen OptionList { height: auto; max-height: 20; }
    """
    BINDINGS: ClassVar[list] = [Binding("escape", "cancel", "cancel")]

    def __init__(
        self, title: str, options: list[tuple[str, str]], current: str | None = None
    ) -> None:
        """`options`: (value, label) pairs."""
        super().__init__()
        self.title_text, self.options, self.current = title, options, current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text + "  (Enter picks, Esc cancels)", markup=False)
            yield OptionList(
                *[
                    Option(Text(visible(label)), id=f"o{i}")
                    for i, (_, label) in enumerate(self.options)
                ],
                id="pick-list",
            )

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        values = [v for v, _ in self.options]
        if self.current in values:
            listing.highlighted = values.index(self.current)
        listing.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        index = int(event.option.id[1:]) if event.option.id else event.option_index
        self.dismiss(self.options[index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
