"""A range of one EVTX file's chunks seen as a whole EVTX file, so several workers can parse
one big log at once (a DC's multi-GB Security.evtx must not leave cores idle).

The view is the file's header (its chunk count set to the range's, checksum redone) followed
by chunks [first, stop) of the file, plus whatever follows the last full chunk when the range
runs to the end. Chunks are self-contained -- every offset inside one is relative to its start
and `evtx` only checks the header's signature -- so a record parses the same in a view as in
the whole file. The view reads the file only; it never writes.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from logonscope.storage.chunks import CHUNK_SIZE, HEADER_SIZE

_CHUNK_NUMBER = re.compile(r"(chunk number )(\d+)")


@dataclass(frozen=True)
class Span:
    """Chunks [first, stop) of a file; `to_end`: also whatever follows (the last range)."""

    first: int
    stop: int
    to_end: bool

    def has(self, number: int) -> bool:
        return self.first <= number and (self.to_end or number < self.stop)

    def file_numbers(self, message: str) -> str:
        """A parser message about the view's chunk n, about the file's chunk first + n."""
        return _CHUNK_NUMBER.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + self.first}", message)


class ChunkView(io.RawIOBase):
    """A read-only, seekable file object over `span` of the EVTX file at `path`."""

    def __init__(self, path: Path, span: Span) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed with the view
        size = self._file.seek(0, io.SEEK_END)
        self._file.seek(0)
        header = bytearray(self._file.read(HEADER_SIZE).ljust(HEADER_SIZE, b"\x00"))
        self._start = HEADER_SIZE + span.first * CHUNK_SIZE
        end = size if span.to_end else min(size, HEADER_SIZE + span.stop * CHUNK_SIZE)
        chunks = max(end - self._start, 0) // CHUNK_SIZE
        struct.pack_into("<QQ", header, 8, 0, max(chunks - 1, 0))  # oldest, current chunk
        struct.pack_into("<H", header, 42, min(chunks, 0xFFFF))
        struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
        self._header = bytes(header)
        self._length = HEADER_SIZE + max(end - self._start, 0)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._length - self._pos)
        if want <= 0:
            return 0
        if self._pos < HEADER_SIZE:
            got = min(want, HEADER_SIZE - self._pos)
            buffer[:got] = self._header[self._pos : self._pos + got]
        else:
            self._file.seek(self._start + self._pos - HEADER_SIZE)
            got = self._file.readinto(memoryview(buffer)[:want]) or 0
        self._pos += got
        return got

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(base + offset, 0)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._file.close()
        super().close()
