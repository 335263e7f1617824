"""The truth of the two other session notions, as the generator writes them: Windows logon
sessions (one per logon id a 4624 opened in this boot, ended by its first 4634/4647) and
desktop sessions (one per LSM session id in this boot, ended by LSM 23).

The generator knows both as it writes: it picked every logon id and LSM session id itself,
and each story credits its events to the investigator sessions they belong to. `HostViews`
watches what a host emits and adds the view sessions an event belongs to, so their members
are credited with record ids like any truth session's sources. Must not decide what happens
on a host (stories do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from logonscope.storage.vocabulary import LSM, SECURITY, SYSTEM

if TYPE_CHECKING:
    from logonscope.storage.evtx_writer import EventType

    from .host import Host, Session

# Logon ids of SYSTEM and the services: every service start logs one on again (each of their
# 4624s is a logon session of its own, never logged off).
SHARED_IDS = (0, 0x3E4, 0x3E5, 0x3E7)
# The Security events that name a logon id, and the field that holds it.
LOGON_ID_FIELDS = {
    4624: "TargetLogonId",
    4634: "TargetLogonId",
    4647: "TargetLogonId",
    4672: "SubjectLogonId",
    4778: "LogonID",
    4779: "LogonID",
    4800: "TargetLogonId",
    4801: "TargetLogonId",
}
# The events that name an LSM session id, and the field that holds it.
DESKTOP_FIELDS = {
    (LSM, 21): "SessionID",
    (LSM, 22): "SessionID",
    (LSM, 23): "SessionID",
    (LSM, 24): "SessionID",
    (LSM, 25): "SessionID",
    (LSM, 40): "Session",
    (LSM, 41): "SessionID",
    (LSM, 42): "SessionID",
    (SYSTEM, 7001): "TSId",
    (SYSTEM, 7002): "TSId",
    (SECURITY, 4800): "SessionId",
    (SECURITY, 4801): "SessionId",
}


def _value(et: EventType, values: tuple, name: str) -> Any:
    names = et.layout.names
    return values[names.index(name)] if name in names else None


class HostViews:
    """The open logon and desktop sessions of one host in its current boot."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.logons: dict[int, Session] = {}
        self.desktops: dict[int, Session] = {}
        self.shared: list[Session] = []  # the logons of shared ids: complete at once
        self.times: dict[str, list[int]] = {}  # key -> [first, end or -1] (true time)

    def _new(self, kind: str, t: int, **fields: Any) -> Session:
        s = self.host.truth.new_view_session(kind, host=self.host.computer, **fields)
        s.fields.update(start=None, end=None, end_reason="none seen", sessions=[])
        self.times[s.key] = [t, -1]
        return s

    def _member(self, s: Session, t: int, sessions: tuple[Session, ...]) -> None:
        span = self.times[s.key]
        span[0] = min(span[0], t)
        owners = s.fields["sessions"]
        owners.extend(x.key for x in sessions if x.kind == "session" and x.key not in owners)

    def _end(self, s: Session, t: int) -> None:
        span = self.times[s.key]
        if span[1] < 0:
            span[1] = t

    def of_event(
        self, t: int, et: EventType, values: tuple, sessions: tuple[Session, ...]
    ) -> tuple[Session, ...]:
        """The view sessions an event about to be queued belongs to."""
        out: list[Session] = []
        if et.channel == SECURITY and et.event_id in LOGON_ID_FIELDS:
            lid = _value(et, values, LOGON_ID_FIELDS[et.event_id])
            s = self.logons.get(lid) if lid not in SHARED_IDS else None
            if et.event_id == 4624:
                lt = _value(et, values, "LogonType")
                user = _value(et, values, "TargetUserName")
                s = self._new("logon", t, logon_id=lid, user=user, logon_type=lt)
                if lid in SHARED_IDS:
                    self.shared.append(s)
                else:
                    self.logons[lid] = s
            if s is not None:
                self._member(s, t, sessions)
                if et.event_id in (4634, 4647):
                    self._end(s, t)
                out.append(s)
        field = DESKTOP_FIELDS.get((et.channel, et.event_id))
        if field is not None:
            lsid = _value(et, values, field)
            d = self.desktops.get(lsid)
            if d is None:
                d = self.desktops[lsid] = self._new("desktop", t, lsm_session_id=lsid)
                d.fields["src_ips"] = []
            self._member(d, t, sessions)
            address = _value(et, values, "Address") if et.channel == LSM else None
            if address and address.upper() != "LOCAL" and address not in d.fields["src_ips"]:
                d.fields["src_ips"].append(address)
            if et.channel == LSM and et.event_id == 23:
                self._end(d, t)
            out.append(d)
        return tuple(out)

    def _close(self, s: Session) -> None:
        first, end = self.times.pop(s.key)
        written = self.host.written
        from .host import iso

        s.fields["start"] = iso(written(first))
        if end >= 0:
            s.fields["end"] = iso(written(end))
            s.fields["end_reason"] = "logoff"
        s.fields["sessions"] = sorted(s.fields["sessions"])
        if "src_ips" in s.fields:
            s.fields["src_ips"] = sorted(s.fields["src_ips"])
        s.closed = True
        self.host.truth.maybe_flush(s)

    def close_all(self) -> None:
        """A boot (ids start again) or the end of the run: every view session is complete."""
        for s in [*self.shared, *self.logons.values(), *self.desktops.values()]:
            self._close(s)
        self.shared.clear()
        self.logons.clear()
        self.desktops.clear()
