"""Every DuckDB connection the product opens: one memory budget, spill files inside the case.

DuckDB takes 80 % of the machine's memory unless told otherwise, so a build at 10 M events
grew to 12 GB. Every connection is made here, with an explicit `memory_limit` (a share of one
budget, `--memory`, default 1 GB) and a `temp_directory` of its own under `<case>/.spill/`,
removed when the connection is closed (or by the next connection once its process is gone).

Spill folders sit under `<case>/.spill/<machine>/`: a case on a shared filesystem is used by
workers on several machines, and a process id means nothing on another machine, so each
machine only ever sweeps its own folders.

The budget travels in the environment (`LOGONSCOPE_MEMORY`) so that worker processes, which
are spawned, inherit it. No analysis and no UI here.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded by the first `connect`: opening a case's first screen needs no DuckDB
    import duckdb

ENV = "LOGONSCOPE_MEMORY"
DEFAULT_MEMORY = 1 << 30
MIN_MEMORY = 32 << 20  # DuckDB cannot do much below this
SPILL = ".spill"
_SPILLS: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, Path] = (
    weakref.WeakKeyDictionary()
)  # connection -> its folder
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes from `200MB`, `1.5G`, `512m`, `1GiB` or a plain number of bytes."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", str(text), re.IGNORECASE)
    if not found:
        raise ValueError(f"not a memory size: {text!r} (e.g. 200MB, 1GB)")
    size = int(float(found.group(1)) * _UNITS[found.group(2).upper()])
    if size < MIN_MEMORY:
        raise ValueError(f"memory size {text!r} is below {MIN_MEMORY >> 20} MB")
    return size


def set_memory(budget: int) -> None:
    """Set the budget of this process and of the processes it starts from now on."""
    os.environ[ENV] = str(int(budget))


def memory_budget() -> int:
    """The DuckDB memory budget in bytes (all connections of the process tree together)."""
    value = os.environ.get(ENV)
    try:
        return max(MIN_MEMORY, int(value)) if value else DEFAULT_MEMORY
    except ValueError:
        return DEFAULT_MEMORY


def connect(
    case: Path | str | None = None, share: int = 1, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB limited to `budget / share`, spilling under `case/.spill/`.

    `share` is the number of connections that run at the same time within the budget (the
    parallel tasks of a build, the workers of an ingest). Without a case (or when the case
    is read-only) the spill folder is a private temporary folder. Times are UTC.
    """
    limit = max(MIN_MEMORY, memory_budget() // max(1, share))
    spill = _spill_dir(Path(case) if case is not None else None)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": f"{limit >> 20}MB",
        "temp_directory": str(spill),
    }
    if threads:
        config["threads"] = int(threads)
    import duckdb

    try:
        con = duckdb.connect(config=config)
    except BaseException:
        shutil.rmtree(spill, ignore_errors=True)
        raise
    weakref.finalize(con, _remove, spill)
    _SPILLS[con] = spill
    con.execute("SET TimeZone = 'UTC'")
    return con


def limit(con: duckdb.DuckDBPyConnection, share: int = 1, threads: int | None = None) -> None:
    """Change an open connection's budget share and threads (as `connect` would set them)."""
    con.execute(f"SET memory_limit = '{max(MIN_MEMORY, memory_budget() // max(1, share)) >> 20}MB'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Close `con` and remove its spill folder now (not at garbage collection)."""
    spill = _SPILLS.pop(con, None)
    con.close()
    if spill is not None:
        _remove(spill)


def _remove(spill: Path) -> None:
    """Remove a connection's spill folder, and `.spill/<machine>/` and `.spill/` once empty."""
    shutil.rmtree(spill, ignore_errors=True)
    for parent in (spill.parent, spill.parent.parent):
        if SPILL not in (parent.name, parent.parent.name):
            break  # a private temporary folder: leave /tmp alone
        try:
            parent.rmdir()
        except OSError:
            break  # not empty (another connection), or gone


def spill_folder(case: Path | str) -> Path:
    """This machine's folder for temporary files under `case/.spill/` (not created)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()).strip(".") or "localhost"
    return Path(case) / SPILL / name


def _spill_dir(case: Path | None) -> Path:
    if case is not None:
        parent = spill_folder(case)
        try:
            parent.mkdir(parents=True, exist_ok=True)
            _sweep(parent)
            return Path(tempfile.mkdtemp(prefix=f"duckdb-{os.getpid()}-", dir=parent))
        except OSError:
            pass  # a read-only case: spill outside it
    return Path(tempfile.mkdtemp(prefix=f"duckdb-{os.getpid()}-"))


def _sweep(parent: Path) -> None:
    """Remove spill folders of processes that are gone (killed before they could clean)."""
    for folder in parent.iterdir():
        parts = folder.name.split("-")
        pid = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
        if pid is None or pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass
