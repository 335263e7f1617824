"""Remote stories: an RDP logon (NLA, RCM, LSM, RdpCoreTS, the UAC pair), its disconnect, a
network logon and an NLA brute force, with the truth sessions they make."""

from __future__ import annotations

from dataclasses import dataclass

from . import catalog as c
from .events import (
    NO,
    NULL_SID,
    SVCHOST,
    ZERO_GUID,
    S,
    _ms,
    lsm,
    s4624,
    s4634,
    s4648,
    s4672,
    winlogon,
)
from .host import Host, Session, User


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
    tz: int | None = None,
) -> tuple[Logon, int]:
    """261 -> NLA 4624 type 3 -> 1149 -> 131 -> 4648 -> 4624 type 10 (pair) -> 4672 -> LSM.

    A reconnect (`reconnect_of`) adds 4778 on the original limited id (unless that audit is
    off) and LSM 25 on the original LSM session, and logs the temporary type-10 ids off within
    ~3 s. `wait_ms`: from the connection (261) to the NLA logon. Without `lsm21` (seen on
    domain controllers) LSM writes 41/42 for the new session but no 21/22. With `tz` (hours
    from UTC) the client tells its time zone (RdpCoreTS 104). Returns (logon, end time).
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
    if tz is not None:
        h.emit(
            t1149 + _ms(h, 45, 60),
            c.C104,
            (f"[{tz}]",),
            sessions=one,
            activity_id=act,
            user_sid="S-1-5-20",
            pid=h.rcm_pid,
            tid=h.rng.randrange(900, 5000),
        )
        sess.fields["client_tz"] = f"UTC{tz:+d}"
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


def nla_bruteforce(
    h: Host,
    t: int,
    ip: str,
    names: list[str],
    n: int,
    *,
    with_140: bool = False,
    audited: bool = True,
) -> int:
    """Per attempt: RCM 261 + RdpCoreTS 131 (ip:port) + 4625 type 3 with IpAddress '-'.

    `with_140`: RdpCoreTS also writes 140 (the failure, with the client address) just after the
    4625: one failure, both its sources. Not `audited` (logon failures not audited): no 4625,
    the 140 alone tells the attempt (an RDP attempt without a user name)."""
    for _ in range(n):
        name = h.rng.choice(names)
        act = h.activity_id()
        u = User(name if audited else "", "", NULL_SID)
        t_fail = t + _ms(h, 50, 300)
        sess = h.session(u, 3 if audited else 10, t_fail, src_ip=ip, outcome="failure")
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
        if with_140:
            h.emit(
                t_fail + (_ms(h, 2, 30) if audited else 0),
                c.C140,
                (ip,),
                sessions=one,
                activity_id=act,
                user_sid="S-1-5-20",
                pid=h.rcm_pid,
                tid=h.rng.randrange(900, 5000),
            )
        if not audited:
            h.close(sess, t_fail, "none seen")
            t = t_fail + _ms(h, 400, 2500)
            continue
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
