"""Scenarios of a host's identity and of tampering with its logs: a host renamed (its logs
write the old name, then the new one: one machine), and an intruder who deletes records and
clears the Security and System logs during an RDP session. Each is one story on one host with
its truth; generate.py runs them by name. Must not write files itself.
"""

from __future__ import annotations

from . import catalog as c
from . import stories as st
from .host import TICKS_PER_SECOND, Host, User

S = TICKS_PER_SECOND
NEW_NAME = "WKS-7"
DELETED = 6  # records an intruder's tool cut out of the Security log


def sc_host_rename(h: Host, t: int, alice: User, bob: User) -> int:
    """alice works on the host under its first name; it is renamed (takes effect at the reboot
    that follows), then bob works on it under the new name."""
    lg, t = st.console_logon(h, t, alice)
    t = st.work(h, t + S, lg, 2)
    t = st.interactive_logoff(h, t + 30 * S, lg, rdp=False)
    t = st.shutdown(h, max(t, h.horizon) + 60 * S, alice)
    h.rename(t + 10 * S, NEW_NAME)
    t, _ = st.boot(h, t + 20 * S)
    lg2, t = st.console_logon(h, t + 60 * S, bob)
    t = st.work(h, t + S, lg2, 2)
    return st.interactive_logoff(h, t + 30 * S, lg2, rdp=False)


def sc_log_cleared(h: Host, t: int, alice: User, dave: User, ip: str) -> int:
    """alice logs on and off (before any tampering); then dave, over RDP, has records cut out
    of the Security log and clears Security and System: his session overlaps every sign."""
    lg, t = st.console_logon(h, t, alice)
    t = st.work(h, t + S, lg, 1)
    t = st.interactive_logoff(h, t + 30 * S, lg, rdp=False)
    rdp, t = st.rdp_logon(h, t + 120 * S, dave, ip)
    rdp.session.fields["tampered"] = True
    t = st.work(h, t + 2 * S, rdp, 1)
    st.s4688(
        h,
        t + 5 * S,
        rdp.session,
        dave,
        rdp.limited,
        "C:\\Windows\\System32\\wevtutil.exe",
        "wevtutil cl Security",
        "C:\\Windows\\System32\\cmd.exe",
    )
    # the first record after the cut: the records before it are gone from the log
    st.s4688(
        h,
        t + 6 * S,
        rdp.session,
        dave,
        rdp.limited,
        "C:\\Windows\\System32\\wevtutil.exe",
        "wevtutil cl System",
        "C:\\Windows\\System32\\cmd.exe",
        skip_records=DELETED,
    )
    who = f"{dave.domain}\\{dave.name}"
    h.emit(
        t + 7 * S,
        c.S1102,
        (dave.sid, dave.name, dave.domain, rdp.limited),
        tamper={"channel": "Security", "user": who},
        activity=(rdp.session, "logon_id"),
        pid=h.rng.randrange(800, 1200),
        tid=h.rng.randrange(100, 900),
    )
    h.emit(
        t + 8 * S,
        c.Y104,
        (dave.name, dave.domain, "System", ""),
        tamper={"channel": "System", "user": who},
        activity=(rdp.session, "user+time"),
        user_sid=dave.sid,
        pid=h.rng.randrange(800, 1200),
        tid=h.rng.randrange(100, 900),
    )
    return st.interactive_logoff(h, t + 60 * S, rdp, rdp=True)
