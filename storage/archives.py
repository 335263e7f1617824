"""Zip and 7z archives as evidence: EVTX members extracted (the parser needs a real file),
nested archives opened, bombs refused, collection tools' layouts understood.

Every member goes to a path unique to its archive and member, so two triage zips that both
hold `Security.evtx` stay two pieces of evidence. A zip inside a zip is opened up to
`MAX_DEPTH` levels (a 7z inside a zip too, and the other way round). Extraction stops at `MAX_MEMBER_BYTES`, and at `MAX_RATIO` times the
compressed size once past `RATIO_FLOOR_BYTES` (real logs compress well, but not 1000x).
Velociraptor offline collections store paths URL-encoded (`uploads/auto/C%3A/...`,
`%254Operational`): sources are shown decoded, and the collected host from `client_info.json`
is kept. The source archive is only read. Nothing here parses records.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import unquote

import py7zr
import py7zr.io

MAX_DEPTH = 3
MAX_MEMBER_BYTES = 8 << 30
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 64 << 20
_ZIP_MAGIC = b"PK\x03\x04"
SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
_EVTX_MAGIC = b"ElfFile\x00"


@dataclass(frozen=True)
class Extracted:
    """An EVTX member written to `path`; `source` names it as `a.zip!member`."""

    source: str
    path: Path
    size: int
    mtime: float
    collected_from: str | None = None


@dataclass(frozen=True)
class Refused:
    source: str
    reason: str


class _TooBig(Exception):
    pass


class Extractor:
    """Extracts the EVTX members of zips into `folder`, numbering every archive it opens."""

    def __init__(self, folder: Path, password: str | None = None) -> None:
        self.folder = folder
        self.password = password.encode() if password else None
        self._archives = 0

    def walk(
        self, path: Path, source: str | None = None, depth: int = 1
    ) -> Iterator[Extracted | Refused]:
        source = source or str(path)
        if _head(path).startswith(SEVEN_ZIP_MAGIC):
            yield from self._walk_7z(path, source, depth)
            return
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            yield Refused(source, f"unreadable zip archive ({_one_line(exc)})")
            return
        self._archives += 1
        number = self._archives
        with archive:
            host = _collection_host(archive)
            for index, member in enumerate(archive.infolist()):
                if not member.is_dir():
                    yield from self._member(archive, member, source, number, index, depth, host)

    def _member(
        self,
        archive: zipfile.ZipFile,
        member: zipfile.ZipInfo,
        source: str,
        number: int,
        index: int,
        depth: int,
        host: str | None,
    ) -> Iterator[Extracted | Refused]:
        label = f"{source}!{display_name(member.filename)}"
        target = self.folder / "zip" / f"{number:05d}" / f"{index:06d}"
        try:
            with archive.open(member, pwd=self.password) as handle:
                head = handle.read(len(_EVTX_MAGIC))
                suffix = kept_as(head)
                if suffix is None:
                    if member.filename.lower().endswith(".evtx"):
                        yield Refused(label, "not an EVTX file (no ElfFile signature)")
                    return
                if suffix != ".evtx" and depth >= MAX_DEPTH:
                    yield Refused(
                        label, f"archive nested deeper than {MAX_DEPTH} levels, not opened"
                    )
                    return
                target = target.with_suffix(suffix)
                inner = None if suffix == ".evtx" else target
                _copy(head, handle, target, member.compress_size)
        except _TooBig as exc:
            yield Refused(label, f"{exc}: not extracted (possible zip bomb)")
            return
        except RuntimeError as exc:  # encrypted without (the right) password
            hint = "wrong --password" if self.password else "encrypted; give --password"
            yield Refused(label, f"unreadable zip member ({hint}: {_one_line(exc)})")
            return
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            yield Refused(label, f"unreadable zip member ({_one_line(exc)})")
            return
        if inner is not None:
            yield from self.walk(inner, label, depth + 1)
            return
        yield Extracted(label, target, target.stat().st_size, _zip_mtime(member), host)

    def _walk_7z(self, path: Path, source: str, depth: int) -> Iterator[Extracted | Refused]:
        """Every member of a 7z archive in one pass (solid archives decompress in sequence),
        each streamed to its own file through `_Member`, which keeps only EVTX and archives.
        Members finished before a decoding error are kept; the rest are counted in one line."""
        self._archives += 1
        factory = _MemberFactory(self.folder / "7z" / f"{self._archives:05d}", path.stat().st_size)
        infos: list[py7zr.FileInfo] = []
        failure = ""
        try:
            with py7zr.SevenZipFile(path, password=self.password_text) as archive:
                infos = [info for info in archive.list() if info.is_file]
                archive.extract(factory=factory)
        except py7zr.exceptions.PasswordRequired:
            failure = "wrong --password" if self.password else "encrypted; give --password"
        except Exception as exc:  # py7zr on hostile bytes: lzma/zlib/CRC/header errors alike
            hint = "wrong --password? " if self.password else ""
            failure = f"{hint}{_one_line(exc)}"
        unread = 0
        for info in infos:
            member = factory.members.get(info.filename)
            if member is None or not member.finished:
                unread += 1
                continue
            yield from self._7z_member(
                member, info, f"{source}!{display_name(info.filename)}", depth
            )
        if failure:
            counted = f"; {unread} of {len(infos)} members unread" if unread < len(infos) else ""
            yield Refused(source, f"unreadable 7z archive ({failure}){counted}")

    def _7z_member(
        self, member: _Member, info: py7zr.FileInfo, label: str, depth: int
    ) -> Iterator[Extracted | Refused]:
        if member.refused:
            yield Refused(label, f"{member.refused}: not extracted (possible archive bomb)")
        elif member.kind == "evtx":
            mtime = info.creationtime.timestamp() if info.creationtime else 0.0
            yield Extracted(label, member.path, member.written, mtime)
        elif member.kind == "archive":
            if depth >= MAX_DEPTH:
                yield Refused(label, f"archive nested deeper than {MAX_DEPTH} levels, not opened")
            else:
                yield from self.walk(member.path, label, depth + 1)
        elif info.filename.lower().endswith(".evtx"):
            yield Refused(label, "not an EVTX file (no ElfFile signature)")

    @property
    def password_text(self) -> str | None:
        return self.password.decode() if self.password else None


class _Member(py7zr.io.Py7zIO):
    """One 7z member as py7zr decompresses it: kept on disk only when it starts like an EVTX
    or an archive, and only up to the same caps as a zip member (the rest is discarded)."""

    def __init__(self, path: Path, compressed: int) -> None:
        self.path = path
        self.compressed = compressed
        self.kind = ""  # "evtx", "archive", "other" (not kept), "" (not seen yet)
        self.written = 0
        self.refused = ""
        self.finished = False  # py7zr closes a member once it is fully decoded
        self._head = b""
        self._out: IO[bytes] | None = None

    def write(self, s: bytes | bytearray) -> int:
        data = bytes(s)
        if self.refused:
            return len(data)
        if self._out is None:
            if self.kind:
                return len(data)  # decided: not kept
            take = len(_EVTX_MAGIC) - len(self._head)
            self._head, rest = self._head + data[:take], data[take:]
            if len(self._head) < len(_EVTX_MAGIC):
                return len(data)
            self._open()
            if self._out is None:
                return len(data)
            data_to_keep = self._head + rest
        else:
            data_to_keep = data
        self.written += len(data_to_keep)
        if self.written > MAX_MEMBER_BYTES:
            self._refuse(f"member larger than {MAX_MEMBER_BYTES >> 20} MiB")
        elif self.written > RATIO_FLOOR_BYTES and self.written > MAX_RATIO * self.compressed:
            self._refuse(f"member expands more than {MAX_RATIO}x the archive's size")
        else:
            self._out.write(data_to_keep)
        return len(data)

    def _open(self) -> None:
        suffix = kept_as(self._head)
        if suffix is None:
            self.kind = "other"
            return
        self.kind = "evtx" if suffix == ".evtx" else "archive"
        self.path = self.path.with_suffix(suffix)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(self.path, "wb")  # closed by close()

    def _refuse(self, reason: str) -> None:
        self.refused = reason
        self.close()
        self.path.unlink(missing_ok=True)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return self.written

    def close(self) -> None:
        self.finished = True
        if self._out is not None:
            self._out.close()
            self._out = None


class _MemberFactory(py7zr.io.WriterFactory):
    def __init__(self, folder: Path, compressed: int) -> None:
        self.folder = folder
        self.compressed = compressed
        self.members: dict[str, _Member] = {}

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        member = _Member(self.folder / f"{len(self.members):06d}", self.compressed)
        self.members[filename] = member
        return member


def kept_as(head: bytes) -> str | None:
    """The suffix a member starting with `head` is kept under (`.evtx`, or `.zip`/`.7z` to be
    opened in turn), or None: not evidence, not extracted."""
    if head == _EVTX_MAGIC:
        return ".evtx"
    if head[:4] == _ZIP_MAGIC:
        return ".zip"
    if head[:6] == SEVEN_ZIP_MAGIC:
        return ".7z"
    return None


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(_EVTX_MAGIC))
    except OSError:
        return b""


def _copy(head: bytes, handle: IO[bytes], target: Path, compressed: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    written = len(head)
    with open(target, "wb") as out:
        out.write(head)
        while block := handle.read(1 << 20):
            written += len(block)
            if written > MAX_MEMBER_BYTES:
                raise _TooBig(f"member larger than {MAX_MEMBER_BYTES >> 20} MiB")
            if written > RATIO_FLOOR_BYTES and written > MAX_RATIO * max(compressed, 1):
                raise _TooBig(
                    f"member expands more than {MAX_RATIO}x its compressed size "
                    f"(over {written >> 20} MiB from {compressed:,} bytes)"
                )
            out.write(block)


def display_name(member: str) -> str:
    """A member name as the user knows the file: Velociraptor's URL-encoding undone."""
    if member.startswith(("uploads/", "auto/")) or "%25" in member or "%3A" in member:
        name = unquote(member)
        return name.removeprefix("uploads/").removeprefix("auto/")
    return member


def _collection_host(archive: zipfile.ZipFile) -> str | None:
    """The host a Velociraptor offline collection was taken from (client_info.json)."""
    try:
        info = archive.getinfo("client_info.json")
    except KeyError:
        return None
    if info.file_size > 1 << 20:
        return None
    try:
        data = json.loads(archive.read(info))
    except (ValueError, RuntimeError, OSError, zipfile.BadZipFile):
        return None
    if not isinstance(data, dict):
        return None
    for key in ("Hostname", "hostname", "Fqdn", "fqdn"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value[:255]
    return None


def _zip_mtime(member: zipfile.ZipInfo) -> float:
    try:
        return dt.datetime(*member.date_time, tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return 0.0


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split())
