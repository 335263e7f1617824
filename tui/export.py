"""Write the current view of a pane, or a command's output, to a file atomically.

The file appears whole or not at all: written to a temporary file beside the target,
flushed and fsynced, then renamed over it. Uses `tui.output.write` so exports match the
command line's machine-readable formats (CSV, JSON, JSONL, and the Timesketch and Timeline
Explorer timelines of `tui.timeline_export`). No Textual here; the app calls it from a worker.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pyarrow as pa

from logonscope.tui.output import write

FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# The file name suffix each export format gets in the app's dialog.
SUFFIXES = {
    "csv": ".csv",
    "json": ".json",
    "jsonl": ".jsonl",
    "timesketch": ".jsonl",
    "tle": ".csv",
}


def format_for(path: str | Path) -> str:
    return FORMATS.get(Path(path).suffix.lower(), "csv")


def target_of(path: str | Path) -> Path:
    """The full path a write goes to (what the app and the command line report)."""
    target = Path(path).expanduser().resolve()
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target.parent}: no such folder")
    return target


@contextmanager
def atomic_text(path: str | Path) -> Iterator[IO[str]]:
    """A text handle whose content replaces `path` only when the block ends without error."""
    target = target_of(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_table(table: pa.Table, path: str | Path, fmt: str | None = None) -> Path:
    target = target_of(path)
    with atomic_text(target) as out:
        write(table, fmt or format_for(target), out)
    return target
