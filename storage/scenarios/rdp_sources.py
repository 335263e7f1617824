"""Scenarios of the RDP sources beside Security: RdpCoreTS 140 (a failed RDP logon with the
client address), RdpCoreTS 104 (the client's time zone) and an RD Gateway whose log, on the
gateway host, names the external client that the target only sees as the gateway's address.
Each is one story with its truth; generate.py runs them by name. Must not write files itself.
"""

from __future__ import annotations

from . import stories as st
from .catalog_rdp import G302, G303
from .host import TICKS_PER_SECOND, Host, User

S = TICKS_PER_SECOND
GUESSES = ["administrator", "admin", "user", "test"]


def sc_rdp_nla_140(h: Host, t: int, u: User, attacker: str, scanner: str, ip: str) -> int:
    """NLA failures that write both a 4625 and a 140 (one failure each), then failures whose
    4625 is not audited (the 140 alone), then a logon that tells its client time zone."""
    t = st.nla_bruteforce(h, t, attacker, GUESSES, 6, with_140=True)
    t = st.nla_bruteforce(h, t + 40 * S, scanner, GUESSES, 3, with_140=True, audited=False)
    lg, t = st.rdp_logon(h, t + 120 * S, u, ip, tz=-5)
    t = st.work(h, t + 2 * S, lg, 2)
    return st.interactive_logoff(h, t + 60 * S, lg, rdp=True)


def gateway_event(
    gw: Host,
    t: int,
    event: int,
    u: User,
    client: str,
    resource: str,
    sessions: tuple = (),
    duration_s: int = 0,
) -> None:
    """RD Gateway 302 (connected to resource) or 303 (disconnected), in the gateway's log."""
    values: tuple[str, ...]
    if event == 302:
        et, values = G302, (u.qualified, client, "NTLM", resource, "HTTP", "0")
    else:
        sent = str(gw.rng.randrange(10**5, 10**7))
        got = str(gw.rng.randrange(10**5, 10**7))
        et = G303
        values = (u.qualified, client, resource, got, sent, str(duration_s), "HTTP", "1226")
    gw.emit(
        t,
        et,
        values,
        sessions=sessions,
        activity_id=gw.guid(),
        user_sid="S-1-5-20",
        pid=gw.rcm_pid,
        tid=gw.rng.randrange(900, 5000),
    )


def via_gateway(
    gw: Host, gw_ip: str, h: Host, t: int, u: User, client: str, resource: str, tz: int
) -> int:
    """One RDP logon through the gateway: 302 on the gateway, the logon on `h` from the
    gateway's address, work, logoff, 303. The session's address is the external client's."""
    lg, t_end = st.rdp_logon(h, t + st._ms(h, 300, 900), u, gw_ip, tz=tz)
    sess = lg.session
    gateway_event(gw, t, 302, u, client, resource, (sess,))
    sess.fields.update(src_ip=client, src_ip_source="gateway", gateway_ip=gw_ip)
    t_end = st.work(h, t_end + 2 * S, lg, 2)
    t_off = st.interactive_logoff(h, t_end + 60 * S, lg, rdp=True)
    gateway_event(
        gw, t_off + st._ms(h, 200, 900), 303, u, client, resource, (sess,), (t_off - t) // S
    )
    return t_off + S


def sc_rdp_gateway(
    gw: Host, gw_ip: str, h: Host, t: int, users: tuple[User, User], clients: tuple[str, str]
) -> int:
    """Two users come in through the gateway (the resource written as FQDN, then as a short
    name in lower case); a third connection goes to a host whose logs are not in the set."""
    t = via_gateway(gw, gw_ip, h, t, users[0], clients[0], h.computer, tz=2)
    t = via_gateway(gw, gw_ip, h, t + 30 * S, users[1], clients[1], h.short.lower(), tz=-5)
    gateway_event(gw, t + 10 * S, 302, users[0], clients[0], "SRV09.corp.example.com")
    return t + 20 * S
