"""A writer of genuine EVTX files: file header, 64 KiB chunks, string and template tables,
BinXML template instances with typed substitutions, CRC32s; read back by `evtx` and `python-evtx`.

Used by tests, the demo and benchmarks (via `storage.scenarios`). Pure standard library;
never imports the UI. See writer.py for files, chunk.py for records, binxml.py for templates.
"""

from __future__ import annotations

from .chunk import CHUNK_SIZE, RecordTooLarge
from .events import EventType, Field, Layout, event_data, user_data
from .values import VT, filetime_to_datetime, to_filetime
from .writer import DEFAULT_MAX_BYTES, EvtxWriter, WrittenFile, rollover_name

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_MAX_BYTES",
    "VT",
    "EventType",
    "EvtxWriter",
    "Field",
    "Layout",
    "RecordTooLarge",
    "WrittenFile",
    "event_data",
    "filetime_to_datetime",
    "rollover_name",
    "to_filetime",
    "user_data",
]
