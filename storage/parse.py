"""Read the records of one EVTX file as dicts shaped like the `evtx` package's JSON.

Fast path: the Rust-backed `evtx` parser. Fallback: `python-evtx`, for a whole file the fast
path cannot open or for the chunks it rejects, reading every chunk (never the header's chunk
count, which is stale in dirty logs; DESIGN 1b). Both yield the same shape, so one normaliser
serves both. Every problem is counted and described, never raised: a bad chunk must not cost
the readable ones. This module does not normalise fields or write anything.
"""

from __future__ import annotations

import mmap
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import evtx
import orjson

FILE_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
HEADER_SIZE = 0x1000
CHUNK_SIZE = 0x10000

_CHUNK_ERROR = re.compile(r"Failed to parse chunk number (\d+)")


@dataclass
class ReadReport:
    """What reading one file cost: which parser(s), what was skipped and why."""

    parsers: set[str] = field(default_factory=set)
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def parser(self) -> str:
        return "+".join(p for p in ("evtx", "python-evtx") if p in self.parsers) or "none"


@dataclass(frozen=True)
class RawRecord:
    """One record as `evtx` JSON text (`{"Event": ...}`) and the record header's timestamp."""

    json: str
    header_time: str | None


@dataclass(frozen=True)
class Layout:
    """The file's shape as its header and size tell it, to detect truncation."""

    header_chunks: int
    full_chunks: int
    partial_bytes: int
    dirty: bool


def read_layout(path: Path) -> Layout:
    with open(path, "rb") as fh:
        head = fh.read(HEADER_SIZE)
        size = fh.seek(0, 2)
    header_chunks = struct.unpack_from("<H", head, 42)[0] if len(head) >= 44 else 0
    flags = struct.unpack_from("<I", head, 120)[0] if len(head) >= 124 else 0
    body = max(size - HEADER_SIZE, 0)
    return Layout(header_chunks, body // CHUNK_SIZE, body % CHUNK_SIZE, bool(flags & 1))


def read_records(
    path: Path, report: ReadReport, parser: str = "auto", threads: int = 1
) -> Iterator[RawRecord]:
    """Yield every readable record of `path`; problems go into `report`.

    `parser`: "auto" (fast path, python-evtx for what it rejects), "evtx" or "python-evtx"
    (forced, e.g. to test the fallback). `threads`: the fast path's parsing threads (more than
    one only when a big file would otherwise leave cores idle).
    """
    _check_truncation(path, report)
    if parser == "python-evtx":
        yield from _read_python_evtx(path, report, chunks=None)
        return
    failed_chunks: list[int] = []
    try:
        yield from _read_fast(path, report, failed_chunks, threads)
    except Exception as exc:  # the fast path could not open the file at all
        report.errors.append(f"evtx could not read the file ({exc}); using python-evtx")
        if parser == "auto":
            yield from _read_python_evtx(path, report, chunks=None)
        return
    if failed_chunks and parser == "auto":
        yield from _read_python_evtx(path, report, chunks=failed_chunks)
    elif failed_chunks:
        report.errors.extend(f"chunk {n}: unreadable" for n in failed_chunks)


def _read_fast(
    path: Path, report: ReadReport, failed_chunks: list[int], threads: int
) -> Iterator[RawRecord]:
    records = evtx.PyEvtxParser(str(path), number_of_threads=threads).records_json()
    report.parsers.add("evtx")
    while True:
        try:
            rec = next(records)
        except StopIteration:
            return
        except RuntimeError as exc:
            message = str(exc)
            match = _CHUNK_ERROR.search(message)
            if match:
                failed_chunks.append(int(match.group(1)))
            else:  # one corrupt record; the parser carries on with the next
                report.skipped += 1
                report.errors.append(f"record skipped: {message[:200]}")
            continue
        yield RawRecord(rec["data"], rec.get("timestamp"))


def _read_python_evtx(
    path: Path, report: ReadReport, chunks: list[int] | None
) -> Iterator[RawRecord]:
    """python-evtx over every chunk present (or only `chunks`), skipping bad ones, counted."""
    from Evtx.Evtx import ChunkHeader  # slow import, only when the fallback is needed

    report.parsers.add("python-evtx")
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        if size < HEADER_SIZE + CHUNK_SIZE:
            return
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            n_chunks = (size - HEADER_SIZE) // CHUNK_SIZE
            wanted = range(n_chunks) if chunks is None else [c for c in chunks if c < n_chunks]
            for number in wanted:
                offset = HEADER_SIZE + number * CHUNK_SIZE
                if buf[offset : offset + 8] != CHUNK_MAGIC:
                    if chunks is not None or buf[offset : offset + CHUNK_SIZE].strip(b"\x00"):
                        report.errors.append(f"chunk {number}: bad magic, unreadable")
                    continue
                chunk = ChunkHeader(buf, offset)
                declared = _declared_records(buf, offset)
                read = 0
                try:
                    for record in chunk.records():
                        try:
                            text = orjson.dumps({"Event": _xml_to_event(record.xml())}).decode()
                        except Exception as exc:  # python-evtx raises many kinds
                            report.skipped += 1
                            report.errors.append(f"chunk {number}: record skipped ({exc})"[:200])
                            continue
                        read += 1
                        yield RawRecord(text, None)
                except Exception as exc:
                    lost = max(declared - read, 0)
                    report.skipped += lost
                    report.errors.append(
                        f"chunk {number}: stopped after {read} records ({exc})"[:200]
                    )
        finally:
            del buf  # release before the file closes


def _declared_records(buf: mmap.mmap | bytes, offset: int) -> int:
    """Records a chunk header says it holds (first/last event record numbers)."""
    first, last = struct.unpack_from("<QQ", buf, offset + 8)
    return int(last - first + 1) if 0 < first <= last and last - first < 65536 else 0


def _check_truncation(path: Path, report: ReadReport) -> None:
    """A file shorter than its header claims: no parser complains, so we do (DESIGN 1b)."""
    layout = read_layout(path)
    partial_chunk = False
    if layout.partial_bytes:
        with open(path, "rb") as fh:
            fh.seek(HEADER_SIZE + layout.full_chunks * CHUNK_SIZE)
            partial = fh.read(layout.partial_bytes)
        # Slack after the last chunk is common; only a chunk cut short is truncation.
        partial_chunk = partial[:8] == CHUNK_MAGIC
        if partial_chunk:
            declared = _declared_records(partial, 0) if len(partial) >= 24 else 0
            report.skipped += declared
            report.errors.append(
                f"truncated: file ends inside chunk {layout.full_chunks} "
                f"({layout.partial_bytes} of {CHUNK_SIZE} bytes; {declared} records in it unread)"
            )
    present = layout.full_chunks + partial_chunk
    if layout.header_chunks > present:
        missing = layout.header_chunks - present
        report.errors.append(
            f"truncated: header declares {layout.header_chunks} chunks, {missing} missing from the file"
        )


# --- python-evtx XML -> the evtx package's JSON shape -------------------------------------

_NS = re.compile(r"^\{[^}]*\}")


def _tag(element: ElementTree.Element) -> str:
    return _NS.sub("", element.tag)


def _xml_to_event(xml: str) -> dict[str, Any]:
    root = ElementTree.fromstring(xml)
    event: dict[str, Any] = {}
    for section in root:
        name = _tag(section)
        if name == "System":
            event["System"] = {_tag(c): _element_value(c) for c in section}
        elif name == "EventData":
            event["EventData"] = _event_data(section)
        else:
            event[name] = {_tag(c): _element_value(c) for c in section}
    return event


def _event_data(section: ElementTree.Element) -> dict[str, Any] | None:
    named: dict[str, Any] = {}
    unnamed: list[str | None] = []
    for child in section:
        key = child.get("Name")
        if key is not None:
            named[key] = child.text
        else:
            unnamed.append(child.text)
    if unnamed:
        named["Data"] = unnamed if len(unnamed) > 1 else unnamed[0]
    return named or None


def _element_value(element: ElementTree.Element) -> Any:
    attributes = {k: v for k, v in element.attrib.items() if v != ""}
    children = list(element)
    if children:
        value: dict[str, Any] = {_tag(c): _element_value(c) for c in children}
        if attributes:
            value["#attributes"] = attributes
        return value
    text = element.text
    if attributes and text is not None:
        return {"#attributes": attributes, "#text": text}
    if attributes:
        return {"#attributes": attributes}
    return text
