"""Dialog controls whose state reads without colour, and where Enter applies the dialog.

Textual's SelectionList and Checkbox show ticked and unticked alike (`▐X▌`), told apart by
shade only; under NO_COLOR they look the same, and the cursor row is faint. These show
`[x]` / `[ ]` and mark the cursor row with `›`. Space toggles; Enter runs the dialog's
`apply` action wherever the focus is, as the dialogs say.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, OptionList, Select, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

TICKED, UNTICKED, CURSOR = "[x]", "[ ]", "›"


class CheckList(SelectionList[str]):
    """A SelectionList drawn as `› [x] label`; Enter applies the dialog, Space toggles."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.apply", "apply", show=False),
        Binding("space", "select", "toggle", show=False),
    ]

    def _get_left_gutter_width(self) -> int:
        return len(f"{CURSOR} {TICKED} ")

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)  # the prompt alone, without Textual's button
        index = self.scroll_offset[1] + y
        try:
            selection = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        ticked = selection.value in self._selected
        here = self.highlighted == index and self.has_focus
        style = next(iter(line)).style or self.rich_style
        mark = f"{CURSOR if here else ' '} {TICKED if ticked else UNTICKED} "
        return Strip([Segment(mark, style), *line])


class TickBox(Checkbox):
    """A Checkbox drawn as `[x]` / `[ ]`; Enter applies the dialog, Space toggles."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.apply", "apply", show=False),
        Binding("space", "toggle_button", "toggle", show=False),
    ]

    @property
    def _button(self) -> Content:
        return Content(TICKED if self.value else UNTICKED)


class Choice(Select[str]):
    """A Select where Enter applies the dialog; Space or ↓ opens the list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.apply", "apply", show=False),
        Binding("down,space,up", "show_overlay", "open the list", show=False),
    ]
