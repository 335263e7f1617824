"""Write the current view of a pane to CSV, JSON or JSON Lines, atomically.

The file appears whole or not at all: written to a temporary file beside the target,
flushed and fsynced, then renamed over it. Uses `tui.output.write` so exports match the
command line's machine-readable formats. No Textual here; the app calls it from a worker.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa

from logonscope.tui.output import write

FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def format_for(path: str | Path) -> str:
    return FORMATS.get(Path(path).suffix.lower(), "csv")


def export_table(table: pa.Table, path: str | Path, fmt: str | None = None) -> Path:
    target = Path(path).expanduser().resolve()  # the full path: what the app reports
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target.parent}: no such folder")
    fmt = fmt or format_for(target)
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            write(table, fmt, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
