"""Find evidence: files, folders (recursively) and zip or 7z archives, EVTX recognised by content.

A file is EVTX when it starts with the `ElfFile\\0` signature, whatever its name. Inputs that
cannot be used are returned as rejections with a one-line reason, never raised, so one bad
path does not stop the others. Archive members are extracted (read-only source) into the case's
staging folder because the parser needs a real file (storage.archives). Nothing here parses
records.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from logonscope.storage.archives import Extractor, Refused, kept_as
from logonscope.storage.chunks import CHUNK_MAGIC, FILE_MAGIC, HEADER_SIZE, looks_like


@dataclass(frozen=True)
class Candidate:
    """An EVTX file to ingest. `source` is how the user named it (zip members: `a.zip!m`)."""

    source: str
    path: Path
    size: int
    mtime: float
    collected_from: str | None = None  # the host a collection tool says it was taken from


@dataclass(frozen=True)
class Rejection:
    source: str
    reason: str


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def discover(
    inputs: Iterable[str | Path],
    extract_to: Path,
    password: str | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[list[Candidate], list[Rejection]]:
    """Every EVTX under `inputs` (deduplicated by real path), and what was rejected and why.

    Folders are walked following each real folder once (device, inode): symlink loops end.
    `cancelled` is polled between entries so a huge tree stops promptly.
    """
    found: list[Candidate] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    walker = _Walker(Extractor(extract_to, password), cancelled)
    for given in inputs:
        for item in walker.walk(Path(given)):
            if isinstance(item, Rejection):
                rejected.append(item)
                continue
            key = os.path.realpath(item.path)
            if key not in seen:
                seen.add(key)
                found.append(item)
    return found, rejected


class _Walker:
    def __init__(self, extractor: Extractor, cancelled: Callable[[], bool] | None) -> None:
        self.extractor = extractor
        self.cancelled = cancelled or (lambda: False)
        self.folders: set[tuple[int, int]] = set()

    def walk(self, start: Path) -> Iterator[Candidate | Rejection]:
        stack: list[tuple[Path, bool]] = [(start, True)]
        while stack and not self.cancelled():
            path, explicit = stack.pop()
            source = str(path)
            try:
                info = path.stat()
            except FileNotFoundError:
                if explicit:
                    yield Rejection(source, "no such file or folder")
                elif path.is_symlink():
                    yield Rejection(source, "broken symbolic link")
                continue
            except PermissionError:
                yield Rejection(source, "permission denied")
                continue
            except OSError as exc:  # ELOOP, ENAMETOOLONG, EIO ...
                yield Rejection(source, f"unreadable ({exc.strerror or exc})")
                continue
            if stat.S_ISDIR(info.st_mode):
                if (info.st_dev, info.st_ino) in self.folders:
                    continue  # already walked (a symlink back up, or a second name)
                self.folders.add((info.st_dev, info.st_ino))
                try:
                    children = sorted(path.iterdir())
                except OSError as exc:
                    yield Rejection(source, f"folder unreadable ({exc.strerror or exc})")
                    continue
                stack.extend((child, False) for child in reversed(children))
                continue
            yield from self._file(path, info, explicit)

    def _file(
        self, path: Path, info: os.stat_result, explicit: bool
    ) -> Iterator[Candidate | Rejection]:
        source = str(path)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "")
            yield Rejection(
                source, f"not a regular file ({kind}), skipped" if kind else "not a regular file"
            )
            return
        try:
            head = read_head(path)
        except OSError as exc:
            yield Rejection(source, f"unreadable ({exc.strerror or exc})")
            return
        if head == FILE_MAGIC or _damaged_evtx(path, head):
            yield Candidate(source, path, info.st_size, info.st_mtime)
        elif kept_as(head) in (".zip", ".7z"):
            for item in self.extractor.walk(path):
                if isinstance(item, Refused):
                    yield Rejection(item.source, item.reason)
                else:
                    yield Candidate(
                        item.source, item.path, item.size, item.mtime, item.collected_from
                    )
        elif explicit or path.suffix.lower() == ".evtx":
            # Files found inside folders are only reported when they claim to be EVTX.
            reason = (
                "empty file" if info.st_size == 0 else "not an EVTX file (no ElfFile signature)"
            )
            yield Rejection(source, reason)


def _damaged_evtx(path: Path, head: bytes) -> bool:
    """A file signature off by a byte or two, with a chunk where the first one belongs."""
    if (
        len(head) < len(FILE_MAGIC)
        or sum(a != b for a, b in zip(head[:8], FILE_MAGIC, strict=True)) > 2
    ):
        return False
    with open(path, "rb") as handle:
        handle.seek(HEADER_SIZE)
        chunk: bytes = handle.read(40)
    return bool(looks_like(chunk, CHUNK_MAGIC))


def read_head(path: Path) -> bytes:
    """The first 8 bytes (the EVTX signature), read-only."""
    with open(path, "rb") as handle:
        return handle.read(len(FILE_MAGIC))
