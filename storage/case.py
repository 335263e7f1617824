"""The case folder: layout, atomic writes, and a DuckDB connection over its Parquet.

Layout (documented in the README):
    case.json                      marker + format version: a folder without it is not a case
    evidence.parquet               one row per evidence file; the commit point of every ingest
    events/host=<host_key>/<run>.parquet   one row per record, zstd, sorted by time; one file per
                                   host per ingest run (evidence rows list theirs)
    derived/<table>.parquet        analysis tables (sessions, session_sources, users, ...)
    imported/<sha256>.parquet      timelines imported from other tools (storage.imports)

Atomicity: event files are written before `evidence.parquet` is replaced (os.replace), and
the `events` view reads only the files `evidence.parquet` lists, so a crash at any point
leaves the previous case intact; orphans are swept by the next ingest. This module does
not parse evidence or decide what a session is.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from logonscope.storage import connection
from logonscope.storage.schema import EVENTS_SCHEMA, EVIDENCE_SCHEMA
from logonscope.storage.vocabulary import is_identifier

if TYPE_CHECKING:  # used by the connections made here, loaded by the first one
    import duckdb

FORMAT_VERSION = 1
MARKER = "case.json"
EVIDENCE = "evidence.parquet"
EVENTS = "events"
DERIVED = "derived"
STAGING = ".staging"
IMPORTED = "imported"


class CaseError(Exception):
    """The folder is not a usable case (message names the folder and the reason)."""


class CaseIOError(Exception):
    """Reading or writing the case failed (read-only, disk full, ...): one line naming the
    path and the reason."""


def describe_io_error(exc: BaseException, fallback: Path) -> str:
    """`path: reason` on one line, for an OSError or a library's I/O error."""
    filename = getattr(exc, "filename", None)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(f"{filename or fallback}: {reason}".split())


def is_case(root: Path) -> bool:
    return (Path(root) / MARKER).is_file()


def create_or_open(root: Path) -> Path:
    """A case folder ready for ingest: an existing case, or a new or empty folder made one."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise CaseError(f"{root}: not a folder")
    if root.is_dir() and not is_case(root):
        if any(root.iterdir()):
            raise CaseError(
                f"{root}: not a logonscope case (no {MARKER}) and not empty; "
                "name a new or empty folder"
            )
    if not is_case(root):
        root.mkdir(parents=True, exist_ok=True)
        _write_atomic(root / MARKER, json.dumps({"logonscope_case": FORMAT_VERSION}).encode())
    return root


def require_case(root: Path) -> Path:
    """An existing case, or a CaseError saying why not."""
    root = Path(root)
    if not root.exists():
        raise CaseError(f"{root}: no such case folder")
    if not is_case(root):
        raise CaseError(f"{root}: not a logonscope case (no {MARKER})")
    return root


@contextmanager
def locked(root: Path, wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One writer at a time. Without `wait` a second writer fails fast (a second ingest);
    with it, `wait()` is called once (to say so) and the writer queues for the lock."""
    with open(Path(root) / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait is None:
                raise CaseError(
                    f"{root}: another logonscope process (ingest or build) is writing this case"
                ) from None
            wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def read_evidence(root: Path) -> pa.Table:
    path = Path(root) / EVIDENCE
    if not path.exists():
        return EVIDENCE_SCHEMA.empty_table()
    # one file read as is: `pq.read_table` would import pyarrow.dataset and pyarrow.compute
    # (~0.25 s CPU in every process that opens a case)
    with pq.ParquetFile(path) as handle:
        table = handle.read()
    if table.schema.equals(EVIDENCE_SCHEMA):
        return table
    return pq.read_table(path, schema=EVIDENCE_SCHEMA)  # an older layout: missing columns null


def write_evidence(root: Path, table: pa.Table) -> None:
    """Replace evidence.parquet in one step: this is the commit of an ingest."""
    write_table_atomic(Path(root) / EVIDENCE, table.cast(EVIDENCE_SCHEMA))


def write_derived(root: Path, tables: dict[str, pa.Table]) -> None:
    """Write analysis tables under derived/, each replaced atomically."""
    folder = Path(root) / DERIVED
    folder.mkdir(exist_ok=True)
    for name, table in tables.items():
        # a file name and a view name: one case on every file system
        if not is_identifier(name) or name != name.lower():
            raise ValueError(f"bad derived table name {name!r}")
        write_table_atomic(folder / f"{name}.parquet", table)


def read_derived(root: Path, name: str, columns: list[str] | None = None) -> pa.Table | None:
    """One derived table read whole (a small one: `build_info`), or None when it is missing."""
    path = Path(root) / DERIVED / f"{name}.parquet"
    if not path.is_file():
        return None
    with pq.ParquetFile(path) as handle:
        return handle.read(columns=columns)


def imported_files(root: Path) -> list[str]:
    """The imported timelines' Parquet files (what the `imported` view reads), sorted."""
    return list(_layout(require_case(Path(root))).imported)


def evidence(root: Path) -> pa.Table:
    """The case's evidence rows, read once per stamp (what the `evidence` view shows)."""
    return _layout(require_case(Path(root))).evidence


def derived_tables(root: Path) -> dict[str, Path]:
    folder = Path(root) / DERIVED
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.parquet"))}


def partition_name(host_key: str | None) -> str:
    """A safe folder name for a host partition: evidence strings never become paths as-is."""
    if not host_key:
        return "host=_unknown"
    safe = re.sub(r"[^a-z0-9._-]", "_", host_key.lower()).strip(".") or "_unknown"
    return f"host={safe[:100]}"


def staging_dir(root: Path) -> Path:
    return Path(root) / STAGING


def sweep(root: Path) -> None:
    """Remove what an interrupted ingest left: staging files and unreferenced event files."""
    root = Path(root)
    shutil.rmtree(staging_dir(root), ignore_errors=True)
    referenced = {
        f for files in read_evidence(root).column("event_files").to_pylist() for f in files or ()
    }
    for path in (root / EVENTS).glob("*/*.parquet"):
        if path.relative_to(root).as_posix() not in referenced:
            path.unlink()


def event_files(root: Path) -> list[str]:
    """Every events Parquet file the case holds (one ingest run writes one or a few per host,
    each time-sorted, shared by the evidence files of that run)."""
    files = read_evidence(Path(root)).column("event_files").to_pylist()
    return sorted({str(Path(root) / f) for group in files for f in group or ()})


def stamp(root: Path) -> tuple[tuple[str, int, int, int], ...]:
    """What changes when an ingest commits or a build writes: name, size, mtime and inode of
    evidence.parquet and of every derived and imported table (each replaced atomically)."""
    root = Path(root)
    paths = [root / EVIDENCE, *derived_tables(root).values()]
    paths += sorted((root / IMPORTED).glob("*.parquet"))
    found = []
    for path in paths:
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        found.append((path.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(found)


@dataclass(frozen=True)
class _Layout:
    """What a connection's views are made of: constant while the case's stamp is."""

    evidence: pa.Table
    event_files: tuple[str, ...]
    derived: tuple[tuple[str, str], ...]
    imported: tuple[str, ...]


_LAYOUTS: dict[Path, tuple[tuple[tuple[str, int, int, int], ...], _Layout]] = {}
_LAYOUTS_GUARD = threading.Lock()
_REGISTERED: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[str, pa.Table]] = (
    weakref.WeakKeyDictionary()
)  # connection -> the Arrow tables it registered (a cursor registers them again)


def _layout(root: Path) -> _Layout:
    """The case's layout, read once per stamp (evidence.parquet, file lists)."""
    # keyed and read through the resolved path: the layout's file paths then stay right for
    # every spelling of the case (relative, through a symlink) and after a change of directory
    root = root.resolve()
    key, now = root, stamp(root)
    with _LAYOUTS_GUARD:
        known = _LAYOUTS.get(key)
    if known is not None and known[0] == now:
        return known[1]
    evidence = read_evidence(root)
    files = evidence.column("event_files").to_pylist()
    layout = _Layout(
        evidence,
        tuple(sorted({str(root / f) for group in files for f in group or ()})),
        tuple((name, str(path)) for name, path in derived_tables(root).items()),
        tuple(sorted(str(p) for p in (root / IMPORTED).glob("*.parquet"))),
    )
    with _LAYOUTS_GUARD:
        _LAYOUTS[key] = (now, layout)
        while len(_LAYOUTS) > 8:  # a process that opens many cases (tests) keeps a few
            _LAYOUTS.pop(next(iter(_LAYOUTS)))
    return layout


def connect(root: Path, share: int = 1, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with views `evidence`, `events` and one per derived table, within
    the memory budget (`storage.connection`; `share` connections run at once).

    Views are built from relations, never from SQL text holding a path. A thread that needs
    its own connection to the same case takes a `cursor` of this one.
    """
    root = require_case(Path(root))
    layout = _layout(root)
    con = connection.connect(root, share=share, threads=threads)
    registered = {"evidence": layout.evidence}
    if layout.event_files:
        con.read_parquet(list(layout.event_files)).create_view("events")
    else:
        registered["events"] = EVENTS_SCHEMA.empty_table()
    for name, table in registered.items():
        con.register(name, table)
    _REGISTERED[con] = registered
    for name, path in layout.derived:
        con.read_parquet(path).create_view(name)
    if layout.imported:
        con.read_parquet(list(layout.imported)).create_view("imported")
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another connection to the database of `con` (a `connect` result), for another thread:
    the same views and memory limit without making them again (a `connect` reads every
    Parquet footer: 0.1-0.5 s); its own temp tables, registered tables and settings."""
    cur = con.cursor()
    cur.execute("SET TimeZone = 'UTC'")
    for name, table in _REGISTERED.get(con, {}).items():
        cur.register(name, table)
    return cur


def write_derived_relation(
    root: Path,
    name: str,
    relation: duckdb.DuckDBPyRelation,
    schema: pa.Schema,
    dictionary: bool | list[str] = True,
) -> None:
    """Write one analysis table under derived/ from a DuckDB relation, batch by batch (never
    whole in memory: DuckDB spills within its limit), in `schema`, replaced atomically.
    `dictionary`: the columns to dictionary-encode (all by default)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"bad derived table name {name!r}")
    folder = Path(root) / DERIVED
    folder.mkdir(exist_ok=True)
    write_relation(folder / f"{name}.parquet", relation, schema, dictionary=dictionary)


def write_relation(
    path: Path,
    relation: duckdb.DuckDBPyRelation,
    schema: pa.Schema,
    compression: str = "zstd",
    dictionary: bool | list[str] = True,
) -> None:
    """Write a DuckDB relation to `path` batch by batch in `schema` (64k-row groups), replaced
    atomically; a build's parts are written so too (`compression` cheaper: they are read once).
    `dictionary`: which columns to dictionary-encode (a column of nearly unique values pays
    for a dictionary per row group that the writer then abandons)."""
    tmp = _tmp_name(path)
    try:
        reader = relation.to_arrow_reader(batch_size=65_536)
        with pq.ParquetWriter(
            tmp, schema, compression=compression, use_dictionary=dictionary
        ) as writer:
            for batch in reader:
                writer.write_table(pa.Table.from_batches([batch]).cast(schema))
        _fsync_replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# What DuckDB's Parquet writer may compress a build's parts with.
PART_CODECS = ("snappy", "zstd", "uncompressed")


def write_part(
    con: duckdb.DuckDBPyConnection, select_sql: str, path: Path, compression: str = "snappy"
) -> None:
    """Write the rows of `select_sql` (our own SQL) to `path` with DuckDB's own Parquet writer:
    a build's part, read back only by DuckDB, so no Arrow round trip and no cast. Renamed
    into place when complete (a task that dies leaves no half part), not fsynced: parts live
    only as long as their build."""
    if compression not in PART_CODECS:
        raise ValueError(f"bad part compression {compression!r}")
    tmp = _tmp_name(path)
    try:
        # the relation's writer takes the path as a value: no path in SQL text
        con.sql(select_sql).write_parquet(str(tmp), compression=compression)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_table_atomic(path: Path, table: pa.Table) -> None:
    tmp = _tmp_name(path)
    try:
        # Row groups of 64k rows: a filtered read (one user, one session) skips the others.
        pq.write_table(table, tmp, compression="zstd", row_group_size=65_536)
        _fsync_replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace a small file of the case (a settings file) in one step."""
    _write_atomic(Path(path), data)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = _tmp_name(path)
    try:
        tmp.write_bytes(data)
        _fsync_replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _tmp_name(path: Path) -> Path:
    """A temporary name beside `path`, unique to this writer (two writers never share one)."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    return Path(name)


def _fsync_replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
