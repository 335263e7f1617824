"""Hostile EVTX files built with the project's writer, for the storage robustness tests and
the fuzzer: real records with one planted problem each."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from logonscope.storage.evtx_writer import VT, EventType, EvtxWriter, user_data
from logonscope.storage.scenarios import catalog

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def logon_values(i: int, logon_type: int = 10, user: str | None = None) -> list[Any]:
    """Values for one 4624 (user u<i>, logon id 0x10000 + i)."""
    values: list[Any] = []
    for f in catalog.S4624.layout.fields:
        if f.vtype == VT.SID:
            values.append("S-1-5-21-1-2-3-1001")
        elif f.vtype == VT.HEX64:
            values.append(0x10000 + i)
        elif f.vtype == VT.UINT32:
            values.append(logon_type if f.name == "LogonType" else 0)
        elif f.vtype == VT.GUID:
            values.append("00000000-0000-0000-0000-000000000000")
        elif f.name == "TargetUserName":
            values.append(user or f"u{i}")
        else:
            values.append(f"v{i}")
    return values


def logons(path: Path, n: int, host: str = "HOST1", first_id: int = 1) -> Path:
    """`n` 4624s on `host`, one second apart."""
    with EvtxWriter(path, first_record_id=first_id) as w:
        for i in range(n):
            w.write(catalog.S4624, T0 + timedelta(seconds=i), logon_values(i), computer=host)
    return path


def planted_date(path: Path, n: int = 100) -> Path:
    """`n` 4624s whose first has TimeCreated = FILETIME 2^63-1 (the fast parser stops there)."""
    with EvtxWriter(path) as w:
        w.write(catalog.S4624, 2**63 - 1, logon_values(0), computer="HOST1")
        for i in range(1, n):
            w.write(catalog.S4624, T0 + timedelta(seconds=i), logon_values(i), computer="HOST1")
    return path


QUOTED = EventType(
    "Evil-Provider",
    "00000000-0000-0000-0000-000000000001",
    "Application",
    1,
    user_data('Ev"il', None, 'A"b', "C"),
)


def quoted_user_data(path: Path, n: int = 10, at: int = 5) -> Path:
    """`n` records, the one at `at` with a `"` in its UserData element names."""
    with EvtxWriter(path) as w:
        for i in range(n):
            if i == at:
                w.write(QUOTED, T0 + timedelta(seconds=i), ["x", "y"], computer="HOST2")
            else:
                w.write(catalog.S4624, T0 + timedelta(seconds=i), logon_values(i), computer="HOST2")
    return path
