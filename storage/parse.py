"""Read the records of one EVTX file as dicts shaped like the `evtx` package's JSON.

Fast path: the Rust-backed `evtx` parser. Fallback: `python-evtx`, for a whole file the fast
path cannot open or for the chunks it rejects, reading every chunk (never the header's chunk
count, which is stale in dirty logs; DESIGN 1b). Both yield the same shape, so one normaliser
serves both. Every problem is counted and described, never raised: a bad chunk must not cost
the readable ones. This module does not normalise fields or write anything.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import evtx
import orjson

from logonscope.storage.chunk_view import ChunkView, Span
from logonscope.storage.chunks import (
    CHUNK_MAGIC,
    CHUNK_SIZE,
    FILE_MAGIC,
    HEADER_SIZE,
    ChunkInfo,
    all_read,
    attribute,
    looks_like,
    record_signatures,
    scan_chunks,
)
from logonscope.storage.xml_event import xml_to_event

__all__ = [
    "CHUNK_MAGIC",
    "CHUNK_SIZE",
    "FILE_MAGIC",
    "HEADER_SIZE",
    "Batch",
    "ReadReport",
    "read_batches",
    "read_records",
]

# What a parser failure must never swallow (a Rust panic arrives as a BaseException too).
_NOT_OURS = (KeyboardInterrupt, SystemExit, GeneratorExit)
_CHUNK_ERROR = re.compile(r"chunk number (\d+)")


@dataclass
class ReadReport:
    """What reading one file cost: which parser(s), what was skipped and why."""

    parsers: set[str] = field(default_factory=set)
    skipped: int = 0
    recovered: int = 0  # records python-evtx read that the fast path did not
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


# Records in runs: (JSON texts, header times), as many of each.
Batch = tuple[list[str], list[str | None]]


def read_records(
    path: Path, report: ReadReport, parser: str = "auto", threads: int = 1
) -> Iterator[RawRecord]:
    """Yield every readable record of `path`; problems go into `report`.

    `parser`: "auto" (fast path, python-evtx for what it rejects), "evtx" or "python-evtx"
    (forced, e.g. to test the fallback). `threads`: the fast path's parsing threads (more than
    one only when a big file would otherwise leave cores idle).
    """
    for texts, times in read_batches(path, report, parser, threads):
        yield from map(RawRecord, texts, times)


def read_batches(
    path: Path,
    report: ReadReport,
    parser: str = "auto",
    threads: int = 1,
    size: int = 1024,
    span: Span | None = None,
) -> Iterator[Batch]:
    """`read_records` in runs of up to `size` records: no Python object per record beyond
    what the parser makes, which is most of the per-record cost of an ingest. With `span`,
    only those chunks (one worker's share of a big file; the last share checks truncation)."""
    whole = span or Span(0, 0, True)
    if whole.to_end:
        _check_truncation(path, report)
    if parser == "python-evtx":
        yield from _batched(_read_python_evtx(path, report, whole), size)
        return
    ids: list[int] = []
    errors_before = len(report.errors)
    try:
        yield from _read_fast(path, report, ids, threads, size, span)
    except BaseException as exc:  # the fast path could not open the file at all
        if isinstance(exc, _NOT_OURS):
            raise
        report.errors.append(f"evtx could not read the file ({exc}); using python-evtx")
        if parser == "auto":
            yield from _batched(_read_python_evtx(path, report, whole), size)
        return
    fast_errors = report.errors[errors_before:]
    del report.errors[errors_before:]
    recovered = _recover_chunks(path, report, ids, fast_errors, parser == "auto", whole)
    yield from _batched(recovered, size)
    report.errors.extend(fast_errors)  # the parser's own words, after the per-chunk summary


def _batched(records: Iterator[RawRecord], size: int) -> Iterator[Batch]:
    texts: list[str] = []
    times: list[str | None] = []
    for raw in records:
        texts.append(raw.json)
        times.append(raw.header_time)
        if len(texts) >= size:
            yield texts, times
            texts, times = [], []
    if texts:
        yield texts, times


def _recover_chunks(
    path: Path,
    report: ReadReport,
    ids: list[int],
    fast_errors: list[str],
    fallback: bool,
    span: Span,
) -> Iterator[RawRecord]:
    """Compare what the fast path read with what each chunk holds; give every chunk that came
    up short (or, after an error, whose header gives no count) to python-evtx, yielding only
    the records the fast path did not. The shortfall left is counted as skipped."""
    chunks = scan_chunks(path, span.first, None if span.to_end else span.stop)
    if not fast_errors and all_read(ids, chunks):  # the usual case: every chunk read whole
        return
    present = {c.number for c in chunks}
    for number in sorted({int(n) for e in fast_errors for n in _CHUNK_ERROR.findall(e)}):
        if number not in present:
            report.errors.append(f"chunk {number}: bad magic, unreadable")
    per_chunk, stray = attribute(ids, chunks)
    short: list[tuple[ChunkInfo, int, int]] = []
    for chunk, got_ids in zip(chunks, per_chunk, strict=True):
        got = len(got_ids)
        if got < chunk.declared:
            expected = min(chunk.declared, record_signatures(path, chunk.number))
            if got < expected:
                short.append((chunk, got, expected))
        elif fast_errors and not chunk.declared:
            short.append((chunk, 0, 0))
    if not short:
        report.skipped += sum(not _CHUNK_ERROR.search(e) for e in fast_errors)
        return
    strays = set(stray)
    for chunk, got, expected in short:
        recovered = 0
        if fallback:
            # A record counts once per chunk: a duplicated chunk is read again (and its records
            # counted as duplicates at commit), a record evtx gave from this chunk is not.
            seen = set(per_chunk[chunks.index(chunk)]) | strays
            for record_id, raw in _python_evtx_chunk(path, report, chunk.number, seen):
                if record_id in seen:
                    continue
                seen.add(record_id)
                recovered += 1
                yield raw
            report.recovered += recovered
        missing = max(expected - got - recovered, 0)
        report.skipped += missing
        if missing or recovered:
            how = f"python-evtx recovered {recovered}, " if fallback else ""
            report.errors.append(
                f"chunk {chunk.number}: evtx read {got} of {expected or 'unknown'} records; "
                f"{how}{missing} unreadable"
            )


def _read_fast(
    path: Path, report: ReadReport, ids: list[int], threads: int, size: int, span: Span | None
) -> Iterator[Batch]:
    source: Any = str(path) if span is None else ChunkView(path, span)
    try:
        yield from _parse_fast(source, report, ids, threads, size, span)
    finally:
        if span is not None:
            source.close()


def _parse_fast(
    source: Any, report: ReadReport, ids: list[int], threads: int, size: int, span: Span | None
) -> Iterator[Batch]:
    records = evtx.PyEvtxParser(source, number_of_threads=threads).records_json()
    report.parsers.add("evtx")
    said = span.file_numbers if span is not None else str
    seen = ids.append
    texts: list[str] = []
    times: list[str | None] = []
    rec: Any  # evtx's stubs say Optional; it never yields None
    while True:
        try:
            # one `for` over the native iterator, re-entered after each error it raises
            for rec in records:
                seen(rec["event_record_id"])
                texts.append(rec["data"])
                times.append(rec.get("timestamp"))
                if len(texts) >= size:
                    yield texts, times
                    texts, times = [], []
            break
        except RuntimeError as exc:  # a chunk or record it gives up on; it goes on after it
            report.errors.append(f"evtx: {_one_line(said(str(exc)))[:200]}")
        except BaseException as exc:  # a panic in the native parser is a BaseException
            if isinstance(exc, _NOT_OURS):
                raise
            stop = _one_line(said(str(exc)))[:200]
            report.errors.append(f"evtx stopped: {type(exc).__name__}: {stop}")
            break
    if texts:
        yield texts, times


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _python_evtx_chunk(
    path: Path, report: ReadReport, number: int, skip: Collection[int] = ()
) -> Iterator[tuple[int, RawRecord]]:
    """(record id, record) of one chunk read by python-evtx; a failure stops that chunk.
    Records whose id is in `skip` (read already by the fast path) are not rendered: rendering
    is nearly all of python-evtx's cost, and a damaged chunk is mostly readable."""
    from Evtx.Evtx import ChunkHeader  # slow import, only when the fallback is needed

    from logonscope.storage.pyevtx_xml import Segments, render

    logging.getLogger("Evtx").addHandler(logging.NullHandler())  # its warnings: not on stderr
    report.parsers.add("python-evtx")
    with open(path, "rb") as fh:
        offset = HEADER_SIZE + number * CHUNK_SIZE
        fh.seek(offset)
        data = fh.read(CHUNK_SIZE)
    if len(data) < CHUNK_SIZE or not looks_like(data, CHUNK_MAGIC):
        return
    templates: dict[int, Segments] = {}  # each template walked once per chunk
    try:
        for record in ChunkHeader(data, 0).records():
            try:
                record_id = record.record_num()
                if record_id in skip:
                    continue
                xml = render(record.root(), templates)
                text = orjson.dumps({"Event": xml_to_event(xml)}).decode()
                header_time = _header_time(record)
            except Exception as exc:  # python-evtx raises many kinds
                report.errors.append(_one_line(f"chunk {number}: record unreadable ({exc})")[:200])
                continue
            yield record_id, RawRecord(text, header_time)
    except Exception as exc:
        report.errors.append(_one_line(f"chunk {number}: python-evtx stopped ({exc})")[:200])


def _header_time(record: Any) -> str | None:
    """The record header's time as the fast path writes it (used when TimeCreated is absent)."""
    try:
        return f"{record.timestamp():%Y-%m-%d %H:%M:%S.%f} UTC"
    except (ValueError, OverflowError):
        return None


def _read_python_evtx(path: Path, report: ReadReport, span: Span) -> Iterator[RawRecord]:
    """python-evtx over every chunk present in `span`, skipping bad ones, counted."""
    report.parsers.add("python-evtx")
    stop = None if span.to_end else span.stop
    present = {c.number: c for c in scan_chunks(path, span.first, stop)}
    size = path.stat().st_size
    n_chunks = max(size - HEADER_SIZE, 0) // CHUNK_SIZE
    wanted = range(span.first, n_chunks if stop is None else min(stop, n_chunks))
    with open(path, "rb") as fh:
        for number in wanted:
            info = present.get(number)
            if info is None:
                fh.seek(HEADER_SIZE + number * CHUNK_SIZE)
                if fh.read(CHUNK_SIZE).strip(b"\x00"):
                    report.errors.append(f"chunk {number}: bad magic, unreadable")
                continue
            read = 0
            for _, raw in _python_evtx_chunk(path, report, number):
                read += 1
                yield raw
            missing = max(info.declared - read, 0)
            report.skipped += missing
            if missing:
                report.errors.append(
                    f"chunk {number}: python-evtx read {read} of {info.declared} records"
                )


def _declared_records(buf: bytes, offset: int) -> int:
    """Records a chunk header says it holds (its first/last record ids)."""
    first, last = struct.unpack_from("<QQ", buf, offset + 24)
    return int(ChunkInfo(-1, first, last).declared)


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
            declared = _declared_records(partial, 0) if len(partial) >= 40 else 0
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
