"""Small events tables for the correlation-rule tests, and `Alone`: many of them built at once.

A build costs ~0.5 s of CPU whatever its size (about a hundred statements, each planned), so
the rule tests write their few events each on a host of its own (own computer name, host key
and evidence hash) and build them all with ONE `build_sessions` call: sessions never cross
hosts. Tests that compare builds (two `Rules`, two input orders) use `Log.build` alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NamedTuple

import duckdb
import pyarrow as pa
import pytest

from logonscope.analysis.sessions import Rules, build_sessions
from logonscope.storage.schema import EVENTS_SCHEMA
from logonscope.storage.vocabulary import LSM, RCM, RDPCORE

T0 = dt.datetime(2024, 3, 1, 9, 0, 0, tzinfo=dt.timezone.utc)
SHA = "a" * 64
HOST = "WS01.corp.local"
CONSOLE = "61A55000-55E5-1017-0000-000000000000"
RDP_ACT = "F4205BAC-1B01-40FC-AEEF-3C971C730000"


class Log:
    """Builds an events table: `log.add(seconds, channel, event_id, **columns)`."""

    def __init__(self, host: str = HOST, host_key: str = "ws01", sha: str = SHA) -> None:
        self.rows: list[dict[str, Any]] = []
        self.host, self.host_key, self.sha = host, host_key, sha

    def add(self, sec: float, channel: str, event_id: int, **cols: Any) -> int:
        rid = len(self.rows) + 1
        row = {name: None for name in EVENTS_SCHEMA.names}
        row.update(
            evidence_sha256=self.sha,
            record_id=rid,
            time=T0 + dt.timedelta(seconds=sec),
            time_from_header=False,
            host=self.host,
            host_key=self.host_key,
            channel=channel,
            event_id=event_id,
            provider={"System": "EventLog"}.get(channel, "p"),
        )
        row.update(cols)
        self.rows.append(row)
        return rid

    # Security helpers -------------------------------------------------------------------
    def logon(self, sec: float, user: str, lid: int, lt: int, ip: str = "-", **kw: Any) -> int:
        return self.add(
            sec,
            "Security",
            4624,
            target_user=user,
            target_domain="CORP",
            target_logon_id=lid,
            logon_type=lt,
            ip=ip,
            **kw,
        )

    def uac_pair(self, sec: float, user: str, a: int, b: int, lt: int, ip: str = "-") -> None:
        self.logon(sec, user, a, lt, ip, linked_logon_id=b, elevated=True)
        self.logon(sec + 0.0001, user, b, lt, ip, linked_logon_id=a, elevated=False)

    def priv(self, sec: float, user: str, lid: int) -> int:
        return self.add(sec, "Security", 4672, subject_user=user, subject_logon_id=lid)

    def logoff(self, sec: float, user: str, lid: int, event_id: int = 4634) -> int:
        return self.add(sec, "Security", event_id, target_user=user, target_logon_id=lid)

    def lsm(
        self,
        sec: float,
        event_id: int,
        user: str | None,
        sid: int,
        address: str | None = None,
        act: str = CONSOLE,
    ) -> int:
        return self.add(
            sec,
            LSM,
            event_id,
            target_user=user,
            target_domain="CORP",
            lsm_session_id=sid,
            ip=address,
            activity_id=act,
        )

    def build(self, rules: Rules | None = None) -> tuple[list[dict], list[dict]]:
        """This log alone, built on its own."""
        return build_rows(self.rows, rules)


def build_rows(rows: list[dict], rules: Rules | None = None) -> tuple[list[dict], list[dict]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("events", pa.Table.from_pylist(rows, schema=EVENTS_SCHEMA))
    sessions, sources = build_sessions(con, rules)
    return sessions.to_pylist(), sources.to_pylist()


class Built(NamedTuple):
    """What a writer returned (record ids to look for), and its host's sessions and sources."""

    marks: Any
    sessions: list[dict]
    sources: list[dict]


class Alone:
    """Logs written each on a host of their own (own computer name, host key and evidence
    hash), built together: the writers are registered at import, `build` runs them all."""

    def __init__(self) -> None:
        self.writers: dict[tuple[str, tuple], tuple[Callable[..., Any], tuple]] = {}

    def add(self, write: Callable[..., Any], *args: Any) -> Callable[..., Any]:
        self.writers[(write.__name__, args)] = (write, args)
        return write

    def build(self) -> Callable[..., Built]:
        """Every log, built by one `build_sessions`; `built(writer, *args)` is one log's part."""
        logs, rows = {}, []
        for i, (key, (write, args)) in enumerate(self.writers.items()):
            log = Log(f"H{i:03d}.corp.local", f"h{i:03d}", f"{i + 1:064x}")
            logs[key] = (log, write(log, *args))
            rows += log.rows
        sessions, sources = build_rows(rows)
        out = {}
        for key, (log, marks) in logs.items():
            hosts = {r["host"] for r in log.rows}
            mine = [s for s in sessions if s["host"] in hosts]
            ids = {s["session_id"] for s in mine}
            theirs = [r for r in sources if r["session_id"] in ids]
            assert {r["evidence_sha256"] for r in theirs} <= {log.sha}, key  # nothing crossed
            out[key] = Built(marks, mine, theirs)
        return lambda write, *args: out[(write.__name__, args)]

    def fixture(self) -> Any:
        """The module's `built` fixture: one build for all its logs, at first use."""
        return pytest.fixture(scope="module", name="built")(self.build)


def records(sources: list[dict], session: dict) -> set[int]:
    return {s["record_id"] for s in sources if s["session_id"] == session["session_id"]}


def human(sessions: list[dict]) -> list[dict]:
    return [s for s in sessions if not s["system"]]


def rdp_new_logon(
    log: Log,
    at: float,
    user: str = "alice",
    ip: str = "203.0.113.7",
    ids: tuple[int, int] = (0x5001, 0x5002),
    sid: int = 2,
    act: str = RDP_ACT,
    gap: float = 0.0,
) -> dict[str, int]:
    """The steps Windows writes for one new RDP logon (DESIGN 2)."""
    r = {}
    r["261"] = log.add(at, RCM, 261, activity_id=act)
    r["131"] = log.add(at + 0.1, RDPCORE, 131, ip=ip, port=50123, activity_id=act)
    r["nla"] = log.logon(at + 1.0, user, 0x4001, 3, ip)
    r["1149"] = log.add(at + 1.04, RCM, 1149, target_user=user, ip=ip, activity_id=act)
    r["4648"] = log.add(
        at + 2.0 + gap,
        "Security",
        4648,
        target_user=user,
        ip=ip,
        subject_user="WS01$",
        subject_logon_id=999,
    )
    log.uac_pair(at + 2.0001 + gap, user, ids[0], ids[1], 10, ip)
    r["4672"] = log.priv(at + 2.0003 + gap, user, ids[0])
    r["41"] = log.lsm(at + 2.1 + gap, 41, f"CORP\\{user}", sid, act=act)
    r["21"] = log.lsm(at + 2.5 + gap, 21, f"CORP\\{user}", sid, "", act=act)
    r["22"] = log.lsm(at + 2.7 + gap, 22, f"CORP\\{user}", sid, "", act=act)
    return r
