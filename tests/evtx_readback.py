"""Test helper: read EVTX files back with both parsers into one comparable shape.

Each record becomes a dict: record_id, event_id, time (aware datetime), channel, provider,
computer, activity_id, user_sid and `fields` (name -> text or JSON value as the parser gave
it). python-evtx reads every chunk (`include_inactive=True`), never trusting the header count.
Also checks every CRC32 of a file independently of both parsers. Not used by the product.
python-evtx's `Record.xml()` re-walks the template for every record (~100 records/s); the
product's `pyevtx_xml.render` gives the same XML walking each template once per chunk
(`test_python_evtx_rendering_is_the_same_as_record_xml` holds the two equal).
"""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import evtx
import Evtx.Evtx as PyEvtx

from logonscope.storage.pyevtx_xml import Segments, render


def _strip_ns(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_time(text: str) -> datetime:
    """Both parsers' time text -> aware UTC datetime (µs)."""
    text = text.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:  # fromisoformat (3.10) wants exactly 3 or 6 fractional digits
        head, _, frac = text.partition(".")
        digits = "".join(ch for ch in frac if ch.isdigit())
        rest = frac[len(digits) :]
        text = f"{head}.{(digits + '000000')[:6]}{rest}"
    got = datetime.fromisoformat(text)
    return got if got.tzinfo else got.replace(tzinfo=timezone.utc)


def read_rust(path: str | Path) -> list[dict[str, Any]]:
    out = []
    for rec in evtx.PyEvtxParser(str(path)).records_json():
        ev = json.loads(rec["data"])["Event"]
        s = ev["System"]
        eid = s["EventID"]
        if isinstance(eid, dict):
            eid = eid["#text"]
        corr = s.get("Correlation") or {}
        sec = s.get("Security") or {}
        fields: dict[str, Any] = {}
        if "EventData" in ev:
            fields = {k: v for k, v in (ev["EventData"] or {}).items() if k != "#attributes"}
        elif "UserData" in ev:
            (inner,) = ev["UserData"].values()
            fields = {k: v for k, v in (inner or {}).items() if k != "#attributes"}
        out.append(
            {
                "record_id": int(s["EventRecordID"]),
                "event_id": int(eid),
                "time": parse_time(s["TimeCreated"]["#attributes"]["SystemTime"]),
                "channel": s["Channel"],
                "provider": s["Provider"]["#attributes"]["Name"],
                "computer": s["Computer"],
                "activity_id": corr.get("#attributes", {}).get("ActivityID"),
                "user_sid": sec.get("#attributes", {}).get("UserID"),
                "fields": fields,
            }
        )
    return out


def _python_evtx_records(path: str | Path, only: int | None = None):
    with PyEvtx.Evtx(str(path)) as fh:
        for i, chunk in enumerate(fh.get_file_header().chunks(include_inactive=True)):
            if (only is not None and i != only) or not chunk.check_magic():
                continue
            cache: dict[int, Segments] = {}
            yield from (render(r.root(), cache) for r in chunk.records())


def read_python(path: str | Path, only_chunk: int | None = None) -> list[dict[str, Any]]:
    """Every record (or those of one chunk, to share a slow file between processes)."""
    out = []
    for xml in _python_evtx_records(path, only_chunk):
        root = ET.fromstring(xml)
        system = next(c for c in root if _strip_ns(c.tag) == "System")
        s = {_strip_ns(c.tag): c for c in system}
        fields: dict[str, Any] = {}
        for part in root:
            tag = _strip_ns(part.tag)
            if tag == "EventData":
                for d in part:
                    fields[d.get("Name") or _strip_ns(d.tag)] = d.text or ""
            elif tag == "UserData":
                for inner in part:
                    for d in inner:
                        fields[_strip_ns(d.tag)] = d.text or ""
        out.append(
            {
                "record_id": int(s["EventRecordID"].text),
                "event_id": int(s["EventID"].text),
                "time": parse_time(s["TimeCreated"].get("SystemTime")),
                "channel": s["Channel"].text,
                "provider": s["Provider"].get("Name"),
                "computer": s["Computer"].text,
                "activity_id": (s["Correlation"].get("ActivityID") or "").strip("{}").upper()
                or None,
                "user_sid": s["Security"].get("UserID") or None,
                "fields": fields,
            }
        )
    return out


def check_crcs(path: str | Path) -> int:
    """Assert file header, chunk header and record-data CRC32s; return the chunk count."""
    data = Path(path).read_bytes()
    assert data[:8] == b"ElfFile\x00"
    (file_crc,) = struct.unpack_from("<I", data, 124)
    assert zlib.crc32(data[:120]) == file_crc, "file header CRC32"
    (n_chunks,) = struct.unpack_from("<H", data, 42)
    assert len(data) == 4096 + n_chunks * 0x10000
    for i in range(n_chunks):
        chunk = data[4096 + i * 0x10000 : 4096 + (i + 1) * 0x10000]
        assert chunk[:8] == b"ElfChnk\x00"
        free, data_crc = struct.unpack_from("<II", chunk, 48)
        (head_crc,) = struct.unpack_from("<I", chunk, 124)
        assert zlib.crc32(chunk[512:free]) == data_crc, f"chunk {i} records CRC32"
        assert zlib.crc32(chunk[128:512], zlib.crc32(chunk[:120])) == head_crc, (
            f"chunk {i} header CRC32"
        )
    with PyEvtx.Evtx(str(path)) as fh:  # and python-evtx's own checks agree
        header = fh.get_file_header()
        assert header.verify()
        assert all(c.verify() for c in header.chunks(include_inactive=True))
    return n_chunks
