"""The app's read side of a case: thread-safe calls into `analysis.queries` and friends.

Every call is made from a thread worker. DuckDB connections are not shared between threads,
so each worker group gets its own cursor of one connection over the case (the views are made
once), guarded by a lock: a stale query of one pane never blocks another pane. This module renders
nothing and never builds SQL from user input; filters travel as `analysis.queries.Filters`.

Once the app is up, the case's sessions are read into memory once, in the background
(`HeldSessions`): they are stored by user, so one user's sessions are one slice of that
table, and the Sessions pane's query scans that slice instead of the case's Parquet.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa

from logonscope.analysis.bursts import collapse_bursts
from logonscope.tui.finishing import Finishing
from logonscope.tui.held import CaseRows, HeldSessions, as_table, keep_alive_objects
from logonscope.tui.tables import visible


@dataclass(frozen=True)
class FilterState:
    """What the status line shows and every query applies (the selection is separate)."""

    host: str | None = None
    since: Any = None  # datetime (UTC) or None
    until: Any = None
    kinds: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    show_system: bool = False

    def describe(self) -> str:
        """The status line's filter text: evidence values (host, kinds) made inert."""

        def when(value: Any) -> str:
            return value.strftime("%Y-%m-%d %H:%M") if value is not None else "…"

        parts = [
            f"host: {visible(self.host) if self.host else 'all'}",
            "time: all"
            if self.since is None and self.until is None
            else f"time: {when(self.since)} → {when(self.until)}",
            f"kind: {visible(self.kinds) if self.kinds else 'all'}",
            f"outcome: {', '.join(self.outcomes) or 'all'}",
            "system: shown" if self.show_system else "system: hidden",
        ]
        return "  ".join(parts)

    @property
    def active(self) -> bool:
        return self != FilterState(show_system=self.show_system)


# Results kept per kind (LRU): the case does not change while the app has it open, so going
# back, toggling a filter off or revisiting a user costs nothing the second time.
CACHE_SIZES = {
    "users": 32,
    "ips_all": 16,
    "ips": 256,
    "sessions": 8,  # one user's (or address's)
    # the case-wide lists (`s`), apart: a responder browsing users filled "sessions" with
    # theirs and pushed out the ones the background read made (~0.7 s of CPU each at 10 M)
    "case": 4,
    "rows": 8,  # a selection's sessions with their bursts collapsed (the Sessions pane's rows)
    "case_rows": 4,
    "detail": 256,
    "host_names": 1024,
    "host": 8,
}
OWN_DATABASE = frozenset({"hold"})  # its scan of every session: not on the panes' threads

# Sessions held in memory at most (~250 bytes each in Arrow: 600 MB at 2.4 M, a 10 M-event
# case); a larger case reads each user's sessions from its Parquet row groups instead.
HOLD_MAX_ROWS = 3_000_000


class Backend:
    """Queries over one case folder; `queries` can be swapped (tests, benchmarks)."""

    def __init__(self, case_dir: Path, queries: ModuleType | None = None) -> None:
        self.case_dir = Path(case_dir)
        self._queries = queries
        self._connections: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._base: Any = None  # the connection the groups' cursors share
        self._base_guard = threading.Lock()
        self._cache: dict[str, OrderedDict[Any, Future[Any]]] = {
            k: OrderedDict() for k in CACHE_SIZES
        }
        self.held: HeldSessions | None = None  # set by `hold_sessions` when read
        # freeze what is alive once the background read is done (`keep_alive_objects`): the
        # app in a terminal sets it; tests, whose objects die with each test, do not
        self.keep_alive = False
        self.settled = False  # the background read is done (the app reads ahead from then on)
        self.hold_ended = False  # ... or gave up
        # read what the next key probably shows while the app waits for it (`ReadAhead`); a
        # test that does not check it turns it off: its reads only cost the suite CPU
        self.read_ahead = True

    def hold_sessions(self, then: tuple[FilterState, ...] = ()) -> None:
        """Read the sessions into memory in the background, then compute the summaries and
        the case-wide Sessions list of the filter states in `then` (the ones a responder
        goes to next: `s`, failures only), so the first press of those keys finds them."""
        threading.Thread(
            target=self._hold, args=(then,), daemon=True, name="logonscope-hold"
        ).start()

    def _hold(self, then: tuple[FilterState, ...]) -> None:
        try:
            count = "SELECT count(*) FROM sessions"
            if self.run("hold", lambda con: con.execute(count).fetchall()[0][0]) <= HOLD_MAX_ROWS:
                table = self.run("hold", self.queries.held_sessions)
                self.held = HeldSessions(as_table(table))
            for state in then:  # on the hold's own database: the panes' locks stay free
                self.users(state, group="hold")
                self.user_ips(state, None, group="hold")
                self.sessions(state, None, group="hold")
                self.session_rows(state, None, group="hold")  # each user's rows: a filter of it
            self.settled = True  # (not after a failure: the panes' queries report it)
        except Exception:  # noqa: BLE001, S110 - the panes' own queries report errors
            pass
        self.hold_ended = True
        if self.keep_alive:
            keep_alive_objects()

    def cached(self, kind: str, key: Any, compute: Any) -> Any:
        """`compute()` once per (kind, key); concurrent askers wait for the first one."""
        entries = self._cache[kind]
        with self._guard:
            existing = entries.get(key)
            owner = existing is None
            if existing is None:
                future: Future[Any] = Future()
                entries[key] = future
                while len(entries) > CACHE_SIZES[kind]:
                    entries.popitem(last=False)
            else:
                future = existing
                entries.move_to_end(key)
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:
                with self._guard:
                    entries.pop(key, None)  # a failure is not remembered
                future.set_exception(exc)
        return future.result()

    def ready(self, kind: str, key: Any) -> Any:
        """The cached result of (kind, key) when it is there and done, else None (no wait)."""
        with self._guard:
            future = self._cache[kind].get(key)
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    def prefetch_users(self, state: FilterState) -> None:
        """Start the first Users query now, in parallel with the app starting up."""
        threading.Thread(
            target=self._prefetch, args=(state,), daemon=True, name="logonscope-prefetch"
        ).start()

    def _prefetch(self, state: FilterState) -> None:
        try:
            self.users(state)
        except Exception:  # noqa: BLE001, S110 - the worker asks again and reports the error
            pass

    @property
    def queries(self) -> ModuleType:
        if self._queries is None:
            from logonscope.analysis import queries  # imported by the first query's thread

            self._queries = queries
        return self._queries

    def _lock(self, group: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(group, threading.Lock())

    def connection(self, group: str) -> Any:
        """A worker group's connection (its lock held): a cursor of one connection (views made
        once), or a database of its own for `OWN_DATABASE` groups."""
        con = self._connections.get(group)
        if con is None:
            from logonscope.storage.case import connect, cursor

            if group in OWN_DATABASE:
                # one thread: the other core stays with the panes' queries and the screen
                con = connect(self.case_dir, share=2, threads=1)
            else:
                with self._base_guard:
                    if self._base is None:
                        # one database for the panes' groups: they share its memory budget
                        self._base = connect(self.case_dir, share=2)
                con = cursor(self._base)
            self._connections[group] = con
        return con

    def run(self, group: str, call: Any, *args: Any) -> Any:
        with self._lock(group):
            return call(Finishing(self.connection(group)), *args)

    def filters(self, state: FilterState, **selection: Any) -> Any:
        """An `analysis.queries.Filters` from the filter state plus a selection (user, ip)."""
        Filters = self.queries.Filters
        names = {f.name for f in fields(Filters)}
        values: dict[str, Any] = {
            "host": state.host,
            "since": state.since,
            "until": state.until,
            "kinds": tuple(state.kinds) or None,
            "outcomes": tuple(state.outcomes) or None,
            "show_system": state.show_system,
            **selection,
        }
        base = Filters()
        known = {k: v for k, v in values.items() if k in names}
        # keep the dataclass's own "empty" for collections it defaults to () rather than None
        for key in ("kinds", "outcomes"):
            if key in known and known[key] is None:
                known[key] = getattr(base, key)
        return replace(base, **known)

    # --- the reads, each called from a worker of the named group ------------------------

    def users(self, state: FilterState, group: str = "users") -> pa.Table:
        """`group`: the worker group whose connection runs the query (see `run`); the
        first screen's rows come from the summary file, before any connection."""
        from logonscope.analysis.first_users import users_first

        plain = not state.active and self._queries is None  # no read yet, no stand-in module
        ask = lambda: self.run(group, self.queries.users, self.filters(state))  # noqa: E731
        first = lambda: users_first(self.case_dir, state.show_system if plain else None, ask)  # noqa: E731
        return self.cached("users", state, first)

    def user_ips(self, state: FilterState, user: str | None, group: str = "ips") -> pa.Table:
        """One user's rows of the filter state's User+IP summary: the summary is computed
        once per state (rarity is case-wide anyway), each user is then a filter of it."""

        def of_user() -> pa.Table:
            everyone = self.cached(
                "ips_all",
                state,
                lambda: self.run(group, self.queries.user_ips, self.filters(state)),
            )
            return self.queries.of_user(everyone, user)

        return self.cached("ips", (state, user), of_user)

    def sessions(
        self,
        state: FilterState,
        user: str | None,
        ip: Any = None,
        ip_set: bool = False,
        group: str = "sessions",
    ) -> pa.Table:
        selection: dict[str, Any] = {"user": user}
        if ip_set:
            selection["ip"] = ip if ip is not None else self.queries.NO_IP
        filters = self.filters(state, **selection)

        def query(con: Any) -> pa.Table:
            held = self.held
            rows = held.table if held is not None and user is None else None
            if held is not None and user is not None:
                rows = held.rows_of(held.key_of(user))
            if rows is None or held is None:
                return self.queries.sessions(con, filters)
            # filters on system and outcomes alone: `HeldSessions.select` applies them
            plain = replace(state, show_system=False, outcomes=()) == FilterState()
            if plain and (held.ordered if user is not None else not ip_set):
                at = self._address(ip) if ip_set else None
                selected = held.select(rows, state.show_system, tuple(state.outcomes), at)
                return selected if user is not None else held.oldest_first(selected)
            con.register("_ls_held", rows)
            ordered = user is not None and held.ordered  # one user's slice
            try:
                return self.queries.sessions(con, filters, "_ls_held", held=True, ordered=ordered)
            finally:
                con.unregister("_ls_held")

        kind = "sessions" if user is not None else "case"
        return self.cached(kind, (state, user, ip, ip_set), lambda: self.run(group, query))

    def _address(self, ip: Any) -> tuple[Any]:
        """`HeldSessions.select`'s address condition for a selected `ip` (None: the sessions
        without one), by the rule the queries' filter uses."""
        return (self.queries.ip_value(ip if ip is not None else self.queries.NO_IP),)

    def session_rows(
        self,
        state: FilterState,
        user: str | None,
        ip: Any = None,
        ip_set: bool = False,
        group: str = "sessions",
    ) -> tuple[pa.Table, pa.Table]:
        """(`sessions(...)`, the same with each burst of failures collapsed into one row).

        Bursts are one user's (and address's), so a user's rows are the case-wide rows of
        that user, in the same order (oldest first by start, host, id): once those are made
        (the background read makes the first states'), a user's are a filter of them."""
        table = self.sessions(state, user, ip, ip_set, group)
        if user is None:
            made = self.cached(
                "case_rows", (state, ip, ip_set), lambda: CaseRows(collapse_bursts(table))
            )
            return table, made.rows
        case = self.ready("case_rows", (state, None, False))

        def rows() -> pa.Table:
            if case is not None and self.held is not None:
                key = self.held.key_of(user)
                if not ip_set:
                    return case.of_user(key)
                mine = self.ready("rows", (state, user, None, False))  # browsed just now
                picked = mine if mine is not None else case.of_user(key)
                return self.held.select(picked, True, (), self._address(ip))
            return collapse_bursts(table)

        return table, self.cached("rows", (state, user, ip, ip_set), rows)

    def host_sessions(self, state: FilterState) -> pa.Table:
        """Every session of `state.host` under the other filters of `state` (the host
        timeline's lanes), oldest first."""
        query = self.queries.sessions
        return self.cached("host", state, lambda: self.run("host", query, self.filters(state)))

    def session_detail(
        self, session_id: str, known: dict[str, Any] | None = None, group: str = "detail"
    ) -> dict[str, Any] | None:
        """`known`: the session's row, when the caller has it (saves finding it by id)."""
        from logonscope.analysis import lookup

        def detail(con: Any) -> dict[str, Any] | None:
            names = self._host_names(con, known.get("host_key")) if known else None
            found = self.queries.session_detail(con, session_id, known, names)
            if not found:
                return None
            found = dict(found)
            found["sources"] = lookup.source_events(
                con, as_table(found.get("sources")), self.case_dir
            )
            found["activity"] = as_table(found.get("activity"))
            return found

        return self.cached("detail", session_id, lambda: self.run(group, detail))

    def _host_names(self, con: Any, host: Any) -> list[str] | None:
        """A host's names, read once per host (every session of the host shows them)."""
        if host is None:
            return None
        return self.cached("host_names", host, lambda: self.queries.session_host_names(con, host))

    def event(self, evidence_sha256: str, record_id: int) -> dict[str, Any] | None:
        from logonscope.analysis import lookup

        return self.run("event", lookup.event, evidence_sha256, record_id)

    def unattributed(self, state: FilterState) -> pa.Table:
        """Activity no session holds, on the filters' host (any of its names), in their
        time range."""
        from logonscope.analysis.listing import activity_rows

        def query(con: Any) -> pa.Table:
            return activity_rows(
                con, unattributed=True, host=state.host, since=state.since, until=state.until
            )

        return self.run("unattributed", query)

    def facets(self) -> Any:
        from logonscope.analysis import lookup

        return self.run("facets", lookup.facets)

    def close(self) -> None:
        from logonscope.storage.connection import close

        opened = [*self._connections.values(), self._base]  # a worker may be opening one
        for con in (c for c in opened if c is not None):
            try:
                close(con)
            except Exception:  # noqa: BLE001, S110 - closing at exit must not raise
                pass
        self._connections.clear()
        self._base = None
