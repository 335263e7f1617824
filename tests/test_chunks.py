"""The check that lets the reader skip per-chunk accounting when every chunk was read whole."""

from __future__ import annotations

from logonscope.storage.chunks import ChunkInfo, all_read, attribute


def test_all_read_only_when_every_declared_record_came_back() -> None:
    chunks = [ChunkInfo(0, 1, 100), ChunkInfo(1, 101, 150)]
    ids = list(range(1, 151))
    assert all_read(ids, chunks)
    assert all_read(list(reversed(ids)), chunks)  # order does not matter, the count does
    assert not all_read(ids[:-1], chunks)  # one record short
    assert not all_read([*ids[:-1], 151], chunks)  # one record no chunk declares
    assert not all_read([*ids[:-1], 149], chunks)  # a record twice, another missing
    # and where it says no, the per-record attribution finds the short chunk
    per_chunk, stray = attribute(ids[:-1], chunks)
    assert [len(p) for p in per_chunk] == [100, 49] and not stray


def test_all_read_refuses_what_it_cannot_vouch_for() -> None:
    assert not all_read([1, 2, 2], [ChunkInfo(0, 1, 2), ChunkInfo(1, 2, 2)])  # ranges overlap
    assert not all_read([], [ChunkInfo(0, 0, 0)])  # a header that declares nothing sensible
    assert all_read([], [])
