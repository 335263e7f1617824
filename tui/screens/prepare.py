"""The prepare screen: ingest new evidence and (re)build the analysis, with progress.

Runs in a thread worker; the bar shows files, records, speed and ETA, in total and per file
being read, updated several times a second. Esc cancels: the ingest
stops at its next progress report and the case stays as it was (storage commits atomically).
Dismisses with True when the case is ready, False when cancelled or failed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, WorkerState

from logonscope.tui.progress import ingest_lines
from logonscope.tui.tables import visible


class Cancelled(Exception):
    """Raised from the progress callback to stop an ingest."""


class PrepareScreen(Screen[bool]):
    DEFAULT_CSS = """
    PrepareScreen { align: center middle; }
    PrepareScreen > Vertical { width: 80%; max-width: 100; height: auto; border: round $accent;
                               padding: 1 2; }
    PrepareScreen ProgressBar { width: 100%; margin: 1 0; }
    """
    BINDINGS: ClassVar[list] = [Binding("escape,q", "cancel", "cancel")]

    class Step(Message):
        def __init__(
            self, text: str, done: float | None = None, total: float | None = None
        ) -> None:
            super().__init__()
            self.text, self.done, self.total = text, done, total

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PrepareScreen.Step)

    class Finished(Message):
        def __init__(self, summary: str) -> None:
            super().__init__()
            self.summary = summary

    def __init__(self, case_dir: Path, paths: list[str], build: bool) -> None:
        super().__init__()
        self.case_dir, self.paths, self.build = Path(case_dir), list(paths), build
        self._cancel = threading.Event()  # set on the UI thread, read by the worker
        self.summary = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"case {visible(str(self.case_dir))}", markup=False)
            yield Static("starting…", id="prepare-step", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="prepare-bar")
            yield Static("Esc cancels (the case is left as it was)", markup=False)

    def on_mount(self) -> None:
        self.prepare(self.case_dir, tuple(self.paths), self.build, self._cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="prepare")
    def prepare(
        self, case_dir: Path, paths: tuple[str, ...], build: bool, cancel: threading.Event
    ) -> None:
        """Ingest `paths` into `case_dir`, then build if asked or if the ingest needs it."""
        summary = []
        if paths:
            from logonscope.storage.ingest import ingest

            def progress(p: Any) -> None:
                if cancel.is_set():
                    raise Cancelled()
                text = "\n".join(ingest_lines(p))
                self.post_message(self.Step(text, p.bytes_done, p.bytes_total or None))

            ingested = ingest(list(paths), case_dir, progress=progress)
            stored = ingested.of("stored")
            summary.append(
                f"ingested {len(stored)} new file(s), {ingested.stored:,} records"
                if stored
                else "nothing new to ingest"
            )
            if not ingested.usable:
                raise ValueError("no usable evidence in " + ", ".join(paths))
            build = build or bool(stored) or needs_build(case_dir)
        if cancel.is_set():
            raise Cancelled()
        if build:
            from logonscope.analysis.build import ensure_built

            started = time.monotonic()
            self.post_message(self.Step("analysis: sessions, sources, users, user IPs…"))

            def said(text: str) -> None:
                self.post_message(self.Step(f"analysis: {text}"))

            built = ensure_built(case_dir, progress=said)
            summary.append(f"{built.summary()} ({time.monotonic() - started:.1f} s)")
        self.post_message(self.Finished("; ".join(summary)))

    def on_prepare_screen_step(self, message: Step) -> None:
        self.query_one("#prepare-step", Static).update(message.text)
        self.query_one(ProgressBar).update(total=message.total, progress=message.done or 0)

    def on_prepare_screen_finished(self, message: Finished) -> None:
        self.summary = message.summary
        self.dismiss(True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.summary = (
                "cancelled; the case is unchanged"
                if isinstance(error, Cancelled)
                else visible(f"{type(error).__name__}: {error}")  # may quote evidence
            )
            self.dismiss(False)

    def action_cancel(self) -> None:
        self._cancel.set()
        self.query_one("#prepare-step", Static).update("cancelling…")


def needs_build(case_dir: Path) -> bool:
    """The derived tables are missing or were built from another evidence set."""
    from logonscope.analysis.build_state import is_stale
    from logonscope.storage.case import is_case

    case_dir = Path(case_dir)
    return is_case(case_dir) and (case_dir / "evidence.parquet").exists() and is_stale(case_dir)
