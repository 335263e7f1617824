"""EVTX geometry: the signatures, the 64 KiB chunks and what each chunk header claims.

Used to check the fast parser's work chunk by chunk (storage.parse) and to recognise damaged
files (storage.discover). Reads headers only; never parses records.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass
from pathlib import Path

FILE_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
HEADER_SIZE = 0x1000
CHUNK_SIZE = 0x10000


def looks_like(head: bytes, magic: bytes) -> bool:
    """The signature, or one damaged in at most two bytes with a header behind it: a flipped
    bit in a signature must not cost a chunk (or file) python-evtx still reads."""
    if head[: len(magic)] == magic:
        return True
    damaged = sum(a != b for a, b in zip(head[: len(magic)], magic, strict=False))
    return len(head) >= 40 and damaged <= 2 and any(head[8:40])


@dataclass(frozen=True)
class ChunkInfo:
    """A chunk as its header describes it: where, and which record ids it should hold."""

    number: int
    first_id: int
    last_id: int

    @property
    def declared(self) -> int:
        """Records the header says the chunk holds (0: the header does not say sensibly)."""
        if 0 < self.first_id <= self.last_id and self.last_id - self.first_id < 65536:
            return self.last_id - self.first_id + 1
        return 0


def scan_chunks(path: Path, first: int = 0, stop: int | None = None) -> list[ChunkInfo]:
    """Every full chunk with a chunk signature, whatever the file header's count says (only
    chunks [first, stop) when given: a worker reading part of the file)."""
    out: list[ChunkInfo] = []
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        full = max(size - HEADER_SIZE, 0) // CHUNK_SIZE
        for number in range(first, full if stop is None else min(stop, full)):
            fh.seek(HEADER_SIZE + number * CHUNK_SIZE)
            head = fh.read(40)
            if not looks_like(head, CHUNK_MAGIC):
                continue
            first_id, last_id = struct.unpack_from("<QQ", head, 24)
            out.append(ChunkInfo(number, first_id, last_id))
    return out


def all_read(ids: list[int], chunks: list[ChunkInfo]) -> bool:
    """Whether `ids` are exactly the records the chunk headers declare, in chunks whose id
    ranges do not overlap: then every chunk was read whole and `attribute` (a Python loop
    per record) has nothing to find. Sorting and comparing run at C speed."""
    ranges = sorted((c.first_id, c.last_id) for c in chunks)
    if any(c.declared == 0 for c in chunks) or len(ids) != sum(c.declared for c in chunks):
        return False
    if any(prev[1] >= cur[0] for prev, cur in zip(ranges, ranges[1:], strict=False)):
        return False
    expected: list[int] = []
    for first, last in ranges:
        expected += range(first, last + 1)
    return sorted(ids) == expected


def attribute(ids: list[int], chunks: list[ChunkInfo]) -> tuple[list[list[int]], list[int]]:
    """The fast path's record ids (in the order it gave them, which is chunk order) per chunk,
    by each chunk header's id range; ids no chunk claims are returned apart."""
    per_chunk: list[list[int]] = [[] for _ in chunks]
    stray: list[int] = []
    if not chunks:
        return per_chunk, list(ids)
    starts = sorted((c.first_id, i) for i, c in enumerate(chunks))
    at = 0
    current = chunks[0]
    for rid in ids:
        if current.first_id <= rid <= current.last_id:
            per_chunk[at].append(rid)
            continue
        # The next chunk that holds it: chunks evtx skipped whole give no ids at all.
        k = bisect.bisect_right(starts, (rid, len(chunks))) - 1
        found = [
            i
            for _, i in starts[max(k - 3, 0) : k + 1]
            if i > at and chunks[i].first_id <= rid <= chunks[i].last_id
        ]
        if found:
            at = min(found)
            current = chunks[at]
            per_chunk[at].append(rid)
        else:
            stray.append(rid)
    return per_chunk, stray


def record_signatures(path: Path, number: int) -> int:
    """Record signatures in the used part of a chunk: its header's record count can be stale
    (a chunk being rewritten when the log wrapped), the records actually there are not."""
    with open(path, "rb") as fh:
        fh.seek(HEADER_SIZE + number * CHUNK_SIZE)
        data = fh.read(CHUNK_SIZE)
    free = struct.unpack_from("<I", data, 48)[0] if len(data) >= 52 else 0
    end = free if 512 < free <= CHUNK_SIZE else CHUNK_SIZE
    return data.count(b"**\x00\x00", 512, end)
