"""A pane's border says whether the focus is in it: its colour set inline on focus changes.

A `:focus-within` rule says the same in CSS, but then Textual restyles every widget inside
the pane each time the focus enters or leaves it (the detail pane holds tabs and three
tables): about a quarter of a Tab's time. A border colour changes no layout, so setting it
inline redraws the border and restyles nothing.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.color import Color
from textual.widget import Widget


class FocusBorder(Widget):
    """Mixin for a bordered pane: `$accent` while the focus is inside it, else `idle_color`."""

    idle_color: ClassVar[str] = "primary-darken-2"  # a theme variable (CSS `$…` name)
    focus_color: ClassVar[str] = "accent"

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.show_focus()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.show_focus()

    def on_focus(self, event: events.Focus) -> None:
        self.show_focus()

    def on_blur(self, event: events.Blur) -> None:
        self.show_focus()

    def show_focus(self) -> None:
        """Colour the border for where the focus is now (a pane drawn without a border,
        such as a table inside the detail pane, keeps none)."""
        kind, _ = self.styles.border_top
        if kind in ("", "none", "hidden") or not self.is_attached:
            return
        variables = getattr(self.app, "theme_variables", None) or self.app.get_css_variables()
        name = self.focus_color if self.has_focus_within else self.idle_color
        self.styles.border = (kind, Color.parse(variables[name]))
