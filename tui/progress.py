"""A progress bar on stderr for long storage work (files, records, records/s)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class IngestProgress:
    """Context manager whose `update` is the ingest progress callback."""

    def __init__(self, enabled: bool = True) -> None:
        self._console = Console(stderr=True, markup=False, highlight=False)
        self._enabled = enabled and self._console.is_terminal
        self._bar = Progress(
            TextColumn("ingest"),
            BarColumn(),
            TextColumn("{task.fields[files]} files"),
            TextColumn("{task.fields[records]:,} records"),
            TextColumn("{task.fields[rate]:,.0f} rec/s"),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> IngestProgress:
        if self._enabled:
            self._bar.start()
            self._task = self._bar.add_task("ingest", total=None, files="0/0", records=0, rate=0.0)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._enabled:
            self._bar.stop()

    def update(self, p) -> None:
        if self._task is None:
            return
        self._bar.update(
            self._task,
            total=p.bytes_total or None,
            completed=p.bytes_done,
            files=f"{p.files_done}/{p.files_total}",
            records=p.records,
            rate=p.records / p.seconds if p.seconds > 0 else 0.0,
        )
