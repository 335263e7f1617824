"""Zip archives as evidence: EVTX members extracted (the parser needs a real file), nested
zips opened, bombs refused, collection tools' layouts understood.

Every member goes to a path unique to its archive and member, so two triage zips that both
hold `Security.evtx` stay two pieces of evidence. A zip inside a zip is opened up to
`MAX_DEPTH` levels. Extraction stops at `MAX_MEMBER_BYTES`, and at `MAX_RATIO` times the
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

MAX_DEPTH = 3
MAX_MEMBER_BYTES = 8 << 30
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 64 << 20
_ZIP_MAGIC = b"PK\x03\x04"
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
                if head[:4] == _ZIP_MAGIC:
                    if depth >= MAX_DEPTH:
                        yield Refused(
                            label, f"zip nested deeper than {MAX_DEPTH} levels, not opened"
                        )
                        return
                    inner = target.with_suffix(".zip")
                    _copy(head, handle, inner, member.compress_size)
                elif head == _EVTX_MAGIC:
                    inner = None
                    target = target.with_suffix(".evtx")
                    _copy(head, handle, target, member.compress_size)
                else:
                    if member.filename.lower().endswith(".evtx"):
                        yield Refused(label, "not an EVTX file (no ElfFile signature)")
                    return
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
