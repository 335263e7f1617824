"""logonscope: investigate Windows logons from EVTX evidence.

`logonscope.open_case(path)` opens a built case for notebooks and scripts (`logonscope.api`);
the command line and the app live in `logonscope.tui`. Importing this package loads nothing
else: DuckDB and Polars are imported by `open_case`, so `import logonscope.storage` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from logonscope.api import Case, SessionDetail

__all__ = ["Case", "SessionDetail", "open_case"]


def open_case(
    path: str | Path, build: bool = True, progress: Callable[[str], None] | None = None
) -> Case:
    """Open the case folder `path` read-only (builds its sessions first when they are missing
    or stale, as the command line does, reporting to `progress`; `build=False` refuses a
    stale case instead)."""
    from logonscope.api import open_case as _open_case

    return _open_case(path, build=build, progress=progress)


def __getattr__(name: str) -> Any:
    if name in ("Case", "SessionDetail"):
        from logonscope import api

        return getattr(api, name)
    raise AttributeError(f"module 'logonscope' has no attribute {name!r}")
