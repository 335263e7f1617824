"""A host whose clock is set back and forth (Security 4616, Kernel-General 1): events carry the
clock of their moment, so written times jump while record order keeps the true order. Truth
times are as written; a session spanning a change has `clock_changed`. Must not write files
itself; generate.py runs it by name.
"""

from __future__ import annotations

from . import catalog as c
from . import stories as st
from .host import TICKS_PER_SECOND, Host, User

S = TICKS_PER_SECOND
HOUR = 3600 * S
TIMESYNC = "C:\\Windows\\System32\\svchost.exe"


def set_clock(h: Host, t: int, shift: int) -> int:
    """The clock moves by `shift` ticks at true time t: 4616 (by LOCAL SERVICE, the time
    service) and Kernel-General 1 (reason 1: an application set it), as Windows writes them."""
    old, new = h.set_clock(t, shift)
    local = User("LOCAL SERVICE", "NT AUTHORITY", "S-1-5-19")
    h.emit(
        t,
        c.S4616,
        (local.sid, local.name, local.domain, 0x3E5, old, new, 0x53C, TIMESYNC),
        pid=h.lsass_pid,
        tid=h.rng.randrange(600, 5000),
    )
    h.emit(
        t + 1,
        c.Y1,
        (new, old, 1, "\\Device\\HarddiskVolume2\\Windows\\System32\\svchost.exe", 0xF88),
        user_sid="S-1-5-19",
        pid=4,
        tid=h.rng.randrange(100, 900),
    )
    return t + S


def sc_clock_change(h: Host, t: int, carol: User, bob: User) -> int:
    """carol's desktop spans the clock set back 3 h (it ends "before" it began); after a
    reboot the clock goes back 2 h more, so bob's logon is written before the boot that holds
    it and no shutdown follows it: it stays open (`none seen`)."""
    lg, t = st.console_logon(h, t, carol)
    t = st.work(h, t + S, lg, 2)
    t = set_clock(h, t + 300 * S, -3 * HOUR)
    t = st.work(h, t + 60 * S, lg, 2)
    t = st.interactive_logoff(h, t + 60 * S, lg, rdp=False)
    t = st.shutdown(h, max(t, h.horizon) + 120 * S, carol)
    t, _ = st.boot(h, t + 20 * S)
    t = set_clock(h, t + 30 * S, -2 * HOUR)
    lg2, t = st.console_logon(h, t + 60 * S, bob)
    t = st.work(h, t + S, lg2, 2)
    h.leave_open(lg2.session)
    return t
