"""What an ingest reports: each file's fate, the run's totals, and progress as it goes.

Plain data shared by the ingest's parts (the workers that convert files, the commit, the
local and cluster dispatch) and read by the CLI and the app. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FileResult:
    """What became of one evidence file."""

    source: str
    status: str  # "stored" | "known" | "rejected"
    reason: str = ""
    sha256: str = ""
    size: int = 0
    mtime: float = 0.0
    parser: str = ""
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    event_files: list[str] = field(default_factory=list)
    collected_from: str | None = None


@dataclass
class IngestReport:
    files: list[FileResult]
    seconds: float

    def of(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def records(self) -> int:
        return sum(f.records for f in self.of("stored"))

    @property
    def stored(self) -> int:
        return sum(f.stored for f in self.of("stored"))

    @property
    def usable(self) -> bool:
        """Some evidence was stored now or is already in the case."""
        return bool(self.of("stored") or self.of("known"))


@dataclass(frozen=True)
class FileProgress:
    """One file being read now: records so far and the share of the file they are (from
    its chunk headers' record counts; 0 while it is still being hashed)."""

    source: str
    records: int
    fraction: float
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Progress:
    files_done: int
    files_total: int
    records: int  # read so far, by every file (finished or not)
    bytes_done: int  # finished files, plus the read share of the files being read
    bytes_total: int
    seconds: float
    current: tuple[FileProgress, ...] = ()
    stage: str = "read"  # "discover" (walking inputs), "read", then "commit" (write the case)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left to read, from the bytes read so far (None until there is a pace)."""
        if self.bytes_done <= 0 or self.seconds <= 0 or self.bytes_total <= 0:
            return None
        left = max(self.bytes_total - self.bytes_done, 0)
        return self.seconds * left / self.bytes_done


ProgressCallback = Callable[[Progress], None]
