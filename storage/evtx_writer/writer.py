"""EVTX files: the 4 KiB file header, chunks appended as they fill, rollover to new files.

`EvtxWriter` streams: it holds one chunk in memory, writes each full chunk to disk, and when a
file reaches `max_bytes` closes it (final header with CRC32) and continues in the next file,
with EventRecordIDs running on as Windows does when it archives a log. Must not decide what
events say (that is the scenario generator's job).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .chunk import CHUNK_SIZE, Chunk
from .events import EventType

FILE_HEADER_SIZE = 4096
# Windows' default maximum size of the Security log is 20 MiB; rolled files stay under it.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass
class WrittenFile:
    path: Path
    records: int
    chunks: int
    first_record_id: int
    last_record_id: int


def rollover_name(base: Path, index: int) -> Path:
    """Security.evtx, then Security-002.evtx, Security-003.evtx, ..."""
    if index == 1:
        return base
    return base.with_name(f"{base.stem}-{index:03d}{base.suffix}")


def file_header(
    first_chunk: int, last_chunk: int, next_record_id: int, chunks: int, flags: int = 0
) -> bytes:
    head = struct.pack(
        "<8sQQQIHHHH",
        b"ElfFile\x00",
        first_chunk,
        last_chunk,
        next_record_id,
        128,
        1,
        3,
        FILE_HEADER_SIZE,
        chunks,
    )
    head = head + bytes(120 - len(head)) + struct.pack("<I", flags)
    head += struct.pack("<I", zlib.crc32(head[:120]))
    return head + bytes(FILE_HEADER_SIZE - len(head))


class EvtxWriter:
    """Write records to `path` (and its rollovers). Use as a context manager or call close()."""

    def __init__(
        self,
        path: str | Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        first_record_id: int = 1,
        name_for: Callable[[Path, int], Path] = rollover_name,
    ) -> None:
        if max_bytes < FILE_HEADER_SIZE + CHUNK_SIZE:
            raise ValueError(
                f"max_bytes must hold at least one chunk ({FILE_HEADER_SIZE + CHUNK_SIZE})"
            )
        self.base = Path(path)
        self.max_chunks = min((max_bytes - FILE_HEADER_SIZE) // CHUNK_SIZE, 0xFFFF)
        self.name_for = name_for
        self.next_record_id = first_record_id
        self.files: list[WrittenFile] = []
        self._fh: BinaryIO | None = None
        self._chunks_in_file = 0
        self._records_in_file = 0
        self._number_in_file = 1
        self._file_first_id = first_record_id
        self._chunk: Chunk | None = None
        self._path_for = 0
        self._path = self.base

    @property
    def current_path(self) -> Path:
        # Cached: write() returns it for every record.
        n = len(self.files) + 1
        if self._path_for != n:
            self._path, self._path_for = self.name_for(self.base, n), n
        return self._path

    def write(
        self,
        et: EventType,
        time: Any,
        values: Sequence[Any],
        *,
        computer: str,
        pid: int = 0,
        tid: int = 0,
        activity_id: str | None = None,
        user_sid: str | None = None,
        record_id: int | None = None,
    ) -> tuple[Path, int]:
        """Append one record; returns (file it landed in, its EventRecordID)."""
        rid = self.next_record_id if record_id is None else record_id
        if self._fh is None:
            self._open()
        chunk = self._chunk
        if chunk is None:
            chunk = self._chunk = Chunk(self._number_in_file)
        if not chunk.add(et, time, rid, computer, values, pid, tid, activity_id, user_sid):
            self._flush_chunk()
            if self._fh is None:
                self._open()
            chunk = self._chunk = Chunk(self._number_in_file)
            chunk.add(et, time, rid, computer, values, pid, tid, activity_id, user_sid)
        if self._records_in_file == 0:
            self._file_first_id = rid
        self._records_in_file += 1
        self._number_in_file += 1
        self.next_record_id = rid + 1
        return self.current_path, rid

    def _open(self) -> None:
        path = self.current_path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "wb")  # noqa: SIM115 - spans write() calls, closed by close()
        self._fh.write(file_header(0, 0, self.next_record_id, 0))
        self._chunks_in_file = 0
        self._records_in_file = 0
        self._number_in_file = 1

    def _flush_chunk(self) -> None:
        chunk, fh = self._chunk, self._fh
        self._chunk = None
        if chunk is None or chunk.count == 0 or fh is None:
            return
        fh.write(chunk.finish())
        self._chunks_in_file += 1
        if self._chunks_in_file >= self.max_chunks:
            self._close_file()

    def _close_file(self) -> None:
        fh = self._fh
        if fh is None:
            return
        n = self._chunks_in_file
        fh.seek(0)
        fh.write(file_header(0, max(n - 1, 0), self.next_record_id, n))
        fh.close()
        self._fh = None
        self.files.append(
            WrittenFile(
                self.current_path,
                self._records_in_file,
                n,
                self._file_first_id,
                self.next_record_id - 1,
            )
        )

    def close(self) -> list[WrittenFile]:
        """Flush the last chunk and header; returns every file written."""
        self._flush_chunk()
        self._close_file()
        return self.files

    def __enter__(self) -> EvtxWriter:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
