"""A built case as Polars DataFrames, for notebooks and scripts.

The same reads as the command line (`analysis.queries` with the same `Filters`), handed over
from Arrow without a copy: a DataFrame here holds exactly the rows and columns that
`logonscope sessions|users|user-ips|session --format json` prints. The case is only read:
its sessions are built first when missing or stale (as the command line does), and every
query runs on an in-memory DuckDB over the case's Parquet files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from logonscope.analysis import queries, view_queries
from logonscope.analysis.build import ensure_built
from logonscope.analysis.build_state import is_stale
from logonscope.storage import connection, times
from logonscope.storage.case import CaseError, connect, require_case

__all__ = ["Case", "CaseError", "SessionDetail", "open_case"]

# What `since`/`until` accept: an aware or naive (UTC) datetime, a date (its midnight UTC),
# or ISO 8601 text as the command line reads it (`2021-02-12`, `2021-02-12T12:34:25Z`).
TimeLike = dt.datetime | dt.date | str


def frame(table: pa.Table) -> pl.DataFrame:
    """An Arrow table as a Polars DataFrame sharing its buffers (no rechunk; strings arrive as
    Arrow string views, Polars' own layout, so nothing is converted)."""
    result = pl.from_arrow(table, rechunk=False)
    assert isinstance(result, pl.DataFrame)
    return result


def _time(option: str, value: TimeLike | None) -> dt.datetime | None:
    """`value` as an aware UTC datetime (naive means UTC, as on the command line)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    try:
        return times.parse_time(value)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None


def filters(
    user: str | None = None,
    ip: str | None = None,
    host: str | None = None,
    since: TimeLike | None = None,
    until: TimeLike | None = None,
    failed: bool = False,
    kinds: str | Iterable[str] = (),
    search: str | None = None,
    show_system: bool = False,
) -> queries.Filters:
    """The `Filters` the command line makes of the same options (`--user`, `--ip` with `-` for
    none, `--host`, `--since`, `--until`, `--failed`, `--kind`, `--search`, `--all`)."""
    start, end = _time("since", since), _time("until", until)
    if start is not None and end is not None and start > end:
        raise ValueError("since is after until")
    return queries.Filters(
        user=user,
        ip=ip,
        host=host,
        failed=failed,
        since=start,
        until=end,
        kinds=(kinds,) if isinstance(kinds, str) else tuple(kinds),
        show_system=show_system,
        search=search,
    )


@dataclass(frozen=True)
class SessionDetail:
    """One session: its row (a one-row frame, the `sessions` columns), its source events, the
    activity attributed to it (empty until attribution exists), and `context`: what the row
    does not hold (`host_names`, `tampering_signs` when flagged, `logon_session_ids`,
    `desktop_session_ids`), as the command line's `session` JSON adds it."""

    row: pl.DataFrame
    sources: pl.DataFrame
    activity: pl.DataFrame
    context: dict[str, Any]

    def __getitem__(self, column: str) -> Any:
        """A column of the session's row as a Python value (`detail["user"]`)."""
        return self.row.item(0, column)


class Case:
    """An open case. `sessions`, `users` and `user_ips` take the command line's filters:
    `user` (any spelling: `CORP\\alice`, `alice@corp`, `Alice`), `ip` (any form; `"-"`: no
    address), `host` (FQDN or short name), `since`/`until` (sessions overlapping the span),
    `failed`, `kinds` (logon kinds), `search` (text in user/host/ip/...), `show_system`.
    Each call returns a new frame; `close()` (or `with`) releases the DuckDB connection."""

    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.root = root
        self._con: duckdb.DuckDBPyConnection | None = con

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection with the case's views (evidence, events, sessions, ...)."""
        if self._con is None:
            raise ValueError(f"{self.root}: case closed")
        return self._con

    def sessions(
        self,
        user: str | None = None,
        ip: str | None = None,
        host: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        *,
        failed: bool = False,
        kinds: str | Iterable[str] = (),
        search: str | None = None,
        show_system: bool = False,
    ) -> pl.DataFrame:
        """Sessions oldest first (every attempt, failures and reconnects included), as
        `logonscope sessions` lists them with the same options (`show_system`: `--all`)."""
        chosen = filters(user, ip, host, since, until, failed, kinds, search, show_system)
        return frame(queries.sessions(self.con, chosen))

    def users(
        self,
        user: str | None = None,
        ip: str | None = None,
        host: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        *,
        failed: bool = False,
        kinds: str | Iterable[str] = (),
        search: str | None = None,
        show_system: bool = False,
    ) -> pl.DataFrame:
        """One row per user over the sessions the options select (`logonscope users`)."""
        chosen = filters(user, ip, host, since, until, failed, kinds, search, show_system)
        return frame(queries.users(self.con, chosen))

    def user_ips(
        self,
        user: str | None = None,
        ip: str | None = None,
        host: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        *,
        failed: bool = False,
        kinds: str | Iterable[str] = (),
        search: str | None = None,
        show_system: bool = False,
    ) -> pl.DataFrame:
        """One row per user and source address, rarest first, rarity over the whole case
        (`logonscope user-ips`)."""
        chosen = filters(user, ip, host, since, until, failed, kinds, search, show_system)
        return frame(queries.user_ips(self.con, chosen))

    def session(self, session_id: str) -> SessionDetail:
        """One session by id (KeyError when the case has no such session)."""
        row = queries.session_row(self.con, session_id)
        if row.num_rows == 0:
            raise KeyError(session_id)
        first = row.slice(0, 1).to_pylist()[0]
        host_key, tampered = first.get("host_key"), first.get("tampered")
        context = queries.session_context(self.con, session_id, host_key, tampered)
        context.update(view_queries.related_ids(self.con, session_id, host_key))
        return SessionDetail(
            frame(row),
            frame(queries.session_sources(self.con, session_id)),
            frame(queries.session_activity(self.con, session_id)),
            context,
        )

    def sql(self, query: str, params: list[Any] | None = None) -> pl.DataFrame:
        """DuckDB SQL over the case's views; values travel as `params` (`?`), never as text.
        A statement that returns no rows (SET, ...) gives an empty frame."""
        result = self.con.sql(query, params=params)
        return pl.DataFrame() if result is None else frame(result.to_arrow_table())

    def close(self) -> None:
        if self._con is not None:
            connection.close(self._con)
            self._con = None

    def __enter__(self) -> Case:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<logonscope.Case {str(self.root)!r}{'' if self._con else ' closed'}>"


def open_case(
    path: str | Path, build: bool = True, progress: Callable[[str], None] | None = None
) -> Case:
    """The case at `path`, its sessions built first when needed (`build=False`: a CaseError
    instead, and nothing is built). `progress` receives the build's progress lines."""
    root = require_case(Path(path))
    if build:
        ensure_built(root, progress=progress)
    elif is_stale(root):
        raise CaseError(f"{root}: sessions not built for this evidence (open with build=True)")
    con = connect(root)
    try:  # Arrow string views are Polars' own string layout: frames share DuckDB's buffers
        con.execute("SET arrow_output_version = '1.4'")
        con.execute("SET produce_arrow_string_view = true")
    except duckdb.Error:
        pass  # an older DuckDB: plain strings, which Polars converts
    return Case(root, con)
