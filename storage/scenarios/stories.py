"""Stories: the event sequences Windows writes for each kind of logon, with their truth.

Each function queues the events of one episode on a `Host` (times in FILETIME ticks), opens
and closes the truth sessions those events make (DESIGN 2), and returns what later episodes
need (the connection, the session). Sequences, field values and their odd shapes (padded
LogonProcessName, IpAddress "-", LSM EventXML, ActivityIDs) follow the real samples in
../shared/evidence. Must not write files or choose which stories run (generate.py does).
"""

from __future__ import annotations

from logonscope.storage.vocabulary import CONSOLE_ACTIVITY

from . import catalog as c
from .events import MS as MS
from .events import NO as NO
from .events import NULL_SID as NULL_SID
from .events import SVCHOST as SVCHOST
from .events import SYSTEM_USER as SYSTEM_USER
from .events import WINLOGON as WINLOGON
from .events import YES as YES
from .events import ZERO_GUID as ZERO_GUID
from .events import S as S
from .events import _ms
from .events import lsm as lsm
from .events import s4624 as s4624
from .events import s4634 as s4634
from .events import s4648 as s4648
from .events import s4672 as s4672
from .events import s4688 as s4688
from .events import winlogon as winlogon
from .host import Host, User
from .remote import Logon as Logon
from .remote import _token_pair
from .remote import network_logon as network_logon
from .remote import nla_bruteforce as nla_bruteforce
from .remote import rdp_disconnect as rdp_disconnect
from .remote import rdp_logon as rdp_logon
from .system import boot as boot
from .system import crash_boot as crash_boot
from .system import service_noise as service_noise
from .system import shutdown as shutdown
from .system import window_manager_logons as window_manager_logons

# The single events (and the values they share), the remote and the host stories live in
# their own modules; their names are re-exported here so generators keep calling `stories.X`.


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
