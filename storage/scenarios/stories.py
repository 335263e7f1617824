"""Stories: the event sequences Windows writes for each kind of logon, with their truth.

Each function queues the events of one episode on a `Host` (times in FILETIME ticks), opens
and closes the truth sessions those events make (DESIGN 2), and returns what later episodes
need (the connection, the session). Sequences, field values and their odd shapes (padded
LogonProcessName, IpAddress "-", LSM EventXML, ActivityIDs) follow the real samples in
../shared/evidence. Must not write files or choose which stories run (generate.py does).
"""

from __future__ import annotations

from dataclasses import dataclass

from logonscope.storage.evtx_writer import filetime_to_datetime
from logonscope.storage.vocabulary import CONSOLE_ACTIVITY

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


# --- Security building blocks ------------------------------------------------------------------


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


# --- interactive logons ------------------------------------------------------------------------


@dataclass
class Logon:
    """What later episodes need to know about an interactive logon."""

    user: User
    session: Session
    lids: tuple[int, ...]  # (full, limited) for a UAC pair, else (one,)
    lsm_id: int
    activity: str
    ip: str | None = None
    nla_lid: int | None = None

    @property
    def limited(self) -> int:
        return self.lids[-1]


def _token_pair(h: Host, t: int, u: User, lt: int, sess: Session, **kw) -> tuple[int, ...]:
    """One 4624 for a standard user; the UAC split-token pair + 4672 for an administrator."""
    guid = h.guid()
    if not u.admin:
        lid = h.logon_id()
        s4624(h, t, u, lt, lid, guid=guid, sessions=(sess,), **kw)
        return (lid,)
    full, limited = h.logon_id(), h.logon_id()
    s4624(h, t, u, lt, full, linked=limited, elevated=True, guid=guid, sessions=(sess,), **kw)
    s4624(h, t + 2, u, lt, limited, linked=full, elevated=False, sessions=(sess,), **kw)
    s4672(h, t + 4, u, full, c.ADMIN_PRIVILEGES, (sess,))
    return (full, limited)


def rdp_logon(
    h: Host,
    t: int,
    u: User,
    ip: str,
    *,
    reconnect_of: Logon | None = None,
    wait_ms: tuple[int, int] = (1500, 3000),
    audit_4778: bool = True,
    lsm21: bool = True,
) -> tuple[Logon, int]:
    """261 -> NLA 4624 type 3 -> 1149 -> 131 -> 4648 -> 4624 type 10 (pair) -> 4672 -> LSM.

    A reconnect (`reconnect_of`) adds 4778 on the original limited id (unless that audit is
    off) and LSM 25 on the original LSM session, and logs the temporary type-10 ids off within
    ~3 s. `wait_ms`: from the connection (261) to the NLA logon. Without `lsm21` (seen on
    domain controllers) LSM writes 41/42 for the new session but no 21/22. Returns (logon,
    end time).
    """
    act = h.activity_id()
    port = str(h.rng.randrange(49152, 65535))
    nla = h.logon_id()
    t_nla = t + _ms(h, *wait_ms)
    sess = h.session(
        u,
        10,
        t_nla,
        src_ip=ip,
        is_reconnect=reconnect_of is not None,
        admin=u.admin,
        elevated=u.admin,
    )
    one = (sess,)
    rcm = {"activity_id": act, "user_sid": "S-1-5-20", "pid": h.rcm_pid}
    h.emit(t, c.R261, ("RDP-Tcp",), sessions=one, tid=h.rng.randrange(900, 5000), **rcm)
    s4624(
        h,
        t_nla,
        u,
        3,
        nla,
        anonymous=True,
        lp="NtLmSsp ",
        auth="NTLM",
        workstation="",
        lm="NTLM V2",
        keylen=128,
        ip=ip,
        port="0",
        elevated=u.admin,
        sessions=one,
    )
    t1149 = t_nla + _ms(h, 30, 60)
    h.emit(
        t1149, c.R1149, (u.name, u.domain, ip), sessions=one, tid=h.rng.randrange(900, 5000), **rcm
    )
    h.emit(
        t1149 + _ms(h, 5, 40),
        c.C131,
        ("TCP", f"{ip}:{port}"),
        sessions=one,
        activity_id=act,
        user_sid="S-1-5-20",
        pid=h.rcm_pid,
        tid=h.rng.randrange(900, 5000),
    )
    t_auth = t1149 + _ms(h, 500, 2800)
    guid = h.guid()
    s4648(
        h,
        t_auth,
        h.machine,
        0x3E7,
        u,
        "localhost",
        "localhost",
        SVCHOST,
        ip,
        "0",
        guid=guid,
        sessions=one,
    )
    kw = {
        "workstation": h.short,
        "ip": ip,
        "port": "0",
        "pid": h.svchost_pid,
        "pname": SVCHOST,
        "restricted": NO,
    }
    lids = _token_pair(h, t_auth + 1, u, 10, sess, **kw)
    if reconnect_of is None:
        lsm_id = h.lsm_session()
        lsm(h, t_auth + _ms(h, 10, 40), c.L41, (u.qualified, lsm_id), act, one)
        t21 = t_auth + _ms(h, 600, 1500)
        if lsm21:
            lsm(h, t21, c.L21, (u.qualified, lsm_id, ip), act, one)
        else:
            lsm(h, t_auth + _ms(h, 50, 90), c.L42, (u.qualified, lsm_id), act, one)
        winlogon(h, t21 + _ms(h, 1, 5), c.Y7001, lsm_id, u, one)
        t_end = t21 + _ms(h, 900, 2000)
        if lsm21:
            lsm(h, t_end, c.L22, (u.qualified, lsm_id, ip), act, one)
        logon = Logon(u, sess, lids, lsm_id, act, ip, nla)
    else:
        old = reconnect_of
        lsm_id = old.lsm_id
        t_rc = t_auth + _ms(h, 300, 900)
        tcp = _rdp_tcp(h)
        tid = h.rng.randrange(600, 5000)
        if audit_4778:
            h.emit(
                t_rc,
                c.S4778,
                (u.name, u.domain, old.limited, f"RDP-Tcp#{tcp}", "CLIENT-" + h.short[-2:], ip),
                sessions=one,
                pid=h.lsass_pid,
                tid=tid,
            )
        lsm(h, t_rc + _ms(h, 20, 200), c.L25, (u.qualified, lsm_id, ip), act, one)
        t_end = t_rc + _ms(h, 300, 800)
        lsm(h, t_end, c.L42, (u.qualified, lsm_id), act, one)
        # The temporary type-10 logons go away at once; the session carries on under the
        # original ids. They are events of this attempt, never its end.
        t_off = t_auth + _ms(h, 2500, 3200)
        for lid in reversed(lids):
            s4634(h, t_off, u, lid, 10, one)
            t_off += 1
        logon = Logon(u, sess, old.lids, lsm_id, act, ip, nla)
    return logon, t_end


def _rdp_tcp(h: Host) -> int:
    h.rdp_tcp += 1
    return h.rdp_tcp - 1


def rdp_disconnect(h: Host, t: int, lg: Logon, *, audit_4779: bool = True) -> int:
    """LSM 40 -> 4779 on the original limited id -> LSM 24, then the NLA logon's 4634."""
    one = (lg.session,)
    lsm(h, t, c.L40, (lg.lsm_id, 11), lg.activity, one)
    t4779 = t + _ms(h, 50, 150)
    tid = h.rng.randrange(600, 5000)
    if audit_4779:  # 4778/4779 are one audit subcategory, often left off
        h.emit(
            t4779,
            c.S4779,
            (
                lg.user.name,
                lg.user.domain,
                lg.limited,
                f"RDP-Tcp#{max(h.rdp_tcp - 1, 0)}",
                "CLIENT-" + h.short[-2:],
                lg.ip,
            ),
            sessions=one,
            pid=h.lsass_pid,
            tid=tid,
        )
    lsm(h, t + _ms(h, 300, 600), c.L24, (lg.user.qualified, lg.lsm_id, lg.ip), lg.activity, one)
    if lg.nla_lid is not None:
        s4634(h, t + _ms(h, 700, 900), lg.user, lg.nla_lid, 3, one)
    h.close(lg.session, t, "disconnect")
    return t + S


def interactive_logoff(h: Host, t: int, lg: Logon, *, rdp: bool) -> int:
    """4647 -> LSM 23 -> Winlogon 7002 -> (RDP: LSM 40, 24) -> 4634s (NLA and own ids)."""
    one = (lg.session,)
    u = lg.user
    h.emit(
        t,
        c.S4647,
        (u.sid, u.name, u.domain, lg.limited),
        sessions=one,
        activity_id=h.guid(),
        pid=h.lsass_pid,
        tid=h.rng.randrange(600, 5000),
    )
    t2 = t + _ms(h, 20, 80)
    lsm(h, t2, c.L23, (u.qualified, lg.lsm_id), lg.activity, one)
    winlogon(h, t2 + _ms(h, 100, 200), c.Y7002, lg.lsm_id, u, one)
    t3 = t2 + _ms(h, 300, 450)
    if rdp:
        lsm(h, t3, c.L40, (lg.lsm_id, 12), lg.activity, one)
        lsm(h, t3 + _ms(h, 100, 200), c.L24, (u.qualified, lg.lsm_id, lg.ip), lg.activity, one)
        if lg.nla_lid is not None:
            s4634(h, t3 + _ms(h, 300, 500), u, lg.nla_lid, 3, one)
    t4 = t3 + _ms(h, 500, 700)
    for lid in lg.lids:
        s4634(h, t4, u, lid, 10 if rdp else 2, one)
        t4 += 1
    h.close(lg.session, t, "logoff")
    return t4 + S


def console_logon(h: Host, t: int, u: User) -> tuple[Logon, int]:
    """4648 (from winlogon, 127.0.0.1) -> 4624 type 2 (pair for admins) -> 4672 -> LSM 41/21/22."""
    sess = h.session(u, 2, t + 1, src_ip="127.0.0.1", admin=u.admin, elevated=u.admin)
    one = (sess,)
    s4648(
        h, t, h.machine, 0x3E7, u, "localhost", "localhost", SVCHOST, "127.0.0.1", "0", sessions=one
    )
    lids = _token_pair(
        h,
        t + 1,
        u,
        2,
        sess,
        workstation=h.short,
        ip="127.0.0.1",
        port="0",
        pid=h.svchost_pid,
        pname=SVCHOST,
    )
    lsm_id = h.lsm_session()
    act = CONSOLE_ACTIVITY  # LSM writes this one ActivityID on every console event
    lsm(h, t + _ms(h, 200, 400), c.L41, (u.qualified, lsm_id), act, one)
    t21 = t + _ms(h, 900, 1200)
    lsm(h, t21, c.L21, (u.qualified, lsm_id, "LOCAL"), act, one)
    winlogon(h, t21 + _ms(h, 1, 5), c.Y7001, lsm_id, u, one)
    t_end = t21 + _ms(h, 1000, 1500)
    lsm(h, t_end, c.L22, (u.qualified, lsm_id, "LOCAL"), act, one)
    return Logon(u, sess, lids, lsm_id, act, "127.0.0.1"), t_end


def lock_unlock(h: Host, t: int, lg: Logon, *, failed_first: bool = True) -> int:
    """4800 -> (a failed unlock: its own failure session) -> unlock 4624 type 7 -> 4801 -> 4634."""
    u = lg.user
    one = (lg.session,)
    sec = {"pid": h.lsass_pid, "tid": h.rng.randrange(600, 5000)}
    h.emit(t, c.S4800, (u.sid, u.name, u.domain, lg.limited, lg.lsm_id), sessions=one, **sec)
    t += S * h.rng.randrange(60, 1800)
    if failed_first:
        fail = h.session(u, 7, t, src_ip="127.0.0.1", outcome="failure")
        h.emit(
            t,
            c.S4625,
            (
                h.machine.sid,
                h.machine.name,
                h.domain,
                0x3E7,
                NULL_SID,
                u.name,
                u.domain,
                0xC000006D,
                "%%2313",
                0xC000006A,
                7,
                "User32 ",
                "Negotiate",
                h.short,
                "-",
                "-",
                0,
                h.svchost_pid,
                SVCHOST,
                "127.0.0.1",
                "0",
            ),
            sessions=(fail,),
            **sec,
        )
        h.close(fail, t, "none seen")
        t += _ms(h, 3000, 9000)
    unlock = _token_pair(
        h,
        t,
        u,
        7,
        lg.session,
        workstation=h.short,
        ip="127.0.0.1",
        port="0",
        pid=h.svchost_pid,
        pname=SVCHOST,
    )
    h.emit(
        t + _ms(h, 100, 300),
        c.S4801,
        (u.sid, u.name, u.domain, lg.limited, lg.lsm_id),
        sessions=one,
        **sec,
    )
    t_off = t + _ms(h, 1000, 3000)
    for lid in unlock:
        s4634(h, t_off, u, lid, 7, one)
        t_off += 1
    return t_off + S


def work(h: Host, t: int, lg: Logon, n: int, *, elevated: bool = False) -> int:
    """Process creations under the session's limited (or full) logon id."""
    cmds = (
        ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"),
        ("C:\\Windows\\System32\\cmd.exe", '"C:\\Windows\\system32\\cmd.exe"'),
        ("C:\\Windows\\System32\\whoami.exe", "whoami /all"),
        ("C:\\Windows\\System32\\net.exe", "net user /domain"),
        ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "OUTLOOK.EXE"),
        ("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "powershell.exe -nop"),
    )
    lid = lg.lids[0] if elevated else lg.limited
    for _ in range(n):
        image, cmd = h.rng.choice(cmds)
        s4688(h, t, lg.session, lg.user, lid, image, cmd, "C:\\Windows\\explorer.exe", elevated)
        t += _ms(h, 2000, 90000)
    return t


# --- attacks and movement ----------------------------------------------------------------------


def nla_bruteforce(h: Host, t: int, ip: str, names: list[str], n: int) -> int:
    """Per attempt: RCM 261 + RdpCoreTS 131 (ip:port) + 4625 type 3 with IpAddress '-'."""
    for _ in range(n):
        name = h.rng.choice(names)
        act = h.activity_id()
        u = User(name, "", NULL_SID)
        t_fail = t + _ms(h, 50, 300)
        sess = h.session(u, 3, t_fail, src_ip=ip, outcome="failure")
        one = (sess,)
        h.emit(
            t,
            c.R261,
            ("RDP-Tcp",),
            sessions=one,
            activity_id=act,
            user_sid="S-1-5-20",
            pid=h.rcm_pid,
            tid=h.rng.randrange(900, 5000),
        )
        h.emit(
            t + 1,
            c.C131,
            ("TCP", f"{ip}:{h.rng.randrange(1025, 65535)}"),
            sessions=one,
            activity_id=act,
            user_sid="S-1-5-20",
            pid=h.rcm_pid,
            tid=h.rng.randrange(900, 5000),
        )
        sub = 0xC000006A if name.lower() in ("administrator", "admin") else 0xC0000064
        h.emit(
            t_fail,
            c.S4625,
            (
                NULL_SID,
                "-",
                "-",
                0,
                NULL_SID,
                name,
                "",
                0xC000006D,
                "%%2313",
                sub,
                3,
                "NtLmSsp ",
                "NTLM",
                "-",
                "-",
                "-",
                0,
                0,
                "-",
                "-",
                "-",
            ),
            sessions=one,
            pid=h.lsass_pid,
            tid=h.rng.randrange(600, 5000),
        )
        h.close(sess, t_fail, "none seen")
        t = t_fail + _ms(h, 400, 2500)
    return t


def network_logon(
    h: Host, t: int, u: User, ip: str, *, kerberos: bool = True, system: bool = False
) -> tuple[Session, int]:
    """4624 type 3 (+4672 for admins): the caller logs it off (4634) when done."""
    sess = h.session(
        u, 3, t, src_ip=None if ip == "-" else ip, system=system, admin=u.admin, elevated=u.admin
    )
    lid = h.logon_id()
    s4624(
        h,
        t,
        u,
        3,
        lid,
        anonymous=True,
        lp="Kerberos" if kerberos else "NtLmSsp ",
        auth="Kerberos" if kerberos else "NTLM",
        ip=ip,
        port=str(h.rng.randrange(49152, 65535)),
        guid=h.guid() if kerberos else ZERO_GUID,
        elevated=u.admin,
        sessions=(sess,),
    )
    if u.admin:
        s4672(h, t + 1, u, lid, c.ADMIN_PRIVILEGES, (sess,))
    return sess, lid


def lateral(src: Host, src_logon: Logon, dst: Host, dst_ip: str, src_ip: str, t: int) -> int:
    """4648 on the source; on the target a Kerberos type 3 logon, share access, a service
    install (4697 + 7045), process creations under its logon id, then 4634."""
    u = src_logon.user
    s4648(
        src,
        t,
        u,
        src_logon.limited,
        u,
        f"{dst.short}.{dst.computer.split('.', 1)[-1]}",
        f"cifs/{dst.computer}",
        "C:\\Windows\\System32\\net.exe",
        dst_ip,
        "445",
        activity=(src_logon.session, "logon_id"),
    )
    t += _ms(dst, 20, 200)
    sess, lid = network_logon(dst, t, u, src_ip)
    act = (sess, "logon_id")
    sub = (u.sid, u.name, u.domain, lid)
    port = str(dst.rng.randrange(49152, 65535))
    for share, path in (("\\\\*\\IPC$", ""), ("\\\\*\\ADMIN$", "C:\\Windows")):
        t += _ms(dst, 10, 200)
        dst.emit(
            t,
            c.S5140,
            (*sub, "File", src_ip, port, share, path, 0x1, "%%4416\r\n\t\t\t\t"),
            activity=act,
            pid=4,
            tid=dst.rng.randrange(100, 4000),
        )
    t += _ms(dst, 10, 200)
    dst.emit(
        t,
        c.S5145,
        (
            *sub,
            "File",
            src_ip,
            port,
            "\\\\*\\ADMIN$",
            "C:\\Windows",
            "PSEXESVC.exe",
            0x2,
            "%%4417\r\n\t\t\t\t",
            "-",
        ),
        activity=act,
        pid=4,
        tid=dst.rng.randrange(100, 4000),
    )
    t += _ms(dst, 200, 900)
    dst.emit(
        t,
        c.S4697,
        (*sub, "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe", 0x10, 3, "LocalSystem"),
        activity=act,
        pid=dst.lsass_pid,
        tid=dst.rng.randrange(600, 5000),
    )
    dst.emit(
        t + 1,
        c.Y7045,
        (
            "PSEXESVC",
            "%SystemRoot%\\PSEXESVC.exe",
            "user mode service",
            "demand start",
            "LocalSystem",
        ),
        user_sid=u.sid,
        pid=dst.lsm_pid,
        activity=(sess, "user+time"),  # no logon id: only the installer's SID and the time
        tid=dst.rng.randrange(600, 5000),
    )
    for image, cmd in (
        ("C:\\Windows\\PSEXESVC.exe", "C:\\Windows\\PSEXESVC.exe"),
        ("C:\\Windows\\System32\\cmd.exe", "cmd.exe /c ipconfig /all"),
        ("C:\\Windows\\System32\\reg.exe", "reg save HKLM\\SAM C:\\Windows\\Temp\\s"),
    ):
        t += _ms(dst, 300, 4000)
        s4688(dst, t, sess, u, lid, image, cmd, "C:\\Windows\\System32\\services.exe", True)
    t += _ms(dst, 1000, 5000)
    s4634(dst, t, u, lid, 3, (sess,))
    dst.close(sess, t, "logoff")
    return t


# --- boots and noise ---------------------------------------------------------------------------


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
