"""One simulated Windows host and the ground truth: events queued in time order, written per
channel, and every written record credited to the sessions and activity it belongs to.

Stories queue events with `Host.emit` (any order within the future); `Host.advance(t)` writes
everything older than t, so memory holds only what is still pending, however long the run.
Truth streams to part files and is assembled into truth.json by `Truth.finish`. Must not decide
what happens on a host (stories.py does) nor touch anything outside the output folder.
"""

from __future__ import annotations

import heapq
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logonscope.storage.evtx_writer import (
    DEFAULT_MAX_BYTES,
    EventType,
    EvtxWriter,
    filetime_to_datetime,
)

from .catalog import CHANNELS, FILE_NAMES
from .views import HostViews

TICKS_PER_SECOND = 10_000_000


def iso(ticks: int | None) -> str | None:
    if ticks is None:
        return None
    return filetime_to_datetime(ticks).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Session:
    """A truth session being built; flushed once complete and all its records are written."""

    key: str
    fields: dict[str, Any]
    sources: list[dict[str, Any]] = field(default_factory=list)
    pending: int = 0
    closed: bool = False
    start_real: int = 0  # the start on the true clock (fields hold times as written)
    kind: str = "session"  # or a Windows "logon" / "desktop" session (scenarios.views)


class Truth:
    """Streams sessions and activity to part files; `finish` writes truth.json."""

    def __init__(self, out: Path, seed: int, scenarios: list[str]) -> None:
        self.out = out
        self.seed = seed
        self.scenarios = scenarios
        self._sessions_path = out / ".truth-sessions.part"
        self._activity_path = out / ".truth-activity.part"
        self._sessions = open(self._sessions_path, "w", encoding="utf-8")  # noqa: SIM115
        self._activity = open(self._activity_path, "w", encoding="utf-8")  # noqa: SIM115
        self._views_paths = {k: out / f".truth-{k}-sessions.part" for k in ("logon", "desktop")}
        self._views = {
            k: open(p, "w", encoding="utf-8")  # noqa: SIM115
            for k, p in self._views_paths.items()
        }
        self._view_counts = {k: 0 for k in self._views_paths}
        self.n_sessions = 0
        self.n_activity = 0
        # what a scenario wants a test to know beyond sessions (e.g. its odd address)
        self.facts: dict[str, Any] = {}
        self.tampering: list[dict[str, Any]] = []  # log clears and record gaps, in order

    def new_session(self, **fields: Any) -> Session:
        self.n_sessions += 1
        return Session(f"s{self.n_sessions:04d}", fields)

    def new_view_session(self, kind: str, **fields: Any) -> Session:
        """A Windows logon or desktop session (`scenarios.views`), keyed L0001 / D0001."""
        self._view_counts[kind] += 1
        return Session(f"{kind[0].upper()}{self._view_counts[kind]:04d}", fields, kind=kind)

    def maybe_flush(self, s: Session) -> None:
        if s.closed and s.pending == 0:
            row = {"key": s.key, **s.fields, "sources": s.sources}
            out = self._sessions if s.kind == "session" else self._views[s.kind]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")

    def activity(self, row: dict[str, Any]) -> None:
        self.n_activity += 1
        self._activity.write(json.dumps(row, ensure_ascii=False) + "\n")

    def finish(self, files: list[dict[str, Any]]) -> Path:
        self._sessions.close()
        self._activity.close()
        for fh in self._views.values():
            fh.close()
        path = self.out / "truth.json"
        with open(path, "w", encoding="utf-8") as fh:
            head: dict[str, Any] = {"seed": self.seed, "scenarios": self.scenarios}
            head["files"] = files
            if self.facts:
                head["facts"] = self.facts
            fh.write(json.dumps(head, ensure_ascii=False)[:-1])
            for name, part in (
                ("sessions", self._sessions_path),
                ("activity", self._activity_path),
                ("logon_sessions", self._views_paths["logon"]),
                ("desktop_sessions", self._views_paths["desktop"]),
            ):
                fh.write(f', "{name}": [')
                with open(part, encoding="utf-8") as src:
                    fh.writelines(
                        ("" if i == 0 else ",\n") + line.rstrip("\n") for i, line in enumerate(src)
                    )
                fh.write("]")
            fh.write(f', "tampering": {json.dumps(self.tampering, ensure_ascii=False)}')
            fh.write("}\n")
        for part in (self._sessions_path, self._activity_path, *self._views_paths.values()):
            os.unlink(part)
        return path


@dataclass(frozen=True)
class User:
    name: str
    domain: str
    sid: str
    admin: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.domain}\\{self.name}"


class Host:
    """A host's writers, counters (logon ids, LSM sessions, boots) and pending events."""

    def __init__(
        self,
        out: Path,
        truth: Truth,
        short: str,
        domain: str,
        fqdn_suffix: str,
        rng: random.Random,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.short = short
        self.domain = domain
        self.computer = f"{short}.{fqdn_suffix}" if fqdn_suffix else short
        self.truth = truth
        self.rng = rng
        self.out = out
        self.folder = out / short
        self.max_bytes = max_bytes
        self.writers: dict[str, EvtxWriter] = {}
        self._rel: dict[Path, str] = {}
        self.machine = User(f"{short}$", domain, "S-1-5-18")
        self.sid_prefix = "S-1-5-21-{}-{}-{}".format(
            *(rng.randrange(10**9, 4 * 10**9) for _ in range(3))
        )
        self._heap: list[tuple[int, int, str, EventType, tuple, dict, tuple, Any]] = []
        self._seq = 0
        self.open_sessions: list[Session] = []
        self.records = 0
        self.emitted = 0
        self.horizon = 0
        self.lsass_pid = rng.randrange(500, 800)
        self.svchost_pid = rng.randrange(900, 1100)
        self.lsm_pid = rng.randrange(700, 900)
        self.rcm_pid = rng.randrange(900, 1000)
        # (true time from which, offset): the host's clock once someone has set it
        self.clock: list[tuple[int, int]] = []
        # (true time from which, computer name): the names the host wrote, once renamed
        self.names: list[tuple[int, str]] = []
        self.views = HostViews(self)
        self.boot()

    # -- the host's clock --------------------------------------------------------------------
    def written(self, t: int) -> int:
        """The time this host's clock shows at true time t (what its events carry)."""
        offset = 0
        for since, off in self.clock:
            if t >= since:
                offset = off
        return t + offset

    def set_clock(self, t: int, shift: int) -> tuple[int, int]:
        """From true time t on, the clock shows `shift` more (less) than before: (old, new)."""
        old = self.written(t)
        self.clock.append((t, self.written(t) - t + shift))
        return old, self.written(t)

    def name_at(self, t: int) -> str:
        """The computer name this host writes into its events at true time t."""
        name = self.computer
        for since, new in self.names:
            if t >= since:
                name = new
        return name

    def rename(self, t: int, short: str) -> None:
        """From true time t on, the host writes `short` (+ its domain suffix) as its name."""
        suffix = self.computer.partition(".")[2]
        self.names.append((t, f"{short}.{suffix}" if suffix else short))

    def clock_changed(self, start: int, end: int | None) -> bool:
        return end is not None and any(start < since <= end for since, _ in self.clock)

    # -- counters --------------------------------------------------------------------------
    def boot(self) -> None:
        """Logon ids and LSM session ids restart at each boot (so ids repeat across boots)."""
        self.views.close_all()
        self._next_lid = 0x3E7 + 0x5000
        # The same sequence every boot: ids issued before a reboot are issued again after it.
        self._lid_rng = random.Random(self.short)
        self.next_lsm_session = 1
        self.rdp_tcp = 0

    def logon_id(self) -> int:
        self._next_lid += self._lid_rng.randrange(0x100, 0x4000)
        return self._next_lid

    def lsm_session(self) -> int:
        self.next_lsm_session += 1
        return self.next_lsm_session

    def activity_id(self) -> str:
        """RDP connection ActivityIDs look like F4205BAC-1B01-40FC-AEEF-3C971C730000."""
        r = self.rng.getrandbits(112)
        h = f"{r:028X}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:28]}0000"

    def guid(self) -> str:
        h = f"{self.rng.getrandbits(128):032X}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def user(self, name: str, rid: int, admin: bool = False, domain: str | None = None) -> User:
        return User(name, domain or self.domain, f"{self.sid_prefix}-{rid}", admin)

    # -- events ----------------------------------------------------------------------------
    def emit(
        self,
        t: int,
        et: EventType,
        values: tuple,
        *,
        sessions: tuple[Session, ...] = (),
        activity: tuple[Session | None, str | None] | None = None,
        **system: Any,
    ) -> None:
        """Queue one event at FILETIME t, credited to `sessions` and/or as `activity` (and to
        the Windows logon and desktop sessions it belongs to)."""
        sessions = (*sessions, *self.views.of_event(t, et, values, sessions))
        for s in sessions:
            s.pending += 1
        self._seq += 1
        self.emitted += 1
        self.horizon = max(self.horizon, t)
        heapq.heappush(
            self._heap, (t, self._seq, et.channel, et, values, system, sessions, activity)
        )

    def advance(self, until: int | None = None) -> None:
        """Write every queued event older than `until` (all of them when None)."""
        heap = self._heap
        while heap and (until is None or heap[0][0] < until):
            t, _, channel, et, values, system, sessions, activity = heapq.heappop(heap)
            w = self.writers.get(channel)
            if w is None:
                w = self.writers[channel] = EvtxWriter(
                    self.folder / FILE_NAMES[channel], max_bytes=self.max_bytes
                )
            tamper, skipped = None, 0
            if "tamper" in system or "skip_records" in system:
                system = dict(system)
                tamper = system.pop("tamper", None)  # this record clears a log
                skipped = system.pop("skip_records", 0)  # records deleted before this one
                w.next_record_id += skipped
            computer = self.name_at(t)
            path, rid = w.write(et, self.written(t), values, computer=computer, **system)
            self.records += 1
            rel = self._rel.get(path)
            if rel is None:
                rel = self._rel[path] = path.relative_to(self.out).as_posix()
            if skipped:
                self.truth.tampering.append(
                    {"kind": "records missing", "host": computer, "file": rel, "channel": channel}
                    | {"record_id": rid - skipped, "record_to": rid - 1, "user": None}
                )
            if tamper is not None:
                self.truth.tampering.append(
                    {"kind": "log cleared", "host": computer, "file": rel, **tamper}
                    | {"record_id": rid, "record_to": rid}
                )
            for s in sessions:
                s.sources.append(
                    {"file": rel, "channel": channel, "event_id": et.event_id, "record_id": rid}
                )
                s.pending -= 1
                self.truth.maybe_flush(s)
            if activity is not None:
                owner, confidence = activity
                self.truth.activity(
                    {
                        "file": rel,
                        "host": computer,
                        "channel": channel,
                        "event_id": et.event_id,
                        "record_id": rid,
                        "session": owner.key if owner else None,
                        "confidence": confidence,
                    }
                )

    # -- sessions --------------------------------------------------------------------------
    def session(
        self,
        user: User,
        logon_type: int,
        start: int,
        *,
        src_ip: str | None,
        outcome: str = "success",
        is_reconnect: bool = False,
        system: bool = False,
        admin: bool = False,
        elevated: bool = False,
    ) -> Session:
        s = self.truth.new_session(
            host=self.name_at(start),
            user=user.name,
            domain=user.domain,
            logon_type=logon_type,
            src_ip=src_ip,
            start=iso(self.written(start)),
            end=None,
            end_reason="none seen",
            outcome=outcome,
            is_reconnect=is_reconnect,
            system=system,
            admin=admin,
            elevated=elevated,
            clock_changed=False,
            tampered=False,
        )
        s.start_real = start
        return s

    def close(self, s: Session, end: int | None, reason: str) -> None:
        s.fields["end"] = iso(None if end is None else self.written(end))
        s.fields["end_reason"] = reason
        s.fields["clock_changed"] = self.clock_changed(s.start_real, end)
        s.closed = True
        if s in self.open_sessions:
            self.open_sessions.remove(s)
        self.truth.maybe_flush(s)

    def leave_open(self, s: Session) -> None:
        """No end event: the next shutdown/boot closes it, else it stays `none seen`."""
        self.open_sessions.append(s)

    def finish(self) -> list[dict[str, Any]]:
        self.advance()
        self.views.close_all()
        for s in list(self.open_sessions):
            self.close(s, None, "none seen")
        files = []
        for channel in CHANNELS:
            w = self.writers.get(channel)
            if w is None:
                continue
            for f in w.close():
                row = {
                    "file": f.path.relative_to(self.out).as_posix(),
                    "host": self.computer,
                    "channel": channel,
                    "records": f.records,
                }
                if self.names:  # a renamed host: its later names (records carry either)
                    row["renamed_to"] = [name for _, name in self.names]
                files.append(row)
        return files
