"""Single events of the stories: the fields Windows writes for 4624, 4634, 4672, 4648, 4688,
LocalSessionManager and Winlogon, as the real samples show them, and the values they share.
No truth and no sequencing here (the stories do that)."""

from __future__ import annotations

from typing import Any

from . import catalog as c
from .host import TICKS_PER_SECOND, Host, Session, User

S = TICKS_PER_SECOND
MS = S // 1000
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
NULL_SID = "S-1-0-0"
YES, NO = "%%1842", "%%1843"
SVCHOST = "C:\\Windows\\System32\\svchost.exe"
WINLOGON = "C:\\Windows\\System32\\winlogon.exe"
SYSTEM_USER = User("SYSTEM", "NT AUTHORITY", "S-1-5-18")


def _ms(h: Host, lo: int, hi: int) -> int:
    return h.rng.randrange(lo, hi) * MS


def s4624(
    h: Host,
    t: int,
    u: User,
    lt: int,
    lid: int,
    *,
    linked: int = 0,
    elevated: bool = False,
    ip: str = "-",
    port: str = "-",
    workstation: str = "-",
    lp: str = "User32 ",
    auth: str = "Negotiate",
    guid: str = ZERO_GUID,
    subject: User | None = None,
    anonymous: bool = False,
    subject_lid: int = 0x3E7,
    pid: int = 0,
    pname: str = "-",
    lm: str = "-",
    keylen: int = 0,
    restricted: str = "-",
    virtual: str = NO,
    sessions: tuple[Session, ...] = (),
) -> None:
    # Network logons and the boot's SYSTEM logon name no subject (S-1-0-0, "-", 0x0).
    sub = subject if subject is not None else h.machine
    sub_vals = (
        (NULL_SID, "-", "-", 0) if anonymous else (sub.sid, sub.name, sub.domain, subject_lid)
    )
    h.emit(
        t,
        c.S4624,
        (
            *sub_vals,
            u.sid,
            u.name,
            u.domain,
            lid,
            lt,
            lp,
            auth,
            workstation,
            guid,
            "-",
            lm,
            keylen,
            pid,
            pname,
            ip,
            port,
            "%%1833",
            restricted,
            "-",
            "-",
            virtual,
            linked,
            YES if elevated else NO,
        ),
        sessions=sessions,
        pid=h.lsass_pid,
        tid=h.rng.randrange(600, 5000),
    )


def s4634(h: Host, t: int, u: User, lid: int, lt: int, sessions: tuple[Session, ...]) -> None:
    h.emit(
        t,
        c.S4634,
        (u.sid, u.name, u.domain, lid, lt),
        sessions=sessions,
        pid=h.lsass_pid,
        tid=h.rng.randrange(600, 5000),
    )


def s4672(
    h: Host, t: int, u: User, lid: int, privileges: str, sessions: tuple[Session, ...]
) -> None:
    h.emit(
        t,
        c.S4672,
        (u.sid, u.name, u.domain, lid, privileges),
        sessions=sessions,
        pid=h.lsass_pid,
        tid=h.rng.randrange(600, 5000),
    )


def s4648(
    h: Host,
    t: int,
    subject: User,
    subject_lid: int,
    target: User,
    server: str,
    info: str,
    pname: str,
    ip: str,
    port: str,
    *,
    guid: str = ZERO_GUID,
    sessions: tuple[Session, ...] = (),
    activity: tuple[Session | None, str | None] | None = None,
) -> None:
    h.emit(
        t,
        c.S4648,
        (
            subject.sid,
            subject.name,
            subject.domain,
            subject_lid,
            ZERO_GUID,
            target.name,
            target.domain,
            guid,
            server,
            info,
            h.svchost_pid,
            pname,
            ip,
            port,
        ),
        sessions=sessions,
        activity=activity,
        pid=h.lsass_pid,
        tid=h.rng.randrange(600, 5000),
    )


def s4688(
    h: Host,
    t: int,
    sess: Session | None,
    u: User,
    lid: int,
    image: str,
    cmd: str,
    parent: str,
    elevated: bool = False,
    **extra: Any,
) -> None:
    h.emit(
        t,
        c.S4688,
        (
            u.sid,
            u.name,
            u.domain,
            lid,
            h.rng.randrange(0x400, 0x4000, 4),
            image,
            "%%1937" if elevated else "%%1938",
            h.rng.randrange(0x400, 0x4000, 4),
            cmd,
            NULL_SID,
            "-",
            "-",
            0,
            parent,
            "S-1-16-12288" if elevated else "S-1-16-8192",
        ),
        activity=(sess, "logon_id" if sess else None),
        pid=4,
        tid=h.rng.randrange(100, 400),
        **extra,
    )


def lsm(h: Host, t: int, et, values: tuple, act: str, sessions: tuple[Session, ...]) -> None:
    h.emit(
        t,
        et,
        values,
        sessions=sessions,
        activity_id=act,
        user_sid="S-1-5-18",
        pid=h.lsm_pid,
        tid=h.rng.randrange(700, 1000),
    )


def winlogon(h: Host, t: int, et, lsm_id: int, u: User, sessions: tuple[Session, ...]) -> None:
    h.emit(
        t,
        et,
        (lsm_id, u.sid),
        sessions=sessions,
        user_sid="S-1-5-18",
        pid=h.rng.randrange(400, 6000),
        tid=h.rng.randrange(400, 6000),
    )
