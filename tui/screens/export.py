"""The export dialog: asks where to write the current view (CSV, JSON or JSONL by extension).

Returns the chosen path (or None) to the screen, which writes it in a worker. An existing
file is only replaced after a second Enter. Writes nothing itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ExportScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical { width: 80%; max-width: 90; height: auto; border: round $accent;
                              background: $surface; padding: 0 1; }
    ExportScreen .note { color: $text-muted; }
    """
    BINDINGS: ClassVar[list] = [Binding("escape", "cancel", "cancel export")]

    def __init__(self, default: str, what: str) -> None:
        super().__init__()
        self.default, self.what = default, what
        self._confirm: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Export {self.what}", markup=False)
            yield Input(self.default, id="export-path", select_on_focus=False)
            yield Static(
                ".csv, .json or .jsonl · Enter writes · Esc cancels",
                classes="note",
                id="export-note",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        note = self.query_one("#export-note", Static)
        if not path:
            note.update("a path, please")
            return
        target = Path(path).expanduser()
        if target.parent == Path(self.default).parent and not target.parent.exists():
            target.parent.mkdir(parents=True)  # the case's exports/ folder, made on first use
        if not target.parent.is_dir():
            note.update(f"no such folder: {target.parent}")
            return
        if target.exists() and self._confirm != path:
            self._confirm = path
            note.update(f"{target} exists: Enter again replaces it")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
