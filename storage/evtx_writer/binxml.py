"""BinXML templates: the element model and its encoding at a position inside a chunk.

A template is an element tree whose values are substitutions (`Sub`). Encoding happens at a
known chunk offset because element and attribute names are chunk-relative references: the
first use of a name in a chunk writes it inline (and links it into the chunk's string table),
later uses point back to it. This module must not decide where records go (that is chunk.py).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from .values import VT

# BinXML tokens (libyal EVTX format, section "Binary XML").
TOK_EOF = 0x00
TOK_OPEN_START = 0x01
TOK_CLOSE_START = 0x02
TOK_CLOSE_EMPTY = 0x03
TOK_END_ELEMENT = 0x04
TOK_VALUE = 0x05
TOK_ATTRIBUTE = 0x06
TOK_TEMPLATE_INSTANCE = 0x0C
TOK_NORMAL_SUB = 0x0D
TOK_OPTIONAL_SUB = 0x0E
TOK_FRAGMENT_HEADER = 0x0F
FLAG_MORE = 0x40  # on OPEN_START: has attributes; on ATTRIBUTE: more attributes follow

FRAGMENT_HEADER = bytes((TOK_FRAGMENT_HEADER, 1, 1, 0))

_U32 = struct.Struct("<I")
_NAME_HEAD = struct.Struct("<IHH")


@dataclass(frozen=True)
class Sub:
    """A substitution: value `index` of the template instance, declared with `vtype`.

    `optional` (token 0x0E) lets a parser drop an attribute whose value is null.
    """

    index: int
    vtype: int
    optional: bool = False


@dataclass(frozen=True)
class Elem:
    name: str
    attrs: tuple[tuple[str, str | Sub], ...] = ()
    children: tuple[Elem | str | Sub, ...] = ()


@dataclass(frozen=True)
class Template:
    """A template definition: root element, declared value types, GUID and short id."""

    root: Elem
    types: tuple[int, ...]
    guid: bytes
    tid: int

    @classmethod
    def build(cls, root: Elem) -> Template:
        subs: dict[int, int] = {}
        _collect(root, subs)
        count = max(subs) + 1 if subs else 0
        types = tuple(subs.get(i, VT.NULL) for i in range(count))
        # Windows' GUID identifies the provider's event template; ours is a stable digest of
        # the tree so that one layout always gets the same GUID (and the same id).
        guid = hashlib.md5(repr(root).encode("utf-8")).digest()
        return cls(root, types, guid, _U32.unpack_from(guid)[0])


def _collect(elem: Elem, subs: dict[int, int]) -> None:
    for _, value in elem.attrs:
        if isinstance(value, Sub):
            subs[value.index] = value.vtype
    for child in elem.children:
        if isinstance(child, Sub):
            subs[child.index] = child.vtype
        elif isinstance(child, Elem):
            _collect(child, subs)


_HASHES: dict[str, int] = {}
_CONTENT: dict[str | Sub, bytes] = {}


def name_hash(name: str) -> int:
    """The string-table hash: h = h * 65599 + code unit, over UTF-16 code units, 32 bits."""
    got = _HASHES.get(name)
    if got is None:
        if len(_HASHES) > 10_000:
            _HASHES.clear()
        got = _HASHES[name] = _name_hash(name)
    return got


def _name_hash(name: str) -> int:
    h = 0
    units = name.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h = (h * 65599 + units[i] + (units[i + 1] << 8)) & 0xFFFFFFFF
    return h


class NameTable:
    """Names already written in one chunk, and the 64-bucket common string table.

    Changes are journalled so that a record which turns out not to fit can be undone.
    """

    __slots__ = ("_journal", "heads", "offsets")

    def __init__(self) -> None:
        self.offsets: dict[str, int] = {}
        self.heads = [0] * 64
        self._journal: list[tuple[str, int, int]] = []

    def mark(self) -> int:
        return len(self._journal)

    def rollback(self, mark: int) -> None:
        while len(self._journal) > mark:
            name, bucket, old_head = self._journal.pop()
            del self.offsets[name]
            self.heads[bucket] = old_head

    def commit(self) -> None:
        self._journal.clear()

    def emit(self, name: str, out: bytearray, base: int) -> None:
        """Append a 4-byte name reference, plus the name itself if new to this chunk."""
        known = self.offsets.get(name)
        if known is not None:
            out += _U32.pack(known)
            return
        here = base + len(out) + 4
        out += _U32.pack(here)
        h = name_hash(name)
        bucket = h % 64
        units = name.encode("utf-16-le")
        # The new name links to the bucket's previous head (a chain newest-first).
        out += _NAME_HEAD.pack(self.heads[bucket], h & 0xFFFF, len(units) // 2)
        out += units + b"\x00\x00"
        self._journal.append((name, bucket, self.heads[bucket]))
        self.offsets[name] = here
        self.heads[bucket] = here


def encode_fragment(root: Elem, base: int, names: NameTable) -> bytes:
    """Fragment header + element tree + end of stream, to be placed at chunk offset `base`."""
    out = bytearray(FRAGMENT_HEADER)
    _encode_elem(root, out, base, names)
    out.append(TOK_EOF)
    return bytes(out)


def _encode_elem(elem: Elem, out: bytearray, base: int, names: NameTable) -> None:
    start = len(out)
    out.append(TOK_OPEN_START | FLAG_MORE if elem.attrs else TOK_OPEN_START)
    out += b"\xff\xff"  # dependency identifier: none
    size_at = len(out)
    out += b"\x00\x00\x00\x00"
    names.emit(elem.name, out, base)
    if elem.attrs:
        list_at = len(out)
        out += b"\x00\x00\x00\x00"
        last = len(elem.attrs) - 1
        for i, (aname, value) in enumerate(elem.attrs):
            out.append(TOK_ATTRIBUTE | FLAG_MORE if i < last else TOK_ATTRIBUTE)
            names.emit(aname, out, base)
            _encode_content(value, out)
        _U32.pack_into(out, list_at, len(out) - list_at - 4)
    if elem.children:
        out.append(TOK_CLOSE_START)
        for child in elem.children:
            if isinstance(child, Elem):
                _encode_elem(child, out, base, names)
            else:
                _encode_content(child, out)
        out.append(TOK_END_ELEMENT)
    else:
        out.append(TOK_CLOSE_EMPTY)
    _U32.pack_into(out, size_at, len(out) - start - 7)


def _encode_content(value: str | Sub, out: bytearray) -> None:
    got = _CONTENT.get(value)  # templates are re-encoded in every chunk: keep the fixed parts
    if got is None:
        fresh = bytearray()
        _encode_content_uncached(value, fresh)
        if len(_CONTENT) > 10_000:
            _CONTENT.clear()
        got = _CONTENT[value] = bytes(fresh)
    out += got


def _encode_content_uncached(value: str | Sub, out: bytearray) -> None:
    if isinstance(value, Sub):
        out.append(TOK_OPTIONAL_SUB if value.optional else TOK_NORMAL_SUB)
        out += struct.pack("<HB", value.index, value.vtype)
    else:
        units = value.encode("utf-16-le")
        out.append(TOK_VALUE)
        out.append(VT.STRING)
        out += struct.pack("<H", len(units) // 2) + units
