"""Typed substitution values of BinXML: the type codes and their little-endian encodings.

Turns Python values (str, int, bool, datetime, "S-1-5-18", GUID text) into the bytes a
template instance carries. It must not know about chunks, templates or files.
Codes and layouts follow the public "Windows XML Event Log (EVTX) format" description.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any

EPOCH_AS_FILETIME = 116444736000000000  # 1970-01-01 in 100 ns ticks since 1601-01-01


class VT(IntEnum):
    """BinXML value types (the byte in a substitution descriptor)."""

    NULL = 0x00
    STRING = 0x01
    INT8 = 0x03
    UINT8 = 0x04
    INT16 = 0x05
    UINT16 = 0x06
    INT32 = 0x07
    UINT32 = 0x08
    INT64 = 0x09
    UINT64 = 0x0A
    BOOL = 0x0D
    BINARY = 0x0E
    GUID = 0x0F
    FILETIME = 0x11
    SYSTEMTIME = 0x12
    SID = 0x13
    HEX32 = 0x14
    HEX64 = 0x15
    BINXML = 0x21


def to_filetime(value: datetime | int) -> int:
    """100 ns ticks since 1601-01-01 UTC; an int is taken as ticks already."""
    if isinstance(value, int):
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime: EVTX times are UTC, pass an aware datetime")
    delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return EPOCH_AS_FILETIME + micros * 10


def filetime_to_datetime(ticks: int) -> datetime:
    from datetime import timedelta

    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(
        microseconds=(ticks - EPOCH_AS_FILETIME) // 10
    )


def encode_sid(text: str) -> bytes:
    """'S-1-5-21-1-2-3-1000' -> revision, count, 48-bit big-endian authority, LE sub-authorities."""
    parts = text.split("-")
    if len(parts) < 3 or parts[0].upper() != "S":
        raise ValueError(f"not a SID: {text!r}")
    revision, authority = int(parts[1]), int(parts[2])
    subs = [int(p) for p in parts[3:]]
    if len(subs) > 15:
        raise ValueError(f"SID has more than 15 sub-authorities: {text!r}")
    return (
        bytes((revision, len(subs)))
        + authority.to_bytes(6, "big")
        + struct.pack(f"<{len(subs)}I", *subs)
    )


def encode_guid(text: str) -> bytes:
    """GUID text (with or without braces) -> the mixed-endian 16 bytes Windows stores."""
    return uuid.UUID(text.strip("{}")).bytes_le


def encode_systemtime(value: datetime) -> bytes:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    weekday = (value.weekday() + 1) % 7  # SYSTEMTIME counts from Sunday = 0
    return struct.pack(
        "<8H",
        value.year,
        value.month,
        weekday,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 1000,
    )


_U8 = struct.Struct("<B").pack
_I8 = struct.Struct("<b").pack
_U16 = struct.Struct("<H").pack
_I16 = struct.Struct("<h").pack
_U32 = struct.Struct("<I").pack
_I32 = struct.Struct("<i").pack
_U64 = struct.Struct("<Q").pack
_I64 = struct.Struct("<q").pack

# Strings, SIDs and GUIDs repeat endlessly in logs (user names, provider GUIDs, SIDs): cache
# their encodings, but bounded so that memory stays flat on huge runs.
_CACHE_LIMIT = 50_000
_str_cache: dict[str, bytes] = {}
_sid_cache: dict[str, bytes] = {}
_guid_cache: dict[str, bytes] = {}


def _cached(cache: dict[str, bytes], fn: Callable[[str], bytes]) -> Callable[[str], bytes]:
    def enc(value: str) -> bytes:
        got = cache.get(value)
        if got is None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            got = cache[value] = fn(value)
        return got

    return enc


def _utf16(value: str) -> bytes:
    return value.encode("utf-16-le")


def _bool(value: Any) -> bytes:
    return _U32(1 if value else 0)


def _filetime(value: datetime | int) -> bytes:
    return _U64(to_filetime(value))


def _binary(value: bytes) -> bytes:
    return bytes(value)


ENCODERS: dict[int, Callable[[Any], bytes]] = {
    VT.STRING: _cached(_str_cache, _utf16),
    VT.INT8: _I8,
    VT.UINT8: _U8,
    VT.INT16: _I16,
    VT.UINT16: _U16,
    VT.INT32: _I32,
    VT.UINT32: _U32,
    VT.INT64: _I64,
    VT.UINT64: _U64,
    VT.BOOL: _bool,
    VT.BINARY: _binary,
    VT.GUID: _cached(_guid_cache, encode_guid),
    VT.FILETIME: _filetime,
    VT.SYSTEMTIME: encode_systemtime,
    VT.SID: _cached(_sid_cache, encode_sid),
    VT.HEX32: _U32,
    VT.HEX64: _U64,
}


def encode_value(vtype: int, value: Any) -> bytes:
    """Encode one value of the given type (not BINXML, which needs a chunk position)."""
    return ENCODERS[vtype](value)
