"""A progress display on stderr for an ingest: a total row (files, records, records/s, ETA)
and one row per file being read, refreshed as the workers report (several times a second)."""

from __future__ import annotations

from pathlib import PurePath
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from logonscope.tui.output import visible

MAX_FILE_ROWS = 8  # more files at once than this: the total row says it


def eta_text(seconds: float | None) -> str:
    """`ETA 1:05` (or `ETA …` while there is no pace yet)."""
    if seconds is None:
        return "ETA …"
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return (
        f"ETA {hours}:{rest // 60:02d}:{rest % 60:02d}"
        if hours
        else f"ETA {rest // 60}:{rest % 60:02d}"
    )


def file_label(source: str, width: int = 40) -> str:
    """A file's name (and its folder, usually the host) as a terminal shows it safely."""
    parts = PurePath(source).parts[-2:]
    text = visible("/".join(parts))
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def ingest_lines(p: Any) -> list[str]:
    """The progress as text: a total line, then a line per file being read."""
    if p.stage == "discover":
        return [f"ingest: looking for evidence… ({p.seconds:.0f} s)"]
    if p.stage == "commit":
        head = f"ingest: {p.records:,} records read from {p.files_total} files; storing…"
        return [head]
    lines = [
        f"ingest: {p.files_done}/{p.files_total} files · {p.records:,} records · "
        f"{p.rate:,.0f} records/s · {eta_text(p.eta)}"
    ]
    for f in p.current[:MAX_FILE_ROWS]:
        lines.append(f"  {file_label(f.source)}: {f.records:,} records ({f.fraction:.0%})")
    if len(p.current) > MAX_FILE_ROWS:
        lines.append(f"  … {len(p.current) - MAX_FILE_ROWS} more")
    return lines


class IngestProgress:
    """Context manager whose `update` is the ingest progress callback."""

    def __init__(self, enabled: bool = True) -> None:
        self._console = Console(stderr=True, markup=False, highlight=False)
        self._enabled = enabled and self._console.is_terminal
        self._bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.fields[files]}", markup=False),
            TextColumn("{task.fields[records]:,} records"),
            TextColumn("{task.fields[rate]:,.0f} rec/s"),
            TextColumn("{task.fields[eta]}", markup=False),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._files: dict[str, TaskID] = {}

    def __enter__(self) -> IngestProgress:
        if self._enabled:
            self._bar.start()
            self._task = self._bar.add_task(
                "ingest", total=None, files="0/0 files", records=0, rate=0.0, eta=""
            )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._enabled:
            self._bar.stop()

    def update(self, p: Any) -> None:
        if self._task is None:
            return
        self._bar.update(
            self._task,
            total=p.bytes_total or None,
            completed=p.bytes_done,
            files=f"{p.files_done}/{p.files_total} files",
            records=p.records,
            rate=p.rate,
            eta={"commit": "storing…", "discover": "looking…"}.get(p.stage, eta_text(p.eta)),
        )
        live = {f.source: f for f in p.current[:MAX_FILE_ROWS]}
        for source in [s for s in self._files if s not in live]:
            self._bar.remove_task(self._files.pop(source))
        for source, f in live.items():
            if source not in self._files:
                self._files[source] = self._bar.add_task(
                    "  " + file_label(source), total=1.0, files="", records=0, rate=0.0, eta=""
                )
            self._bar.update(
                self._files[source], completed=f.fraction, records=f.records, rate=f.rate
            )
