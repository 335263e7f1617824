"""A user who always logs on from one country and once from another: the place-novelty story.

erin connects over RDP to the server from two addresses of her usual network, day after day,
then once from an address elsewhere. With a geoip/ASN database that places the usual
addresses in one country and network and the odd one in another, the odd address is the one
whose country and ASN are new for her. truth.json names them under `facts.new_country`.
Must not write files itself; generate.py runs it by name.
"""

from __future__ import annotations

from . import stories as st
from .host import TICKS_PER_SECOND, Host, Truth, User

S = TICKS_PER_SECOND
# Internet addresses (documentation ranges classify as private): two of one network, one far
USUAL_IPS = ("89.160.20.112", "89.160.20.128")
ODD_IP = "175.16.199.5"
USUAL_LOGONS = 4


def sc_new_country(h: Host, t: int, u: User, truth: Truth) -> int:
    """`USUAL_LOGONS` RDP logons from the usual addresses (hours apart), then one from ODD_IP."""
    ips = [USUAL_IPS[i % len(USUAL_IPS)] for i in range(USUAL_LOGONS)] + [ODD_IP]
    for ip in ips:
        lg, end = st.rdp_logon(h, t, u, ip)
        end = st.work(h, end + 2 * S, lg, 2)
        end = st.interactive_logoff(h, end + 60 * S, lg, rdp=True)
        t = end + 3 * 3600 * S
    truth.facts["new_country"] = {
        "user": u.name,
        "host": h.short,
        "usual_ips": list(USUAL_IPS),
        "odd_ip": ODD_IP,
    }
    return end
