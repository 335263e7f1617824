"""A DuckDB connection that finishes a pending result before its next call."""

from __future__ import annotations

from typing import Any


class Finishing:
    """A connection proxy that finishes any pending `execute()` result before the next call:
    with duckdb 2.x a half-fetched result blocks every later statement on the connection."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._con, name)
        if callable(attr) and name not in ("complete", "abort", "interrupt"):

            def call(*args: Any, **kwargs: Any) -> Any:
                complete = getattr(self._con, "complete", None)
                if complete is not None:
                    complete()
                return attr(*args, **kwargs)

            return call
        return attr
