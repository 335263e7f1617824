"""Work for the ingest's workers: whole files, and big files cut into ranges of chunks.

A file that would keep one worker busy while the others idle (one DC's Security.evtx, or a
single big file) is read by several workers, each a disjoint range of its chunks
(storage.chunk_view), and their results are merged back into one result per file. Such a
file is hashed once, here, before it is handed out: every range stores rows under the file's
SHA-256, and a file the case already holds is not read at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from logonscope.storage.chunk_view import Span
from logonscope.storage.chunks import CHUNK_SIZE, HEADER_SIZE, scan_chunks
from logonscope.storage.discover import Candidate
from logonscope.storage.outcomes import FileResult

MIN_CHUNKS = 16  # a range of fewer chunks (1 MiB) costs more to set up than it saves


@dataclass(frozen=True)
class Piece(Candidate):
    """Chunks `span` of the file `source`, whose SHA-256 is already known."""

    span: Span = Span(0, 0, True)
    sha256: str = ""


def label(work: Candidate) -> str:
    """How progress names a piece of work: the file, and for a range its chunks."""
    if isinstance(work, Piece):
        last = "end" if work.span.to_end else str(work.span.stop - 1)
        return f"{work.source} [chunks {work.span.first}-{last}]"
    return work.source


def split(
    candidates: list[Candidate],
    workers: int,
    known: dict[str, str],
    hash_file: Callable[[Path], str],
) -> tuple[list[Candidate], list[int], dict[int, FileResult]]:
    """(the work, the candidate index of each piece of it, results of big files decided
    here: already in the case, or unreadable). A file gets as many ranges as its share of
    all the bytes is of one worker's share, so the workers end together."""
    total = sum(c.size for c in candidates)
    work: list[Candidate] = []
    owner: list[int] = []
    decided: dict[int, FileResult] = {}
    for index, candidate in enumerate(candidates):
        chunks = max(candidate.size - HEADER_SIZE, 0) // CHUNK_SIZE
        ranges = min(-(-candidate.size * workers // total), chunks // MIN_CHUNKS) if total else 0
        if workers < 2 or ranges < 2:
            work.append(candidate)
            owner.append(index)
            continue
        try:
            sha = hash_file(candidate.path)
        except OSError as exc:
            decided[index] = _result(candidate, "rejected", f"unreadable ({exc.strerror or exc})")
            continue
        if sha in known:
            reason = f"already in the case as {known[sha]}"
            decided[index] = _result(candidate, "known", reason, sha)
            continue
        bounds = [chunks * k // ranges for k in range(ranges + 1)]
        for k in range(ranges):
            span = Span(bounds[k], bounds[k + 1], k == ranges - 1)
            size = (bounds[k + 1] - bounds[k]) * CHUNK_SIZE
            if span.to_end:  # the header and any slack: the sizes add up to the file's
                size = candidate.size - bounds[k] * CHUNK_SIZE
            piece = Piece(**vars(candidate), span=span, sha256=sha)
            work.append(replace(piece, size=size))
            owner.append(index)
    return work, owner, decided


def _result(candidate: Candidate, status: str, reason: str, sha: str = "") -> FileResult:
    return FileResult(
        candidate.source,
        status,
        reason,
        sha256=sha,
        size=candidate.size,
        mtime=candidate.mtime,
        collected_from=candidate.collected_from,
    )


def merge(candidate: Candidate, pieces: list[Piece], results: list[FileResult]) -> FileResult:
    """One result for a file read in ranges: counts summed, errors in chunk order. A range
    whose worker failed is said so, with the records its chunk headers declare as skipped."""
    merged = _result(candidate, "stored", "", pieces[0].sha256)
    parsers: set[str] = set()
    hosts: set[str] = set()
    for piece, result in zip(pieces, results, strict=True):
        if result.status == "rejected" and not result.records:
            lost = _declared(piece)
            merged.skipped += lost + result.skipped
            merged.errors.append(f"{label(piece)}: {result.reason}; {lost} records unread")
            continue
        merged.records += result.records
        merged.skipped += result.skipped
        merged.errors.extend(result.errors)
        parsers.update(p for p in result.parser.split("+") if p and p != "none")
        hosts.update(result.hosts)
    merged.parser = "+".join(p for p in ("evtx", "python-evtx") if p in parsers) or "none"
    merged.hosts = sorted(hosts)
    if merged.records == 0 and merged.errors:
        merged.status, merged.reason = "rejected", "no readable records: " + merged.errors[0]
    return merged


def _declared(piece: Piece) -> int:
    try:
        stop = None if piece.span.to_end else piece.span.stop
        return sum(c.declared for c in scan_chunks(piece.path, piece.span.first, stop))
    except OSError:
        return 0


def groups(candidates: list[Candidate], workers: int) -> list[list[int]]:
    """Candidate indexes split into `workers` groups of similar total size (largest first)."""
    out: list[list[int]] = [[] for _ in range(workers)]
    sizes = [0] * workers
    for index in sorted(range(len(candidates)), key=lambda i: -candidates[i].size):
        smallest = sizes.index(min(sizes))
        out[smallest].append(index)
        sizes[smallest] += candidates[index].size
    return [sorted(g) for g in out if g]
