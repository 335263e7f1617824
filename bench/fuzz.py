#!/usr/bin/env python3
"""Mutation fuzzing of ingest over files from the project's EVTX writer.

    .venv/bin/python bench/fuzz.py [--variants 200] [--seed 1] [--timeout 60]

Each variant is a generated log with one to three mutations: byte flips in the file header,
a chunk header or the records; truncation; a zeroed, duplicated or swapped chunk; bad
checksums; absurd counts and sizes. Every variant is ingested into a fresh case in a worker
process (a crash or a hang there is counted, and the worker replaced) and read by both bare
parsers (`evtx`, python-evtx). The property, per variant: no crash, no hang, and records
stored + duplicates + skipped >= the records either parser reads. Prints one line per
variant and a summary; exit 1 if the property fails anywhere. tests/test_fuzz.py runs a
short fixed-seed slice of the same code.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HEADER = 0x1000
CHUNK = 0x10000


# --- base files --------------------------------------------------------------------------


def base_files(folder: Path, scale: float = 1.0) -> list[Path]:
    """A few genuine logs: Security 4624s over several chunks, LSM UserData, a mixed System
    (`scale` < 1 for fewer records, as in the quick run of the test suite)."""
    from logonscope.storage.evtx_writer import VT, EvtxWriter
    from logonscope.storage.scenarios import catalog

    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)

    def values(et: Any, i: int) -> list[Any]:
        out: list[Any] = []
        for f in et.layout.fields:
            if f.vtype == VT.SID:
                out.append("S-1-5-21-1-2-3-1001")
            elif f.vtype in (VT.HEX64, VT.HEX32):
                out.append(0x10000 + i)
            elif f.vtype in (VT.UINT32, VT.UINT16, VT.UINT8, VT.UINT64):
                out.append(10 if (f.name or f.tag) == "LogonType" else i % 7)
            elif f.vtype == VT.GUID:
                out.append("00000000-0000-0000-0000-000000000000")
            elif f.vtype == VT.BOOL:
                out.append(True)
            else:
                out.append(f"user{i}" if "User" in (f.name or f.tag) else f"value {i}")
        return out

    folder.mkdir(parents=True, exist_ok=True)
    plans = {
        "Security.evtx": [(catalog.S4624, 400), (catalog.S4634, 100)],
        "LSM.evtx": [(catalog.L21, 150), (catalog.L24, 150)],
        "System.evtx": [(catalog.Y7001, 80), (catalog.Y6005, 40)],
    }
    paths = []
    for name, plan in plans.items():
        path = folder / name
        with EvtxWriter(path) as writer:
            i = 0
            for et, n in plan:
                for _ in range(max(int(n * scale), 1)):
                    writer.write(et, t0 + timedelta(seconds=i), values(et, i), computer="FUZZ01")
                    i += 1
        paths.append(path)
    return paths


# --- mutations ---------------------------------------------------------------------------


def _chunks(data: bytearray) -> int:
    return max(len(data) - HEADER, 0) // CHUNK


def _chunk_at(rng: random.Random, data: bytearray) -> int:
    return HEADER + rng.randrange(max(_chunks(data), 1)) * CHUNK


def _record_offsets(data: bytearray, chunk: int) -> list[int]:
    out, pos = [], chunk + 512
    while pos + 24 <= min(chunk + CHUNK, len(data)) and data[pos : pos + 4] == b"**\x00\x00":
        out.append(pos)
        size = struct.unpack_from("<I", data, pos + 4)[0]
        if size < 24:
            break
        pos += size
    return out


def m_flip_header(rng: random.Random, data: bytearray) -> str:
    at = rng.randrange(0, 128)
    data[at] ^= 1 << rng.randrange(8)
    return f"flip header byte {at}"


def m_flip_chunk_header(rng: random.Random, data: bytearray) -> str:
    at = _chunk_at(rng, data) + rng.randrange(0, 512)
    if at < len(data):
        data[at] ^= 1 << rng.randrange(8)
    return f"flip chunk header byte {at}"


def m_flip_records(rng: random.Random, data: bytearray) -> str:
    chunk = _chunk_at(rng, data)
    n = rng.choice((1, 1, 4, 32))
    for _ in range(n):
        at = chunk + rng.randrange(512, CHUNK)
        if at < len(data):
            data[at] = rng.randrange(256)
    return f"{n} random bytes in the records of chunk at {chunk:#x}"


def m_truncate(rng: random.Random, data: bytearray) -> str:
    cut = rng.randrange(HEADER // 2, len(data))
    del data[cut:]
    return f"truncated to {cut} bytes"


def m_zero_chunk(rng: random.Random, data: bytearray) -> str:
    chunk = _chunk_at(rng, data)
    data[chunk : chunk + CHUNK] = bytes(len(data[chunk : chunk + CHUNK]))
    return f"zeroed chunk at {chunk:#x}"


def m_duplicate_chunk(rng: random.Random, data: bytearray) -> str:
    source = _chunk_at(rng, data)
    data += data[source : source + CHUNK]
    return f"chunk at {source:#x} appended again"


def m_swap_chunks(rng: random.Random, data: bytearray) -> str:
    a, b = _chunk_at(rng, data), _chunk_at(rng, data)
    first, second = bytes(data[a : a + CHUNK]), bytes(data[b : b + CHUNK])
    if len(first) == len(second):
        data[a : a + CHUNK], data[b : b + CHUNK] = second, first
    return f"chunks at {a:#x} and {b:#x} swapped"


def m_bad_checksums(rng: random.Random, data: bytearray) -> str:
    chunk = _chunk_at(rng, data)
    for at in (124, chunk + 52, chunk + 124):
        if at + 4 <= len(data):
            struct.pack_into("<I", data, at, rng.getrandbits(32))
    return f"header and chunk at {chunk:#x} checksums wrong"


def m_absurd_counts(rng: random.Random, data: bytearray) -> str:
    chunk = _chunk_at(rng, data)
    choice = rng.randrange(5)
    if choice == 0:
        struct.pack_into("<H", data, 42, 0xFFFF)
        return "header chunk count 65535"
    if choice == 1 and chunk + 40 <= len(data):
        struct.pack_into("<QQ", data, chunk + 24, rng.getrandbits(64), rng.getrandbits(64))
        return f"chunk at {chunk:#x}: random first/last record ids"
    if choice == 2 and chunk + 52 <= len(data):
        struct.pack_into("<I", data, chunk + 48, rng.choice((0, 0xFFFFFFFF, CHUNK * 2)))
        return f"chunk at {chunk:#x}: absurd free-space offset"
    offsets = _record_offsets(data, chunk)
    if not offsets:
        return "no record to size"
    at = rng.choice(offsets)
    size = rng.choice((0, 1, 23, 0xFFFFFFFF, CHUNK, rng.getrandbits(16)))
    struct.pack_into("<I", data, at + 4, size)
    if choice == 4:  # the planted-date trick: an out-of-range record time
        struct.pack_into("<Q", data, at + 16, rng.choice((2**63 - 1, 2**64 - 1)))
        return f"record at {at:#x}: size {size}, time out of range"
    return f"record at {at:#x}: size {size}"


MUTATIONS = (
    m_flip_header,
    m_flip_chunk_header,
    m_flip_records,
    m_truncate,
    m_zero_chunk,
    m_duplicate_chunk,
    m_swap_chunks,
    m_bad_checksums,
    m_absurd_counts,
)


def variants(bases: list[Path], count: int, seed: int, folder: Path) -> list[tuple[Path, str]]:
    """`count` mutated copies of `bases`, reproducible from `seed`."""
    rng = random.Random(seed)
    out = []
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        base = bases[number % len(bases)]
        data = bytearray(base.read_bytes())
        steps = [
            MUTATIONS[number % len(MUTATIONS)](rng, data)
            if step == 0
            else rng.choice(MUTATIONS)(rng, data)
            for step in range(rng.choice((1, 1, 2, 3)))
        ]
        path = folder / f"v{number:04d}-{base.stem}.evtx"
        path.write_bytes(bytes(data))
        out.append((path, f"{base.name}: " + "; ".join(steps)))
    return out


# --- one variant, in a worker ------------------------------------------------------------


def bare_evtx(path: Path) -> int:
    import evtx

    count = 0
    try:
        records = evtx.PyEvtxParser(str(path)).records_json()
    except Exception:
        return 0
    while True:
        try:
            next(records)
        except StopIteration:
            return count
        except Exception:
            continue
        count += 1


def bare_python_evtx(path: Path) -> int:
    """Records python-evtx renders, over every chunk present (not only the header's count)."""
    from Evtx.Evtx import Evtx

    count = 0
    try:
        with Evtx(str(path)) as log:
            for chunk in log.get_file_header().chunks(include_inactive=True):
                try:
                    for record in chunk.records():
                        try:
                            record.xml()
                        except Exception:
                            continue
                        count += 1
                except Exception:
                    continue
    except Exception:
        return count
    return count


@dataclass
class Outcome:
    path: str
    what: str
    evtx: int = 0
    python_evtx: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    status: str = ""
    failure: str = ""  # "crash: ..." or "hang" or ""
    seconds: float = 0.0

    @property
    def accounted(self) -> int:
        return self.stored + self.duplicates + self.skipped

    @property
    def holds(self) -> bool:
        return not self.failure and self.accounted >= max(self.evtx, self.python_evtx)


def check(path: Path, what: str, scratch: Path) -> Outcome:
    from logonscope.storage.ingest import ingest

    outcome = Outcome(str(path), what)
    started = time.monotonic()
    case = scratch / f"case-{path.stem}"
    try:
        report = ingest([path], case, jobs=1)
        (result,) = report.files
        outcome.status = result.status
        outcome.stored, outcome.duplicates = result.stored, result.duplicates
        outcome.skipped = result.skipped
    except Exception as exc:
        outcome.failure = f"crash: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    finally:
        shutil.rmtree(case, ignore_errors=True)
    outcome.seconds = time.monotonic() - started
    outcome.evtx = bare_evtx(path)
    outcome.python_evtx = bare_python_evtx(path)
    return outcome


def _worker(connection: Any, scratch: str) -> None:
    while True:
        job = connection.recv()
        if job is None:
            return
        connection.send(check(Path(job[0]), job[1], Path(scratch)))


def run(jobs: list[tuple[Path, str]], timeout: float, scratch: Path) -> list[Outcome]:
    """Each variant in a worker process; a dead or stuck worker is counted and replaced."""
    context = multiprocessing.get_context("spawn")
    outcomes: list[Outcome] = []
    process = connection = None
    for path, what in jobs:
        if process is None or not process.is_alive():
            connection, child = context.Pipe()
            process = context.Process(target=_worker, args=(child, str(scratch)), daemon=True)
            process.start()
        assert connection is not None
        connection.send((str(path), what))
        if connection.poll(timeout):
            try:
                outcomes.append(connection.recv())
                continue
            except EOFError:
                failure = f"crash: worker died (exit code {process.join(5) or process.exitcode})"
        else:
            failure = "hang" if process.is_alive() else f"crash: worker died ({process.exitcode})"
        process.kill()
        process.join()
        process = None
        outcomes.append(Outcome(str(path), what, failure=failure))
    if process is not None and connection is not None:
        connection.send(None)
        process.join(10)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per variant")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        bases = base_files(scratch / "base")
        jobs = variants(bases, args.variants, args.seed, scratch / "variants")
        started = time.monotonic()
        outcomes = run(jobs, args.timeout, scratch)
        seconds = time.monotonic() - started
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"{'variant':<26} {'evtx':>5} {'py-evtx':>7} {'stored':>6} {'dup':>4} {'skip':>5}  ok  what"
    )
    for o in outcomes:
        flag = "yes" if o.holds else "NO "
        print(
            f"{Path(o.path).name:<26} {o.evtx:>5} {o.python_evtx:>7} {o.stored:>6} "
            f"{o.duplicates:>4} {o.skipped:>5}  {flag} {o.failure or o.what}"
        )
    crashes = sum(o.failure.startswith("crash") for o in outcomes)
    hangs = sum(o.failure == "hang" for o in outcomes)
    holds = sum(o.holds for o in outcomes)
    recovered = sum(max(o.stored + o.duplicates - o.evtx, 0) for o in outcomes if not o.failure)
    print(
        f"\n{len(outcomes)} variants (seed {args.seed}) in {seconds:.0f} s: {crashes} crashes, "
        f"{hangs} hangs; stored+duplicates+skipped >= max(evtx, python-evtx) in "
        f"{holds}/{len(outcomes)}; records stored beyond what evtx alone reads: {recovered:,}; "
        f"evtx reads {sum(o.evtx for o in outcomes):,}, python-evtx "
        f"{sum(o.python_evtx for o in outcomes):,}, stored+duplicates "
        f"{sum(o.stored + o.duplicates for o in outcomes):,}, skipped "
        f"{sum(o.skipped for o in outcomes):,}"
    )
    return 0 if holds == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
