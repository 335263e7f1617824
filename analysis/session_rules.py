"""The session rules as data: which events take part, what each one is, and the tunables.

`EVENT_RULES` is the one table of (channel, event id) -> (src, kind, chain rank, role). The
first step of `analysis.sessions` joins it onto the events once; every later step reads `kind`,
`rnk` and `role` and never compares a channel or an event id again.

- `src`: short code of the channel, kept on each row instead of the channel string.
- `kind`: what the event says happened (`logon`, `logoff`, `reconnect`, ...).
- `rnk`: its place in the chain of one RDP/console logon (`Rank`), or None when it is no step.
- `role`: the role it plays among a session's sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from logonscope.storage.vocabulary import (
    CONSOLE_ACTIVITY,
    GATEWAY,
    KERNEL_GENERAL,
    LSM,
    RCM,
    RDPCORE,
    SECURITY,
    SYSTEM,
)


@dataclass(frozen=True)
class Rules:
    """Tunables of the correlation (seconds)."""

    window: float = 5.0  # max gap between consecutive steps of one logon attempt
    uac_window: float = 1.0  # the two 4624s of a UAC split token, at most this far apart
    privileges_window: float = 2.0  # 4672 to its 4624
    auth_window: float = 1.0  # 4648 before its 4624
    connect_window: float = 10.0  # RdpCoreTS 131 before a failed NLA 4625
    # RdpCoreTS 140 (failed RDP logon, with the client address) and the 4625 of the same
    # attempt (same host and address) are at most this far apart: one failure, two sources
    rdp_failure_window: float = 5.0
    # an RD Gateway 302 (user connected to resource) and the session it opened on the resource
    # (same user, resource = the session's host), this far apart either way: two hosts' clocks
    gateway_window: float = 60.0
    # an RDP connection's ActivityID is a GUID: its events are linked this far before the
    # logon (a user may sit at the credential prompt), not only within `window`
    activity_window: float = 600.0
    # a cached (type 11) logon whose id is logged off this soon re-authenticates a desktop
    cached_unlock_window: float = 1.0
    end_group: float = 2.0  # end events this close to the first one are the same end
    # the clock set by at least this much (4616, Kernel-General 1) starts a new era
    clock_change: float = 60.0
    boot_gap_minutes: int = 10  # boot markers further apart than this are separate boots

    def us(self, seconds: float) -> int:
        return round(float(seconds) * 1_000_000)


class Rank(IntEnum):
    """Order of the steps of one RDP/console logon; a step never follows one of equal or
    higher rank inside one attempt."""

    NLA = 1  # the network (type 3) 4624 of Network Level Authentication
    RDP_AUTH = 2  # RCM 1149: the RDP user authenticated
    LOGON = 3  # the interactive 4624 (type 2/10/11/12)
    RECONNECT = 4  # Security 4778: a session reconnected
    SESSION = 5  # LSM 21/25: the session logged on / reconnected


# Logon types that open an interactive (chain) logon; type 3 is the NLA step of one.
CHAIN_LOGON_TYPES = (2, 3, 10, 11, 12)
NLA_LOGON_TYPE = 3
UNLOCK_LOGON_TYPE = 7
CACHED_LOGON_TYPE = 11
# Logon ids of SYSTEM, LOCAL/NETWORK SERVICE and "none": shared by everything, they link nothing.
SHARED_LOGON_IDS = (0, 0x3E4, 0x3E5, 0x3E7)
# Logon types of the interactive sessions an unlock can belong to.
INTERACTIVE_LOGON_TYPES = (2, 10, 11, 12)


class EventRule(NamedTuple):
    src: str
    channel: str
    event_id: int
    kind: str
    rnk: Rank | None
    role: str
    provider: str | None = None  # only events of this provider (ids repeat across providers)


_R = EventRule
EVENT_RULES: tuple[EventRule, ...] = (
    _R("sec", SECURITY, 4624, "logon", Rank.LOGON, "logon"),
    _R("sec", SECURITY, 4625, "failed_logon", None, "attempt"),
    _R("sec", SECURITY, 4634, "logoff", None, "logoff"),
    _R("sec", SECURITY, 4647, "logoff", None, "logoff"),
    _R("sec", SECURITY, 4648, "explicit_credentials", None, "auth"),
    _R("sec", SECURITY, 4672, "privileges", None, "privileges"),
    _R("sec", SECURITY, 4778, "reconnect", Rank.RECONNECT, "reconnect"),
    _R("sec", SECURITY, 4779, "disconnect", None, "disconnect"),
    _R("sec", SECURITY, 4800, "lock", None, "lock"),
    _R("sec", SECURITY, 4801, "unlock", None, "unlock"),
    _R("sec", SECURITY, 4608, "boot", None, "boot"),
    _R("sec", SECURITY, 4609, "shutdown", None, "shutdown"),
    _R("sec", SECURITY, 1100, "shutdown", None, "shutdown"),
    _R("lsm", LSM, 21, "session_logon", Rank.SESSION, "logon"),
    _R("lsm", LSM, 22, "shell_start", None, "shell"),
    _R("lsm", LSM, 23, "logoff", None, "logoff"),
    _R("lsm", LSM, 24, "disconnect", None, "disconnect"),
    _R("lsm", LSM, 25, "session_reconnect", Rank.SESSION, "reconnect"),
    _R("lsm", LSM, 40, "disconnect", None, "disconnect"),
    _R("lsm", LSM, 41, "session_notice", None, "logon"),
    _R("lsm", LSM, 42, "session_notice", None, "logon"),
    _R("rcm", RCM, 1149, "rdp_auth", Rank.RDP_AUTH, "auth"),
    _R("rcm", RCM, 261, "rdp_connect", None, "attempt"),
    _R("rdp", RDPCORE, 131, "rdp_connect", None, "attempt"),
    # "the user name or password is not correct", with the client address: a failed attempt
    _R("rdp", RDPCORE, 140, "failed_logon", None, "attempt"),
    _R("rdp", RDPCORE, 104, "rdp_client", None, "client"),  # the client's time zone
    # RD Gateway, on the gateway host: the external client behind the gateway's address
    _R("gw", GATEWAY, 302, "gateway_connect", None, "gateway"),
    _R("gw", GATEWAY, 303, "gateway_disconnect", None, "gateway"),
    _R("sys", SYSTEM, 6005, "boot", None, "boot"),
    _R("sys", SYSTEM, 6008, "boot", None, "boot"),
    _R("sys", SYSTEM, 6006, "shutdown", None, "shutdown"),
    _R("sys", SYSTEM, 1074, "shutdown", None, "shutdown"),
    _R("sys", SYSTEM, 7001, "session_notice", None, "logon"),  # Winlogon: user logon
    _R("sys", SYSTEM, 7002, "logoff", None, "logoff"),  # Winlogon: user logoff
    _R("sys", SYSTEM, 12, "boot", None, "boot", KERNEL_GENERAL),
    _R("sys", SYSTEM, 13, "shutdown", None, "shutdown", KERNEL_GENERAL),
)

# The channel each `src` code stands for (sources are reported with their channel).
SRC_CHANNELS: dict[str, str] = {r.src: r.channel for r in EVENT_RULES}


def _text(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def event_rules_sql() -> str:
    """`CREATE TEMP TABLE _ls_kinds` holding EVENT_RULES, for the one join in step 1."""
    rows = ",\n    ".join(
        f"({_text(r.src)}, {_text(r.channel)}, {_text(r.provider)}, {r.event_id}, "
        f"{_text(r.kind)}, {'NULL' if r.rnk is None else int(r.rnk)}, {_text(r.role)})"
        for r in EVENT_RULES
    )
    return f"""CREATE OR REPLACE TEMP TABLE _ls_kinds AS
    SELECT src, channel, provider, CAST(event_id AS INTEGER) AS event_id, kind,
           CAST(rnk AS INTEGER) AS rnk, role
    FROM (VALUES
    {rows}) AS v(src, channel, provider, event_id, kind, rnk, role)"""


def src_channel_sql(column: str) -> str:
    """SQL CASE turning a `src` code column back into its channel."""
    whens = " ".join(f"WHEN {_text(s)} THEN {_text(c)}" for s, c in SRC_CHANNELS.items())
    return f"CASE {column} {whens} END"


def sql_params(rules: Rules, events: str, gateway_events: str | None = None) -> dict[str, str]:
    """What the step files' `$name` placeholders stand for: only our own numbers and names.
    `gateway_events`: where the RD Gateway events come from (they live on another host than
    the sessions they explain; default: `events` itself)."""
    gateway_events = gateway_events or events
    params: dict[str, object] = {
        "events": events,
        "relevant_ids": "("
        + ", ".join(str(i) for i in sorted({r.event_id for r in EVENT_RULES}))
        + ")",
        "console_activity": _text(CONSOLE_ACTIVITY),
        "window_us": rules.us(rules.window),
        "uac_us": rules.us(rules.uac_window),
        "privileges_us": rules.us(rules.privileges_window),
        "auth_us": rules.us(rules.auth_window),
        "connect_us": rules.us(rules.connect_window),
        "rdp_failure_us": rules.us(rules.rdp_failure_window),
        "gateway_us": rules.us(rules.gateway_window),
        "gateway_events": gateway_events,
        "activity_us": rules.us(rules.activity_window),
        "cached_unlock_us": rules.us(rules.cached_unlock_window),
        "cached_type": CACHED_LOGON_TYPE,
        "shared_ids": str(SHARED_LOGON_IDS),
        "end_group_us": rules.us(rules.end_group),
        "boot_gap_us": rules.boot_gap_minutes * 60_000_000,
        "clock_change_us": rules.us(rules.clock_change),
        "security": _text(SECURITY),
        "system": _text(SYSTEM),
        "kernel_general": _text(KERNEL_GENERAL),
        "chain_types": str(CHAIN_LOGON_TYPES),
        "interactive_types": str(INTERACTIVE_LOGON_TYPES),
        "nla_type": NLA_LOGON_TYPE,
        "unlock_type": UNLOCK_LOGON_TYPE,
        "src_channel": src_channel_sql("e.src"),
    }
    params.update({f"rank_{rank.name.lower()}": int(rank) for rank in Rank})
    return {k: str(v) for k, v in params.items()}
