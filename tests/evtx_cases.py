"""Small generated cases for tests that need chosen strings in chosen fields: RDP logons
(4624, type 10) written with the project's EVTX writer, ingested and built."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

START = datetime(2025, 1, 1, 9, tzinfo=timezone.utc)


def write_rdp_logons(path: Path, logons: list[tuple[str, str, str]]) -> Path:
    """`path` (an EVTX file) with one successful RDP logon per (computer, user, source IP),
    ten seconds apart from START."""
    from logonscope.storage.evtx_writer import EvtxWriter, to_filetime
    from logonscope.storage.scenarios import catalog as c

    t0 = to_filetime(START)
    with EvtxWriter(path) as sec:
        for i, (computer, user, ip) in enumerate(logons):
            lid = 0x20000 + i
            values = (
                *("S-1-5-18", "WS$", "CORP", 0x3E7),
                *(f"S-1-5-21-1-2-3-{1100 + i}", user, "CORP", lid),
                *(10, "User32 ", "Negotiate", "CLIENT", "0FE90B73-135D-9A16-CEA8-0AB509ECFF74"),
                *("-", "-", 0, 0x3BC, "C:\\Windows\\System32\\svchost.exe"),
                *(ip, "0", "%%1833", "%%1843", "-", "-", "%%1843"),
                *(lid + 1, "%%1842"),
            )
            sec.write(c.S4624, t0 + i * 10**8, values, computer=computer, pid=572, tid=600)
    return path


def rdp_case(root: Path, logons: list[tuple[str, str, str]]) -> Path:
    """A built case under `root` holding `logons` (see write_rdp_logons)."""
    from logonscope.analysis.build import build
    from logonscope.storage.ingest import ingest

    logs = root / "logs"
    logs.mkdir(parents=True)
    write_rdp_logons(logs / "Security.evtx", logons)
    case = root / "case"
    ingest([logs], case, jobs=1)
    build(case)
    return case


# Two users on one workstation, three addresses: what the `users` selection and the timeline
# import tests both need (one sharing an address with another user).
FOUR_LOGONS = [
    ("WS01.corp.example.com", "alice", "203.0.113.10"),
    ("WS01.corp.example.com", "alice", "198.51.100.7"),
    ("WS01.corp.example.com", "bob", "198.51.100.7"),
    ("WS01.corp.example.com", "bob", "198.51.100.7"),
]


def four_logons_case(factory: pytest.TempPathFactory) -> Path:
    """`FOUR_LOGONS` ingested and built once per run (`tests.cases.build_once`: a tiny build
    costs ~1.5 CPU s, nearly all fixed). Read only: a test that changes it copies it."""
    from tests.cases import build_once

    def write(out: Path) -> None:
        out.mkdir(parents=True)
        write_rdp_logons(out / "Security.evtx", FOUR_LOGONS)

    return build_once(factory, "rdp-four-logons", write)
