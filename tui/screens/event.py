"""Shows one stored event in full, as JSON text (every column, EventData decoded).

Opened with Enter on a source or activity row. The text is shown literally (no markup,
control characters escaped by the JSON encoder); `c` is not needed: the text is selectable.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from logonscope.tui.output import rows as plain_rows


def event_json(event: dict[str, Any] | None) -> str:
    if event is None:
        return "event not found in the case"
    import pyarrow as pa

    # same value conversion as the command line (ISO 8601 UTC with Z)
    clean = plain_rows(pa.Table.from_pylist([{k: v for k, v in event.items() if k != "data"}]))[0]
    clean["data"] = event.get("data")
    return json.dumps(clean, indent=2, ensure_ascii=True, default=str)


class EventScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    EventScreen { align: center middle; }
    EventScreen > Vertical { width: 95%; height: 95%; border: round $accent; background: $surface; }
    EventScreen TextArea { height: 1fr; }
    """
    BINDINGS: ClassVar[list] = [Binding("escape,q", "close", "close event")]

    def __init__(self, title: str, event: dict[str, Any] | None) -> None:
        super().__init__()
        self.title_text, self.event = title, event

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text + "  (Esc closes)", markup=False)
            yield TextArea(
                event_json(self.event), read_only=True, show_line_numbers=False, id="event-json"
            )

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        self.dismiss(None)
