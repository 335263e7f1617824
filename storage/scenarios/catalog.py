"""The events the generator writes: real providers, GUIDs, channels, versions and field layouts.

Field names, order, versions and value types are copied from real records (the Velociraptor
RDPAuth fixture, Belkasoft, DeepBlueCLI and evtx samples in ../shared/evidence), so that the
generated logs parse exactly like Windows' own. Declarations only: no state, no I/O.
"""

from __future__ import annotations

from logonscope.storage.evtx_writer import VT, EventType, event_data, user_data
from logonscope.storage.vocabulary import GATEWAY, LSM, RCM, RDPCORE, SECURITY, SYSTEM

from .catalog_rdp import C104, C140, G302, G303  # noqa: F401 (the catalog names every event)

CHANNELS = (SECURITY, SYSTEM, LSM, RCM, RDPCORE, GATEWAY)
# Windows stores "/" in a channel's file name as "%4".
FILE_NAMES = {ch: ch.replace("/", "%4") + ".evtx" for ch in CHANNELS}

_AUDIT = ("Microsoft-Windows-Security-Auditing", "54849625-5478-4994-A5BA-3E3B0328C30D", SECURITY)
_OK, _FAIL = 0x8020000000000000, 0x8010000000000000
_SUBJECT = (
    ("SubjectUserSid", VT.SID),
    "SubjectUserName",
    "SubjectDomainName",
    ("SubjectLogonId", VT.HEX64),
)
_TARGET4 = (
    ("TargetUserSid", VT.SID),
    "TargetUserName",
    "TargetDomainName",
    ("TargetLogonId", VT.HEX64),
)


def _sec(
    eid: int, task: int, *fields: tuple[str, int] | str, version: int = 0, keywords: int = _OK
) -> EventType:
    return EventType(
        *_AUDIT, eid, event_data(*fields), version=version, level=0, task=task, keywords=keywords
    )


S4624 = _sec(
    4624,
    12544,
    *_SUBJECT,
    *_TARGET4,
    ("LogonType", VT.UINT32),
    "LogonProcessName",
    "AuthenticationPackageName",
    "WorkstationName",
    ("LogonGuid", VT.GUID),
    "TransmittedServices",
    "LmPackageName",
    ("KeyLength", VT.UINT32),
    ("ProcessId", VT.HEX64),
    "ProcessName",
    "IpAddress",
    "IpPort",
    "ImpersonationLevel",
    "RestrictedAdminMode",
    "TargetOutboundUserName",
    "TargetOutboundDomainName",
    "VirtualAccount",
    ("TargetLinkedLogonId", VT.HEX64),
    "ElevatedToken",
    version=2,
)
S4625 = _sec(
    4625,
    12544,
    *_SUBJECT,
    ("TargetUserSid", VT.SID),
    "TargetUserName",
    "TargetDomainName",
    ("Status", VT.HEX32),
    "FailureReason",
    ("SubStatus", VT.HEX32),
    ("LogonType", VT.UINT32),
    "LogonProcessName",
    "AuthenticationPackageName",
    "WorkstationName",
    "TransmittedServices",
    "LmPackageName",
    ("KeyLength", VT.UINT32),
    ("ProcessId", VT.HEX64),
    "ProcessName",
    "IpAddress",
    "IpPort",
    keywords=_FAIL,
)
S4634 = _sec(4634, 12545, *_TARGET4, ("LogonType", VT.UINT32))
S4647 = _sec(4647, 12545, *_TARGET4)
S4648 = _sec(
    4648,
    12544,
    *_SUBJECT,
    ("LogonGuid", VT.GUID),
    "TargetUserName",
    "TargetDomainName",
    ("TargetLogonGuid", VT.GUID),
    "TargetServerName",
    "TargetInfo",
    ("ProcessId", VT.HEX64),
    "ProcessName",
    "IpAddress",
    "IpPort",
)
S4672 = _sec(4672, 12548, *_SUBJECT, "PrivilegeList")
S4688 = _sec(
    4688,
    13312,
    *_SUBJECT,
    ("NewProcessId", VT.HEX64),
    "NewProcessName",
    "TokenElevationType",
    ("ProcessId", VT.HEX64),
    "CommandLine",
    ("TargetUserSid", VT.SID),
    "TargetUserName",
    "TargetDomainName",
    ("TargetLogonId", VT.HEX64),
    "ParentProcessName",
    ("MandatoryLabel", VT.SID),
    version=2,
)
S4697 = _sec(
    4697,
    12289,
    *_SUBJECT,
    "ServiceName",
    "ServiceFileName",
    ("ServiceType", VT.HEX32),
    ("ServiceStartType", VT.UINT32),
    "ServiceAccount",
)
_SESSION_RECONNECT = (
    "AccountName",
    "AccountDomain",
    ("LogonID", VT.HEX64),
    "SessionName",
    "ClientName",
    "ClientAddress",
)
S4778 = _sec(4778, 12551, *_SESSION_RECONNECT)
S4779 = _sec(4779, 12551, *_SESSION_RECONNECT)
S4800 = _sec(4800, 12551, *_TARGET4, ("SessionId", VT.UINT32))
S4801 = _sec(4801, 12551, *_TARGET4, ("SessionId", VT.UINT32))
S5140 = _sec(
    5140,
    12808,
    *_SUBJECT,
    "ObjectType",
    "IpAddress",
    "IpPort",
    "ShareName",
    "ShareLocalPath",
    ("AccessMask", VT.HEX32),
    "AccessList",
    version=1,
)
S5145 = _sec(
    5145,
    12811,
    *_SUBJECT,
    "ObjectType",
    "IpAddress",
    "IpPort",
    "ShareName",
    "ShareLocalPath",
    "RelativeTargetName",
    ("AccessMask", VT.HEX32),
    "AccessList",
    "AccessReason",
)
S4608 = _sec(4608, 12288)
S4616 = _sec(
    4616,
    12288,
    *_SUBJECT,
    ("PreviousTime", VT.FILETIME),
    ("NewTime", VT.FILETIME),
    ("ProcessId", VT.HEX64),
    "ProcessName",
    version=1,
)
S1100 = EventType(
    "Microsoft-Windows-Eventlog",
    "FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148",
    SECURITY,
    1100,
    user_data("ServiceShutdown", "http://manifests.microsoft.com/win/2004/08/windows/eventlog"),
    level=4,
    task=103,
    keywords=0x4020000000000000,
)
_EVENTLOG_NS = "http://manifests.microsoft.com/win/2004/08/windows/eventlog"
S1102 = EventType(
    "Microsoft-Windows-Eventlog",
    "FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148",
    SECURITY,
    1102,
    user_data("LogFileCleared", _EVENTLOG_NS, *_SUBJECT),
    level=4,
    task=104,
    keywords=0x4020000000000000,
)

# --- System ----------------------------------------------------------------------------------
Y104 = EventType(
    "Microsoft-Windows-Eventlog",
    "FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148",
    SYSTEM,
    104,
    user_data(
        "LogFileCleared",
        _EVENTLOG_NS,
        "SubjectUserName",
        "SubjectDomainName",
        "Channel",
        "BackupPath",
    ),
    level=4,
    task=104,
    keywords=0x8000000000000000,
)
_CLASSIC = {"version": None, "opcode": None, "task": 0, "keywords": 0x80000000000000}
Y6005 = EventType("EventLog", None, SYSTEM, 6005, event_data(), qualifiers=32768, **_CLASSIC)
Y6006 = EventType("EventLog", None, SYSTEM, 6006, event_data(), qualifiers=32768, **_CLASSIC)
Y6008 = EventType(
    "EventLog",
    None,
    SYSTEM,
    6008,
    event_data("param1", "param2", "param3", "param4", "param5"),
    qualifiers=32768,
    level=2,
    **_CLASSIC,
)
Y1074 = EventType(
    "User32",
    None,
    SYSTEM,
    1074,
    event_data("param1", "param2", "param3", "param4", "param5", "param6", "param7"),
    qualifiers=32768,
    keywords=0x8080000000000000,
)
_KG = ("Microsoft-Windows-Kernel-General", "A68CA8B7-004F-D7B6-A698-07E2DE0F1F5D", SYSTEM)
Y12 = EventType(
    *_KG,
    12,
    event_data(
        *[
            (n, VT.UINT32)
            for n in (
                "MajorVersion",
                "MinorVersion",
                "BuildVersion",
                "QfeVersion",
                "ServiceVersion",
                "BootMode",
            )
        ],
        ("StartTime", VT.FILETIME),
    ),
    task=1,
    keywords=0x8000000000000080,
)
Y1 = EventType(
    *_KG,
    1,
    event_data(
        ("NewTime", VT.FILETIME),
        ("OldTime", VT.FILETIME),
        ("Reason", VT.UINT32),
        "ProcessName",
        ("ProcessID", VT.UINT32),
    ),
    version=2,
    task=5,
    keywords=0x8000000000000010,
)
Y13 = EventType(
    *_KG, 13, event_data(("StopTime", VT.FILETIME)), task=2, keywords=0x8000000000000080
)
_WINLOGON = ("Microsoft-Windows-Winlogon", "DBE9B383-7CF3-4331-91CC-A3CB16A3B538", SYSTEM)
Y7001 = EventType(
    *_WINLOGON,
    7001,
    event_data(("TSId", VT.UINT32), ("UserSid", VT.SID)),
    task=1101,
    keywords=0x2000200000000000,
)
Y7002 = EventType(
    *_WINLOGON,
    7002,
    event_data(("TSId", VT.UINT32), ("UserSid", VT.SID)),
    task=1102,
    keywords=0x2000200000000000,
)
_SCM = ("Service Control Manager", "555908D1-A6D7-4695-8E1E-26931D2012F4", SYSTEM)
Y7045 = EventType(
    *_SCM,
    7045,
    event_data("ServiceName", "ImagePath", "ServiceType", "StartType", "AccountName"),
    qualifiers=16384,
    keywords=0x8080000000000000,
)
Y7036 = EventType(
    *_SCM, 7036, event_data("param1", "param2"), qualifiers=16384, keywords=0x8080000000000000
)

# --- Terminal Services -----------------------------------------------------------------------
_LSM = (
    "Microsoft-Windows-TerminalServices-LocalSessionManager",
    "5D896912-022D-40AA-A3A8-4FA5515C76D7",
    LSM,
)
_TS_KW = 0x1000000000000000


def _lsm(eid: int, *fields: tuple[str, int] | str) -> EventType:
    return EventType(*_LSM, eid, user_data("EventXML", "Event_NS", *fields), keywords=_TS_KW)


_USER_SESSION = ("User", ("SessionID", VT.UINT32))
L21 = _lsm(21, *_USER_SESSION, "Address")
L22 = _lsm(22, *_USER_SESSION, "Address")
L23 = _lsm(23, *_USER_SESSION)
L24 = _lsm(24, *_USER_SESSION, "Address")
L25 = _lsm(25, *_USER_SESSION, "Address")
L39 = _lsm(39, ("TargetSession", VT.UINT32), ("Source", VT.UINT32))
L40 = _lsm(40, ("Session", VT.UINT32), ("Reason", VT.UINT32))
L41 = _lsm(41, *_USER_SESSION)
L42 = _lsm(42, *_USER_SESSION)
_RCM = (
    "Microsoft-Windows-TerminalServices-RemoteConnectionManager",
    "C76BAA63-AE81-421C-B425-340B4B24157F",
    RCM,
)
R261 = EventType(*_RCM, 261, user_data("EventXML", "Event_NS", "listenerName"), keywords=_TS_KW)
R1149 = EventType(
    *_RCM, 1149, user_data("EventXML", "Event_NS", "Param1", "Param2", "Param3"), keywords=_TS_KW
)
C131 = EventType(
    "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS",
    "1139C61B-B549-4251-8ED3-27250A1EDEC8",
    RDPCORE,
    131,
    event_data("ConnType", "ClientIP"),
    task=4,
    opcode=15,
    keywords=0x4000000000000000,
)
C103 = EventType(
    "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS",
    "1139C61B-B549-4251-8ED3-27250A1EDEC8",
    RDPCORE,
    103,
    event_data(("ReasonCode", VT.UINT32)),
    task=4,
    opcode=17,
    keywords=0x4000000000000000,
)


def _privileges(*names: str) -> str:
    """4672's PrivilegeList: one privilege per line, indented with three tabs, as Windows does."""
    return "\r\n\t\t\t".join(names)


# Privileges Windows lists in 4672 for an administrator (as in the Velociraptor fixture).
ADMIN_PRIVILEGES = _privileges(
    "SeSecurityPrivilege",
    "SeTakeOwnershipPrivilege",
    "SeLoadDriverPrivilege",
    "SeBackupPrivilege",
    "SeRestorePrivilege",
    "SeDebugPrivilege",
    "SeSystemEnvironmentPrivilege",
    "SeImpersonatePrivilege",
    "SeDelegateSessionUserImpersonatePrivilege",
)
SYSTEM_PRIVILEGES = _privileges(
    "SeAssignPrimaryTokenPrivilege",
    "SeTcbPrivilege",
    "SeSecurityPrivilege",
    "SeTakeOwnershipPrivilege",
    "SeLoadDriverPrivilege",
    "SeBackupPrivilege",
    "SeRestorePrivilege",
    "SeDebugPrivilege",
    "SeAuditPrivilege",
    "SeSystemEnvironmentPrivilege",
    "SeImpersonatePrivilege",
    "SeDelegateSessionUserImpersonatePrivilege",
)
