"""Turn one parsed record (the `evtx` JSON shape) into a flat events row (storage/schema.py).

Extraction only: typed columns are read from the fields Windows writes, keyed on field names
(Security's `TargetLogonId`, ...) and, where names are generic or positional, on
(channel, event id) -- ids repeat across providers. Values are kept as written apart from
type conversion (hex logon ids to integers, `ip:port` split); meaning (`-` means none, user
and address normalisation) belongs to `analysis.identity`. A field that does not convert
becomes null; the record is never dropped and the whole payload stays in `data`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from analysis.identity import host_key, split_address

LSM = "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"
RCM = "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"
RDPCORE = "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational"
GATEWAY = "Microsoft-Windows-TerminalServices-Gateway/Operational"

ELEVATED_YES = {"%%1842", "yes", "true", "1"}


def _logon_id(value: Any) -> int | None:
    """`0x3e7` / 999 / "999" -> 999; 64-bit LUIDs wrap to signed so BIGINT holds them."""
    if value is None or value == "" or value == "-":
        return None
    try:
        number = value if isinstance(value, int) else int(str(value), 0)
    except ValueError:
        return None
    return number - (1 << 64) if number >= (1 << 63) else number


def _int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if value is None:
        return None
    if isinstance(value, dict):  # {"#text": 7036, "#attributes": {...}}
        return _int(value.get("#text"))
    try:
        return int(str(value).strip(), 0) if str(value).strip().lower().startswith("0x") else int(value)
    except ValueError:
        return None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _str(value.get("#text"))
    return str(value)


def _status(value: Any) -> str | None:
    """NTSTATUS as `0xC000006D` whatever the parser wrote (int, `0xc000006d`, `%%...`)."""
    if value is None:
        return None
    number = _int(value)
    if number is None:
        return _str(value)
    return f"0x{number & 0xFFFFFFFF:08X}"


def _split_account(value: Any) -> tuple[str | None, str | None]:
    """`DOMAIN\\user` -> (user, domain); a bare name has no domain."""
    text = _str(value)
    if text and "\\" in text:
        domain, _, user = text.partition("\\")
        return user, domain
    return text, None


def _account(field: str) -> Callable[[dict, dict], None]:
    def apply(fields: dict, row: dict) -> None:
        row["target_user"], row["target_domain"] = _split_account(fields.get(field))

    return apply


def _lsm(fields: dict, row: dict) -> None:
    row["target_user"], row["target_domain"] = _split_account(fields.get("User"))
    row["lsm_session_id"] = _int(
        fields.get("SessionID", fields.get("TargetSession", fields.get("Session")))
    )
    if "Address" in fields:
        row["ip"] = _str(fields.get("Address"))


def _rcm_1149(fields: dict, row: dict) -> None:
    row["target_user"] = _str(fields.get("Param1"))
    row["target_domain"] = _str(fields.get("Param2"))
    row["ip"] = _str(fields.get("Param3"))


def _rdpcore_131(fields: dict, row: dict) -> None:
    row["ip"], row["port"], _zone = split_address(_str(fields.get("ClientIP")))


def _winlogon(fields: dict, row: dict) -> None:
    row["lsm_session_id"] = _int(fields.get("TSId"))
    row["target_sid"] = _str(fields.get("UserSid"))


def _gateway(fields: dict, row: dict) -> None:
    row["target_user"], row["target_domain"] = _split_account(fields.get("Username"))
    row["ip"] = _str(fields.get("IpAddress"))


def _shutdown_1074(fields: dict, row: dict) -> None:
    row["process_name"] = _str(fields.get("param1"))
    row["target_user"], row["target_domain"] = _split_account(fields.get("param7"))


def _session_id(fields: dict, row: dict) -> None:  # 4800/4801 SessionId = LSM SessionID
    row["lsm_session_id"] = _int(fields.get("SessionId"))


def _sysmon(fields: dict, row: dict) -> None:
    row["subject_logon_id"] = _logon_id(fields.get("LogonId"))
    row["subject_user"], row["subject_domain"] = _split_account(fields.get("User"))
    row["process_name"] = _str(fields.get("Image"))
    row["lsm_session_id"] = _int(fields.get("TerminalSessionId"))


# (channel, event id) -> extra extraction for fields that are positional or generic.
SPECIFIC: dict[tuple[str, int], Callable[[dict, dict], None]] = {
    **{(LSM, eid): _lsm for eid in (21, 22, 23, 24, 25, 39, 40, 41, 42)},
    (RCM, 1149): _rcm_1149,
    (RDPCORE, 131): _rdpcore_131,
    ("System", 7001): _winlogon,
    ("System", 7002): _winlogon,
    ("System", 1074): _shutdown_1074,
    (GATEWAY, 302): _gateway,
    (GATEWAY, 303): _gateway,
    ("Security", 4800): _session_id,
    ("Security", 4801): _session_id,
    **{("Microsoft-Windows-Sysmon/Operational", eid): _sysmon for eid in (1, 3, 11)},
}

# Security-style fields: their names mean the same thing in every event that has them.
_STRINGS = (
    ("subject_user", "SubjectUserName"),
    ("subject_domain", "SubjectDomainName"),
    ("subject_sid", "SubjectUserSid"),
    ("workstation", "WorkstationName"),
    ("logon_process", "LogonProcessName"),
    ("auth_package", "AuthenticationPackageName"),
    ("failure_reason", "FailureReason"),
)


def _security_fields(fields: dict, row: dict) -> None:
    get = fields.get
    for column, name in _STRINGS:
        value = get(name)
        if value is not None:
            row[column] = value if isinstance(value, str) else _str(value)
    row["subject_logon_id"] = _logon_id(get("SubjectLogonId"))
    row["target_user"] = _str(get("TargetUserName", get("AccountName")))
    row["target_domain"] = _str(get("TargetDomainName", get("AccountDomain")))
    row["target_sid"] = _str(get("TargetUserSid", get("TargetSid")))
    row["target_logon_id"] = _logon_id(get("TargetLogonId", get("LogonID")))
    row["linked_logon_id"] = _logon_id(get("TargetLinkedLogonId"))
    row["logon_type"] = _int(get("LogonType"))
    elevated = get("ElevatedToken")
    row["elevated"] = None if elevated is None else str(elevated).lower() in ELEVATED_YES
    address = get("IpAddress", get("ClientAddress"))
    if address is not None:
        row["ip"] = _str(address)
    row["port"] = _int(get("IpPort"))
    if "ClientName" in fields:  # 4778/4779
        row["workstation"] = _str(get("ClientName"))
    row["status"] = _status(get("Status"))
    row["sub_status"] = _status(get("SubStatus"))
    process = get("ProcessName", get("NewProcessName"))
    if process is not None:
        row["process_name"] = _str(process)


def _time(system: dict) -> str | None:
    created = system.get("TimeCreated")
    if isinstance(created, dict):
        attributes = created.get("#attributes") or {}
        return attributes.get("SystemTime")
    return None


def _attribute(system: dict, element: str, name: str) -> Any:
    value = system.get(element)
    if isinstance(value, dict):
        return (value.get("#attributes") or {}).get(name)
    return None


def _guid(value: Any) -> str | None:
    text = _str(value)
    return text.strip("{}").upper() if text else None


def normalise(event: dict[str, Any], header_time: str | None, sha256: str) -> dict[str, Any]:
    """One events row (all columns of EVENTS_SCHEMA present; `time` still a string)."""
    system = event.get("System") or {}
    payload = event.get("EventData")
    if payload is None:
        payload = event.get("UserData")
    fields: dict = payload if isinstance(payload, dict) else {}
    if "EventData" not in event and len(fields) == 1:  # UserData -> EventXML -> fields
        inner = next(iter(fields.values()))
        if isinstance(inner, dict):
            fields = inner

    time = _time(system)
    channel = _str(system.get("Channel"))
    event_id = _int(system.get("EventID"))
    computer = _str(system.get("Computer"))
    row: dict[str, Any] = {
        "evidence_sha256": sha256,
        "record_id": _int(system.get("EventRecordID")),
        "time": time or header_time,
        "time_from_header": time is None,
        "host": computer,
        "host_key": host_key(computer),
        "channel": channel,
        "provider": _str(_attribute(system, "Provider", "Name")),
        "event_id": event_id,
        "version": _int(system.get("Version")),
        "level": _int(system.get("Level")),
        "task": _int(system.get("Task")),
        "opcode": _int(system.get("Opcode")),
        "keywords": _str(system.get("Keywords")),
        "process_id": _int(_attribute(system, "Execution", "ProcessID")),
        "thread_id": _int(_attribute(system, "Execution", "ThreadID")),
        "activity_id": _guid(_attribute(system, "Correlation", "ActivityID")),
        "user_sid": _str(_attribute(system, "Security", "UserID")),
        "data": orjson.dumps(payload).decode() if payload is not None else None,
    }
    if fields:
        _security_fields(fields, row)
        specific = SPECIFIC.get((channel, event_id))  # type: ignore[arg-type]
        if specific is not None:
            specific(fields, row)
    return row
