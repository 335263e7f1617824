"""Find evidence: files, folders (recursively) and zip archives, EVTX recognised by content.

A file is EVTX when it starts with the `ElfFile\\0` signature, whatever its name. Inputs that
cannot be used are returned as rejections with a one-line reason, never raised, so one bad
path does not stop the others. Zip members are extracted (read-only source) into the case's
staging folder because the parser needs a real file. Nothing here parses records.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from logonscope.storage.parse import FILE_MAGIC


@dataclass(frozen=True)
class Candidate:
    """An EVTX file to ingest. `source` is how the user named it (zip members: `a.zip!m`)."""

    source: str
    path: Path
    size: int
    mtime: float


@dataclass(frozen=True)
class Rejection:
    source: str
    reason: str


def discover(
    inputs: Iterable[str | Path], extract_to: Path
) -> tuple[list[Candidate], list[Rejection]]:
    """Every EVTX under `inputs` (deduplicated by real path), and what was rejected and why."""
    found: list[Candidate] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    for given in inputs:
        for item in _walk(Path(given), explicit=True, extract_to=extract_to):
            if isinstance(item, Rejection):
                rejected.append(item)
                continue
            key = os.path.realpath(item.path)
            if key not in seen:
                seen.add(key)
                found.append(item)
    return found, rejected


def _walk(path: Path, explicit: bool, extract_to: Path) -> Iterator[Candidate | Rejection]:
    source = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        yield Rejection(source, "no such file or folder")
        return
    except PermissionError:
        yield Rejection(source, "permission denied")
        return
    except OSError as exc:
        yield Rejection(source, f"unreadable ({exc.strerror or exc})")
        return
    if stat.S_ISDIR(info.st_mode):
        try:
            children = sorted(path.iterdir())
        except OSError as exc:
            yield Rejection(source, f"folder unreadable ({exc.strerror or exc})")
            return
        for child in children:
            yield from _walk(child, explicit=False, extract_to=extract_to)
        return
    if not stat.S_ISREG(info.st_mode):
        if explicit:
            yield Rejection(source, "not a regular file")
        return
    try:
        head = read_head(path)
    except OSError as exc:
        yield Rejection(source, f"unreadable ({exc.strerror or exc})")
        return
    if head == FILE_MAGIC:
        yield Candidate(source, path, info.st_size, info.st_mtime)
    elif head[:4] == b"PK\x03\x04":
        yield from _walk_zip(path, extract_to)
    elif explicit or path.suffix.lower() == ".evtx":
        # Files found inside folders are only reported when they claim to be EVTX.
        reason = "empty file" if info.st_size == 0 else "not an EVTX file (no ElfFile signature)"
        yield Rejection(source, reason)


def read_head(path: Path) -> bytes:
    """The first 8 bytes (the EVTX signature), read-only."""
    with open(path, "rb") as handle:
        return handle.read(len(FILE_MAGIC))


def _walk_zip(path: Path, extract_to: Path) -> Iterator[Candidate | Rejection]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield Rejection(str(path), f"unreadable zip archive ({exc})")
        return
    with archive:
        for number, member in enumerate(archive.infolist()):
            if member.is_dir():
                continue
            source = f"{path}!{member.filename}"
            try:
                with archive.open(member) as handle:
                    head = handle.read(len(FILE_MAGIC))
                    if head != FILE_MAGIC:
                        if member.filename.lower().endswith(".evtx"):
                            yield Rejection(source, "not an EVTX file (no ElfFile signature)")
                        continue
                    target = extract_to / "zip" / f"{number:06d}.evtx"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "wb") as out:
                        out.write(head)
                        shutil.copyfileobj(handle, out, 1 << 20)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:  # encrypted, corrupt
                yield Rejection(source, f"unreadable zip member ({exc})")
                continue
            mtime = _zip_mtime(member)
            yield Candidate(source, target, member.file_size, mtime)


def _zip_mtime(member: zipfile.ZipInfo) -> float:
    import datetime as dt

    try:
        return dt.datetime(*member.date_time, tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return 0.0
