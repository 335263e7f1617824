"""Host stories: boots, shutdowns, crashes, service noise and window-manager logons (the
system sessions and markers every real log is full of)."""

from __future__ import annotations

from logonscope.storage.evtx_writer import filetime_to_datetime

from . import catalog as c
from .events import MS, SYSTEM_USER, WINLOGON, YES, S, _ms, s4624, s4634, s4672
from .host import Host, Session, User
from .remote import network_logon


def boot(h: Host, t: int, *, after_crash_at: int | None = None) -> tuple[int, Session]:
    """Kernel-General 12 -> 4608 -> SYSTEM 4624 type 0 -> 6005 (-> 6008 after a crash)."""
    h.boot()
    for s in list(h.open_sessions):  # a crash leaves them open: the boot closes them
        h.close(s, t, "shutdown")
    h.emit(
        t,
        c.Y12,
        (10, 0, 19045, 3803, 0, 0, t - _ms(h, 100, 300)),
        user_sid="S-1-5-18",
        pid=4,
        tid=8,
    )
    t4608 = t + _ms(h, 6000, 9000)
    h.emit(t4608, c.S4608, (), pid=h.lsass_pid, tid=h.rng.randrange(500, 700))
    sys_sess = h.session(SYSTEM_USER, 0, t4608 + 10 * MS, src_ip=None, system=True, elevated=True)
    s4624(
        h,
        t4608 + 10 * MS,
        SYSTEM_USER,
        0,
        0x3E7,
        anonymous=True,
        lp="-",
        auth="-",
        pid=4,
        pname="",
        sessions=(sys_sess,),
        elevated=True,
    )
    h.leave_open(sys_sess)
    t6005 = t4608 + _ms(h, 2000, 4000)
    h.emit(t6005, c.Y6005, ())
    if after_crash_at is not None:
        when = filetime_to_datetime(after_crash_at)
        h.emit(
            t6005 + 1,
            c.Y6008,
            (when.strftime("%I:%M:%S %p"), f"{when.month}/{when.day}/{when.year}", "", "", "6"),
        )
    return t6005 + S, sys_sess


def shutdown(h: Host, t: int, by: User) -> int:
    """1074 -> 1100 -> 6006 -> Kernel-General 13: closes every session still open (at 1074)."""
    opened = tuple(h.open_sessions)
    h.emit(
        t,
        c.Y1074,
        (
            f"C:\\Windows\\System32\\RuntimeBroker.exe ({h.short})",
            h.short,
            "Other (Unplanned)",
            "0x0",
            "restart",
            "",
            by.qualified,
        ),
        sessions=opened,
        user_sid=by.sid,
        pid=h.rng.randrange(300, 400),
        tid=h.rng.randrange(2000, 3000),
    )
    for s in opened:
        h.close(s, t, "shutdown")
    t += _ms(h, 3000, 4000)
    h.emit(t, c.S1100, (), pid=h.rng.randrange(280, 300), tid=h.rng.randrange(1000, 1200))
    h.emit(t + _ms(h, 10, 20), c.Y6006, ())
    t13 = t + _ms(h, 4000, 6000)
    h.emit(t13, c.Y13, (t13,), pid=4, tid=h.rng.randrange(3000, 4000))
    return t13


def crash_boot(h: Host, t_crash: int, t_boot: int) -> tuple[int, Session]:
    """No shutdown markers at all; the next boot writes 6008 and closes what was open."""
    return boot(h, t_boot, after_crash_at=t_crash)


def service_noise(h: Host, t: int, dc_ip: str, dc: User, n: int) -> int:
    """Machine-account network logons (with their 4634), service logons, 7036 chatter."""
    for _ in range(n):
        r = h.rng.random()
        if r < 0.5:
            sess, lid = network_logon(h, t, dc, dc_ip, system=True)
            t_off = t + _ms(h, 20, 3000)
            s4634(h, t_off, dc, lid, 3, (sess,))
            h.close(sess, t_off, "logoff")
        elif r < 0.8:
            name, param = h.rng.choice(
                (
                    ("Windows Update", "running"),
                    ("BITS", "stopped"),
                    ("Windows Defender Antivirus Service", "running"),
                    ("Software Protection", "stopped"),
                )
            )
            h.emit(
                t,
                c.Y7036,
                (name, param),
                pid=h.rng.randrange(550, 600),
                tid=h.rng.randrange(200, 900),
            )
        else:
            # A service (type 5) logon is never logged off: it stays open until shutdown.
            who = h.rng.choice(
                (
                    SYSTEM_USER,
                    User("NETWORK SERVICE", "NT AUTHORITY", "S-1-5-20"),
                    User("LOCAL SERVICE", "NT AUTHORITY", "S-1-5-19"),
                )
            )
            lid = {"SYSTEM": 0x3E7, "NETWORK SERVICE": 0x3E4, "LOCAL SERVICE": 0x3E5}[who.name]
            sess = h.session(who, 5, t, src_ip=None, system=True, admin=True, elevated=True)
            s4624(
                h,
                t,
                who,
                5,
                lid,
                lp="Advapi  ",
                auth="Negotiate",
                workstation="",
                pid=0x230,
                pname="C:\\Windows\\System32\\services.exe",
                elevated=True,
                sessions=(sess,),
            )
            s4672(h, t + 1, who, lid, c.SYSTEM_PRIVILEGES, (sess,))
            h.leave_open(sess)
        t += _ms(h, 500, 20000)
    return t


def window_manager_logons(h: Host, t: int, lsm_id: int) -> int:
    """DWM-n and UMFD-n (type 2, virtual accounts) for a new desktop session, logged off later."""
    for name, dom, sid in (
        (f"UMFD-{lsm_id}", "Font Driver Host", f"S-1-5-96-0-{lsm_id}"),
        (f"DWM-{lsm_id}", "Window Manager", f"S-1-5-90-0-{lsm_id}"),
    ):
        u = User(name, dom, sid)
        sess = h.session(u, 2, t, src_ip=None, system=True)
        lid = h.logon_id()
        s4624(
            h,
            t,
            u,
            2,
            lid,
            lp="Advapi  ",
            auth="Negotiate",
            workstation="",
            pid=0x204,
            pname=WINLOGON,
            virtual=YES,
            sessions=(sess,),
        )
        t_off = t + S * h.rng.randrange(30, 600)
        s4634(h, t_off, u, lid, 2, (sess,))
        h.close(sess, t_off, "logoff")
        t += _ms(h, 1, 20)
    return t
