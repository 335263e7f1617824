"""The generator's RDP failure, client-info and RD Gateway events (see catalog.py): RdpCoreTS
140 and 104 copied from real records (the evtx VSS sample, Belkasoft), the Gateway's 302/303
from Microsoft's UserData layout. Declarations only: no state, no I/O.
"""

from __future__ import annotations

from logonscope.storage.evtx_writer import EventType, event_data, user_data
from logonscope.storage.vocabulary import GATEWAY, RDPCORE

_RDPCORE = (
    "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS",
    "1139C61B-B549-4251-8ED3-27250A1EDEC8",
    RDPCORE,
)
# "A connection from the client computer with an IP address of %1 failed because the user name
# or password is not correct": a warning, with the connection's ActivityID (as on its 131)
C140 = EventType(
    *_RDPCORE, 140, event_data("IPString"), level=3, task=4, opcode=14, keywords=1 << 62
)
# The client's time zone, told in the connection sequence: `[-5]`
C104 = EventType(
    *_RDPCORE, 104, event_data("TimezoneBiasHour"), task=4, opcode=15, keywords=1 << 62
)

# RD Gateway, in the gateway's own log: UserData `<EventInfo xmlns="aag">`, the user as
# DOMAIN\user, the external client's address and the resource (the host it reached).
_GW = (
    "Microsoft-Windows-TerminalServices-Gateway",
    "4D5AE6A1-C7C8-4E6D-B840-4D8080B42E1B",
    GATEWAY,
)
_GW_KW = 0x4000000001000000
G302 = EventType(
    *_GW,
    302,
    user_data(
        "EventInfo",
        "aag",
        "Username",
        "IpAddress",
        "AuthType",
        "Resource",
        "ConnectionProtocol",
        "ErrorCode",
    ),
    keywords=_GW_KW,
)
G303 = EventType(
    *_GW,
    303,
    user_data(
        "EventInfo",
        "aag",
        "Username",
        "IpAddress",
        "Resource",
        "BytesReceived",
        "BytesTransfered",
        "SessionDuration",
        "ConnectionProtocol",
        "ErrorCode",
    ),
    keywords=_GW_KW,
)
