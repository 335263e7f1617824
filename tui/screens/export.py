"""The export dialog: asks where to write the current view, and in which format.

CSV, JSON and JSONL for every view; Timesketch JSONL and Timeline Explorer CSV for the views
that have times (sessions, a session's sources and activity). Choosing a format sets the file
suffix; typing a `.csv`/`.json`/`.jsonl` path picks that plain format, as before. Returns
`(path, format)` (or None) to the screen, which writes it in a worker. An existing file is
only replaced after a second Enter. Writes nothing itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, RadioButton, RadioSet, Static

from logonscope.tui.export import FORMATS, SUFFIXES, format_for

PLAIN = ("csv", "json", "jsonl")
LABELS = {
    "csv": "CSV",
    "json": "JSON",
    "jsonl": "JSONL",
    "timesketch": "Timesketch JSONL",
    "tle": "Timeline Explorer CSV",
}


class ExportScreen(ModalScreen[tuple[str, str] | None]):
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical { width: 80%; max-width: 100; height: auto; border: round $accent;
                              background: $surface; padding: 0 1; }
    ExportScreen RadioSet { width: 100%; border: none; }
    ExportScreen .note { color: $text-muted; }
    """
    BINDINGS: ClassVar[list] = [Binding("escape", "cancel", "cancel export")]

    def __init__(self, default: str, what: str, formats: tuple[str, ...] = PLAIN) -> None:
        super().__init__()
        self.default, self.what, self.formats = default, what, formats
        self.format = format_for(default)
        self._confirm: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Export {self.what}", markup=False)
            yield Input(self.default, id="export-path", select_on_focus=False)
            with RadioSet(id="export-format"):
                for fmt in self.formats:
                    yield RadioButton(LABELS[fmt], value=fmt == self.format, id=f"format-{fmt}")
            yield Static(
                "Tab: format (arrows, Enter picks) · Enter writes · Esc cancels",
                classes="note",
                id="export-note",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.format = self.formats[event.index]
        path = self.query_one("#export-path", Input)
        target = Path(path.value.strip() or self.default)
        if target.suffix.lower() in (*FORMATS, ""):
            path.value = str(target.with_suffix(SUFFIXES[self.format]))
        path.focus()  # the next Enter writes

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
        fmt = self.format
        if fmt in PLAIN and target.suffix.lower() in FORMATS:
            fmt = format_for(target)  # the path says which plain format
        self.dismiss((path, fmt))

    def action_cancel(self) -> None:
        self.dismiss(None)
