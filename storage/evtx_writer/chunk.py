"""One 64 KiB EVTX chunk being filled: records, string table, template table, CRC32s.

A record is encoded against the chunk's current state (names and template definitions are
written inline on first use, referenced afterwards); if it does not fit, every table change
it made is rolled back and the caller starts a new chunk. Must not touch files.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import Any

from .binxml import (
    FRAGMENT_HEADER,
    TOK_EOF,
    TOK_TEMPLATE_INSTANCE,
    NameTable,
    Template,
    encode_fragment,
)
from .events import N_SYSTEM, EventType, templates_for
from .values import ENCODERS, VT, to_filetime

CHUNK_SIZE = 0x10000
CHUNK_HEADER_SIZE = 512
RECORD_HEADER = struct.Struct("<4sIQQ")  # "**\0\0", size, record identifier, written FILETIME
_U32 = struct.Struct("<I")
_DEF_HEAD = struct.Struct("<I16sI")
_INSTANCE = struct.Struct("<BBII")
_DESC_STRUCTS: dict[int, struct.Struct] = {}

MAX_RECORD_SIZE = CHUNK_SIZE - CHUNK_HEADER_SIZE


class RecordTooLarge(ValueError):
    """A record that cannot fit even in an empty chunk."""


def _desc_struct(n: int) -> struct.Struct:
    s = _DESC_STRUCTS.get(n)
    if s is None:
        s = _DESC_STRUCTS[n] = struct.Struct("<I" + "HBx" * n)
    return s


class _SystemConstants:
    """Encoded System values that never change for an event type."""

    __slots__ = (
        "channel",
        "data_encoders",
        "data_types",
        "event_id",
        "inner",
        "keywords",
        "level",
        "opcode",
        "outer",
        "provider",
        "provider_guid",
        "qualifiers",
        "task",
        "version",
    )

    def __init__(self, et: EventType) -> None:
        enc = ENCODERS
        self.level = enc[VT.UINT8](et.level)
        self.opcode = None if et.opcode is None else enc[VT.UINT8](et.opcode)
        self.task = enc[VT.UINT16](et.task)
        self.event_id = enc[VT.UINT16](et.event_id)
        self.qualifiers = None if et.qualifiers is None else enc[VT.UINT16](et.qualifiers)
        self.keywords = enc[VT.HEX64](et.keywords)
        self.version = None if et.version is None else enc[VT.UINT8](et.version)
        self.provider = enc[VT.STRING](et.provider)
        self.provider_guid = None if et.provider_guid is None else enc[VT.GUID](et.provider_guid)
        self.channel = enc[VT.STRING](et.channel)
        self.outer, self.inner = templates_for(et.layout)
        self.data_types = tuple(f.vtype for f in et.layout.fields)
        self.data_encoders = tuple(ENCODERS[t] for t in self.data_types)


_CONSTANTS: dict[int, tuple[EventType, _SystemConstants]] = {}


def _constants(et: EventType) -> _SystemConstants:
    got = _CONSTANTS.get(id(et))
    if got is None or got[0] is not et:
        got = _CONSTANTS[id(et)] = (et, _SystemConstants(et))
    return got[1]


_VARIABLE = struct.Struct("<Q")
_GUID = ENCODERS[VT.GUID]
_EXEC = struct.Struct("<IIQ")


class _SystemLayout:
    """System values 0..17 for one (event type, computer, activity?, user SID): descriptors and
    the constant bytes around the per-record ones (time; process, thread, record id)."""

    __slots__ = ("desc", "head", "tail")

    def __init__(
        self,
        c: _SystemConstants,
        computer: str,
        has_activity: bool,
        user_sid: str | None,
        related: str | None,
    ) -> None:
        enc = ENCODERS
        act = b"\0" * 16 if has_activity else None
        vals = (
            (c.level, VT.UINT8),
            (c.opcode, VT.UINT8),
            (c.task, VT.UINT16),
            (c.event_id, VT.UINT16),
            (c.qualifiers, VT.UINT16),
            (c.keywords, VT.HEX64),
            (b"\0" * 8, VT.FILETIME),
            (act, VT.GUID),
            (b"\0" * 4, VT.UINT32),
            (b"\0" * 4, VT.UINT32),
            (b"\0" * 8, VT.UINT64),
            (c.version, VT.UINT8),
            (None if user_sid is None else enc[VT.SID](user_sid), VT.SID),
            (None if related is None else enc[VT.GUID](related), VT.GUID),
            (c.provider, VT.STRING),
            (c.provider_guid, VT.GUID),
            (c.channel, VT.STRING),
            (enc[VT.STRING](computer), VT.STRING),
        )
        desc: list[int] = []
        for b, t in vals:
            desc += (0, 0) if b is None else (len(b), t)
        self.desc = tuple(desc)
        self.head = b"".join(b for b, _ in vals[:6] if b is not None)
        self.tail = b"".join(b for b, _ in vals[11:] if b is not None)


_LAYOUTS: dict[tuple[Any, ...], _SystemLayout] = {}


def _system_layout(
    c: _SystemConstants,
    computer: str,
    has_activity: bool,
    user_sid: str | None,
    related: str | None,
) -> _SystemLayout:
    key = (id(c), computer, has_activity, user_sid, related)
    got = _LAYOUTS.get(key)
    if got is None:
        if len(_LAYOUTS) > 10_000:  # many hosts x users: keep the cache bounded
            _LAYOUTS.clear()
        got = _LAYOUTS[key] = _SystemLayout(c, computer, has_activity, user_sid, related)
    return got


class Chunk:
    """Records packed from offset 512; header and tables written by `finish()`."""

    __slots__ = (
        "_tjournal",
        "buf",
        "count",
        "first_id",
        "first_number",
        "last_id",
        "last_offset",
        "names",
        "pos",
        "template_heads",
        "templates",
    )

    def __init__(self, first_number: int) -> None:
        self.buf = bytearray(CHUNK_SIZE)
        self.pos = CHUNK_HEADER_SIZE
        self.names = NameTable()
        self.templates: dict[bytes, int] = {}
        self.template_heads = [0] * 32
        self._tjournal: list[tuple[bytes, int, int]] = []
        self.first_number = first_number
        self.first_id = 0
        self.last_id = 0
        self.count = 0
        self.last_offset = 0

    # -- templates -------------------------------------------------------------------------
    def _instance(self, tpl: Template, at: int, out: bytearray) -> None:
        """Append a template instance header at chunk offset `at` (+ definition if new)."""
        known = self.templates.get(tpl.guid)
        if known is not None:
            out += _INSTANCE.pack(TOK_TEMPLATE_INSTANCE, 1, tpl.tid, known)
            return
        def_at = at + 10
        out += _INSTANCE.pack(TOK_TEMPLATE_INSTANCE, 1, tpl.tid, def_at)
        # Our choice of bucket; parsers walk every bucket's chain.
        bucket = tpl.tid % 32
        body = encode_fragment(tpl.root, def_at + 24, self.names)
        out += _DEF_HEAD.pack(self.template_heads[bucket], tpl.guid, len(body))
        out += body
        self._tjournal.append((tpl.guid, bucket, self.template_heads[bucket]))
        self.templates[tpl.guid] = def_at
        self.template_heads[bucket] = def_at

    def _rollback(self, name_mark: int, tmark: int) -> None:
        self.names.rollback(name_mark)
        while len(self._tjournal) > tmark:
            guid, bucket, head = self._tjournal.pop()
            del self.templates[guid]
            self.template_heads[bucket] = head

    # -- records ---------------------------------------------------------------------------
    def add(
        self,
        et: EventType,
        time: Any,
        record_id: int,
        computer: str,
        values: Sequence[Any],
        pid: int = 0,
        tid: int = 0,
        activity_id: str | None = None,
        user_sid: str | None = None,
        related_activity_id: str | None = None,
    ) -> bool:
        """Encode and append one record; False (and no change) if it does not fit."""
        c = _constants(et)
        ticks = time if type(time) is int else to_filetime(time)
        sysk = _system_layout(c, computer, activity_id is not None, user_sid, related_activity_id)
        if len(values) != len(c.data_types):
            raise ValueError(
                f"{et.channel} {et.event_id}: {len(values)} values for {len(c.data_types)} fields"
            )
        name_mark, tmark = self.names.mark(), len(self._tjournal)
        start = self.pos
        out = bytearray(FRAGMENT_HEADER)
        self._instance(c.outer, start + 24 + len(out), out)
        desc = list(sysk.desc)
        parts = [
            sysk.head,
            _VARIABLE.pack(ticks),
            b"" if activity_id is None else _GUID(activity_id),
            _EXEC.pack(pid, tid, record_id),
            sysk.tail,
        ]
        if c.inner is None:
            for v, t, e in zip(values, c.data_types, c.data_encoders, strict=True):
                if v is None:
                    desc += (0, 0)
                else:
                    b = e(v)
                    desc += (len(b), t)
                    parts.append(b)
            n = N_SYSTEM + len(values)
        else:
            n = N_SYSTEM + 1
            desc_len = 4 + 4 * n
            value_at = start + 24 + len(out) + desc_len + sum(map(len, parts))
            b = self._nested(c, values, value_at)
            desc += (len(b), VT.BINXML)
            parts.append(b)
        out += _desc_struct(n).pack(n, *desc)
        out += b"".join(parts)
        out.append(TOK_EOF)
        size = 24 + len(out) + 4
        pad = -size % 8  # Windows keeps records 8-byte aligned
        size += pad
        if size > MAX_RECORD_SIZE and self.count == 0:
            self._rollback(name_mark, tmark)
            raise RecordTooLarge(f"record of {size} bytes cannot fit in a 64 KiB chunk")
        if start + size > CHUNK_SIZE:
            self._rollback(name_mark, tmark)
            return False
        self.names.commit()
        self._tjournal.clear()
        buf = self.buf
        RECORD_HEADER.pack_into(buf, start, b"**\x00\x00", size, record_id, ticks)
        end = start + 24 + len(out)
        buf[start + 24 : end] = out
        _U32.pack_into(buf, start + size - 4, size)  # padding bytes are already zero
        self.pos = start + size
        if self.count == 0:
            self.first_id = record_id
        self.last_id = record_id
        self.last_offset = start
        self.count += 1
        return True

    def _nested(self, c: _SystemConstants, values: Sequence[Any], at: int) -> bytes:
        """A UserData BinXML value: template instance + values + end of stream, at `at`."""
        out = bytearray()
        assert c.inner is not None, "only UserData layouts nest a template"
        self._instance(c.inner, at, out)
        desc: list[int] = []
        parts: list[bytes] = []
        for v, t, e in zip(values, c.data_types, c.data_encoders, strict=True):
            if v is None:
                desc += (0, 0)
            else:
                b = e(v)
                desc += (len(b), t)
                parts.append(b)
        n = len(values)
        out += _desc_struct(n).pack(n, *desc)
        out += b"".join(parts)
        out.append(TOK_EOF)
        return bytes(out)

    # -- header ----------------------------------------------------------------------------
    def finish(self) -> bytes:
        """Write header, string and template tables and both CRC32s; return the 64 KiB."""
        buf = self.buf
        last_number = self.first_number + self.count - 1
        struct.pack_into(
            "<8sQQQQIII",
            buf,
            0,
            b"ElfChnk\x00",
            self.first_number,
            last_number,
            self.first_id,
            self.last_id,
            128,
            self.last_offset,
            self.pos,
        )
        struct.pack_into("<64I", buf, 128, *self.names.heads)
        struct.pack_into("<32I", buf, 384, *self.template_heads)
        _U32.pack_into(buf, 52, zlib.crc32(buf[CHUNK_HEADER_SIZE : self.pos]))
        _U32.pack_into(buf, 124, zlib.crc32(buf[128:512], zlib.crc32(buf[0:120])))
        return bytes(buf)
