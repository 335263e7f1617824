"""Scenarios of the links a session builder easily misses: a cached logon that only unlocks a
desktop, a reconnect without 4778, an RDP logon without LSM 21, a connection that waits at the
credential prompt, and logoffs written minutes after the session ended. Each is one story on
one host with its truth; generate.py runs them by name. Must not write files itself.
"""

from __future__ import annotations

from . import catalog as c
from . import stories as st
from .host import TICKS_PER_SECOND, Host, Session, User

S = TICKS_PER_SECOND


def cached_unlock(h: Host, t: int, lg: st.Logon) -> int:
    """4648 -> 4624 type 11 (127.0.0.1) -> 4648 -> 4624 type 7 -> 4634 (type 7) -> 4634 of the
    type-11 id 0.1-0.4 s later: Windows re-checks cached credentials to unlock the desktop; no
    LSM 41/21 or Winlogon 7001 follow. Every event belongs to the desktop session."""
    u, one = lg.user, (lg.session,)
    kw = {"workstation": h.short, "pid": h.svchost_pid, "pname": st.SVCHOST}
    st.s4648(
        h,
        t,
        h.machine,
        0x3E7,
        u,
        "localhost",
        "localhost",
        st.SVCHOST,
        "127.0.0.1",
        "0",
        sessions=one,
    )
    cached = h.logon_id()
    st.s4624(h, t + 1, u, 11, cached, ip="127.0.0.1", port="0", sessions=one, **kw)
    t7 = t + st._ms(h, 100, 200)
    st.s4648(
        h, t7, h.machine, 0x3E7, u, "localhost", "localhost", st.SVCHOST, "-", "-", sessions=one
    )
    unlock = h.logon_id()
    st.s4624(h, t7 + 1, u, 7, unlock, lp="Negotiat", sessions=one, **kw)
    st.s4634(h, t7 + st._ms(h, 1, 3), u, unlock, 7, one)
    t_off = t7 + st._ms(h, 10, 200)
    st.s4634(h, t_off, u, cached, 2, one)  # Windows writes type 2 on this 4634
    return t_off + S


def late_logoff(h: Host, t: int, lg: st.Logon) -> int:
    """4647 -> LSM 23 -> Winlogon 7002, and the 4634s of the session's own ids 2-3 minutes
    later (seen on domain controllers): the session ended at the 4647."""
    u, one = lg.user, (lg.session,)
    h.emit(
        t,
        c.S4647,
        (u.sid, u.name, u.domain, lg.limited),
        sessions=one,
        activity_id=h.guid(),
        pid=h.lsass_pid,
        tid=h.rng.randrange(600, 5000),
    )
    t2 = t + st._ms(h, 20, 80)
    st.lsm(h, t2, c.L23, (u.qualified, lg.lsm_id), lg.activity, one)
    st.winlogon(h, t2 + st._ms(h, 100, 200), c.Y7002, lg.lsm_id, u, one)
    t4 = t + S * h.rng.randrange(120, 180)
    for lid in lg.lids:
        st.s4634(h, t4, u, lid, 2, one)
        t4 += 1
    h.close(lg.session, t, "logoff")
    return t4 + S


def sc_cached_unlock(h: Host, t: int, u: User) -> int:
    lg, t = st.console_logon(h, t, u)
    t = st.work(h, t + S, lg, 2)
    t = cached_unlock(h, t + 600 * S, lg)
    t = st.work(h, t + S, lg, 1)
    return st.interactive_logoff(h, t + 30 * S, lg, rdp=False)


def sc_reconnect_no_4778(h: Host, t: int, u: User, ip1: str, ip2: str) -> int:
    """A disconnect and a reconnect with the Other Logon/Logoff audit off: no 4779, no 4778."""
    lg, t = st.rdp_logon(h, t, u, ip1)
    t = st.work(h, t + 2 * S, lg, 2)
    t = st.rdp_disconnect(h, t + 60 * S, lg, audit_4779=False)
    lg2, t = st.rdp_logon(h, t + 600 * S, u, ip2, reconnect_of=lg, audit_4778=False)
    t = st.work(h, t + 2 * S, lg2, 2)
    return st.interactive_logoff(h, t + 120 * S, lg2, rdp=True)


def sc_rdp_no_lsm21(h: Host, t: int, u: User, ip: str) -> int:
    lg, t = st.rdp_logon(h, t, u, ip, lsm21=False)
    t = st.work(h, t + 2 * S, lg, 2)
    return st.interactive_logoff(h, t + 60 * S, lg, rdp=True)


def sc_rdp_slow_logon(h: Host, t: int, u: User, ip: str) -> int:
    """The connection (RCM 261) opens 30-45 s before the user's credentials are checked."""
    lg, t = st.rdp_logon(h, t, u, ip, wait_ms=(30_000, 45_000))
    t = st.work(h, t + 2 * S, lg, 2)
    return st.interactive_logoff(h, t + 60 * S, lg, rdp=True)


def sc_late_logoff(h: Host, t: int, u: User) -> int:
    lg, t = st.console_logon(h, t, u)
    t = st.work(h, t + S, lg, 2)
    return late_logoff(h, t + 30 * S, lg)


def system_service(h: Host, t: int, sess: Session | None) -> None:
    """7045 installed by SYSTEM (UserID S-1-5-18, no logon id, no user): a named-pipe trick
    (`cmd.exe /c echo x > \\\\.\\pipe\\x`, as getsystem does). Only host and time tie it to
    a session: `host+time` when one interactive/RDP session is open, else none."""
    name = "".join(h.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
    h.emit(
        t,
        c.Y7045,
        (
            name,
            f"cmd.exe /c echo {name} > \\\\.\\pipe\\{name}",
            "user mode service",
            "demand start",
            "LocalSystem",
        ),
        user_sid="S-1-5-18",
        pid=h.lsm_pid,
        activity=(sess, "host+time" if sess else None),
        tid=h.rng.randrange(600, 5000),
    )


def sc_system_service(h: Host, t: int, u: User, ip: str) -> int:
    """A SYSTEM service install before anyone logs on (no session), then two during an RDP
    session, the only one open on the host."""
    system_service(h, t, None)
    lg, t = st.rdp_logon(h, t + 60 * S, u, ip)
    t = st.work(h, t + 2 * S, lg, 1)
    for _ in range(2):
        t += st._ms(h, 5000, 20000)
        system_service(h, t, lg.session)
    return st.interactive_logoff(h, t + 30 * S, lg, rdp=True)
