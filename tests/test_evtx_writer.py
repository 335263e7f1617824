"""The EVTX writer produces files both parsers read back exactly, with valid CRC32s."""

from __future__ import annotations

import itertools
import struct
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logonscope.storage.evtx_writer import (
    VT,
    EventType,
    EvtxWriter,
    Field,
    Layout,
    RecordTooLarge,
    event_data,
    user_data,
)
from tests.evtx_readback import check_crcs, parse_time, read_python, read_rust

UTC = timezone.utc

# --- canonical forms, so that "the same value" can be asserted across writer and parsers ---


def canon_written(vtype: int, value: Any) -> Any:
    if value is None or value == "":
        return ""
    if vtype == VT.GUID:
        return value.strip("{}").upper()
    if vtype == VT.SYSTEMTIME:
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def canon_rust(vtype: int, value: Any) -> Any:
    if value is None or value == "":
        return ""
    if vtype in (VT.HEX32, VT.HEX64):
        return int(value, 16)
    if vtype in (VT.FILETIME, VT.SYSTEMTIME):
        return parse_time(value)
    return value


def canon_python(vtype: int, text: str) -> Any:
    if text == "":
        return ""
    if vtype in (VT.INT8, VT.UINT8, VT.INT16, VT.UINT16, VT.INT32, VT.UINT32, VT.INT64, VT.UINT64):
        return int(text)
    if vtype in (VT.HEX32, VT.HEX64):
        return int(text, 16)
    if vtype == VT.BOOL:
        return text == "True"
    if vtype == VT.GUID:
        return text.strip("{}").upper()
    if vtype == VT.FILETIME:
        return parse_time(text)
    if vtype == VT.SYSTEMTIME:
        # python-evtx 0.8.1 prints SYSTEMTIME milliseconds in the microsecond place.
        t = parse_time(text)
        return t.replace(microsecond=t.microsecond * 1000)
    return text


def same(vtype: int, want: Any, got: Any, tolerance_us: int = 0) -> bool:
    if isinstance(want, datetime) and isinstance(got, datetime):
        return abs(want - got) <= timedelta(microseconds=tolerance_us)
    return want == got


# --- strategies ------------------------------------------------------------------------------

xml_chars = st.characters(blacklist_categories=("Cs", "Cc", "Cn")) | st.sampled_from("\t\n")
short_text = st.text(xml_chars, max_size=40)
long_text = st.builds(lambda c, n: c * n, xml_chars, st.integers(1000, 12000))
names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True)
times = st.datetimes(datetime(1990, 1, 1), datetime(2099, 12, 31), timezones=st.just(UTC))
sids = st.builds(
    lambda auth, subs: "S-1-" + "-".join(map(str, [auth, *subs])),
    st.integers(0, 2**32 - 1),
    st.lists(st.integers(0, 2**32 - 1), max_size=15),
)
guids = st.uuids().map(lambda u: str(u).upper())

VALUES = {
    VT.STRING: short_text | long_text,
    VT.INT8: st.integers(-128, 127),
    VT.UINT8: st.integers(0, 255),
    VT.INT16: st.integers(-(2**15), 2**15 - 1),
    VT.UINT16: st.integers(0, 2**16 - 1),
    VT.INT32: st.integers(-(2**31), 2**31 - 1),
    VT.UINT32: st.integers(0, 2**32 - 1),
    VT.INT64: st.integers(-(2**63), 2**63 - 1),
    VT.UINT64: st.integers(0, 2**64 - 1),
    VT.HEX32: st.integers(0, 2**32 - 1),
    VT.HEX64: st.integers(0, 2**64 - 1),
    VT.BOOL: st.booleans(),
    VT.GUID: guids,
    VT.SID: sids,
    VT.FILETIME: times,
    VT.SYSTEMTIME: times,
}


@st.composite
def events(draw: st.DrawFn) -> tuple[EventType, dict[str, Any], tuple[Any, ...]]:
    kind = draw(st.sampled_from(["EventData", "UserData"]))
    fnames = draw(st.lists(names, max_size=12, unique_by=str.lower))
    types = [draw(st.sampled_from(list(VALUES))) for _ in fnames]
    values = []
    for t in types:
        # Every type may also be null; at most one long string keeps the record in a chunk.
        v = draw(st.none() | VALUES[t])
        if (
            t == VT.STRING
            and v
            and len(v) > 40
            and any(
                tx == VT.STRING and x and len(x) > 40 for tx, x in zip(types, values, strict=False)
            )
        ):
            v = v[:40]
        values.append(v)
    if kind == "EventData":
        layout = Layout("EventData", tuple(Field(n, t) for n, t in zip(fnames, types, strict=True)))
    else:
        layout = Layout(
            "UserData",
            tuple(Field(None, t, n) for n, t in zip(fnames, types, strict=True)),
            root=draw(names),
            xmlns=draw(st.sampled_from(["Event_NS", None])),
        )
    et = EventType(
        # Provider names are plain identifiers; the attribute avoids python-evtx's unescaped
        # quotes and XML's attribute whitespace normalisation, which are not the writer's.
        provider=draw(st.from_regex(r"[A-Za-z][A-Za-z0-9 ._-]{0,59}", fullmatch=True)),
        provider_guid=draw(st.none() | guids),
        channel=draw(st.text(xml_chars, min_size=1, max_size=80)),
        event_id=draw(st.integers(0, 65535)),
        layout=layout,
        version=draw(st.none() | st.integers(0, 255)),
        qualifiers=draw(st.none() | st.integers(0, 65535)),
    )
    system = {
        "time": draw(times),
        "computer": draw(st.text(xml_chars, min_size=1, max_size=60)),
        "activity_id": draw(st.none() | guids),
        "user_sid": draw(st.none() | sids),
        "pid": draw(st.integers(0, 2**32 - 1)),
        "tid": draw(st.integers(0, 2**32 - 1)),
    }
    return et, system, tuple(values)


def assert_read_back(
    written: list[tuple[EventType, dict[str, Any], tuple[Any, ...]]],
    got: list[dict[str, Any]],
    parser: str,
) -> None:
    assert len(got) == len(written), f"{parser}: {len(got)} records for {len(written)} written"
    canon = canon_rust if parser == "rust" else canon_python
    tolerance = 0 if parser == "rust" else 20  # python-evtx converts FILETIME through a float
    for i, ((et, system, values), rec) in enumerate(zip(written, got, strict=True)):
        assert rec["record_id"] == i + 1
        assert rec["event_id"] == et.event_id
        assert rec["channel"] == et.channel
        assert rec["provider"] == et.provider
        assert (rec["computer"] or "") == system["computer"]
        assert same(VT.FILETIME, system["time"], rec["time"], tolerance)
        assert rec["activity_id"] == system["activity_id"]
        assert rec["user_sid"] == system["user_sid"]
        assert list(rec["fields"]) == list(et.layout.names)
        for f, v in zip(et.layout.fields, values, strict=True):
            key = f.name if et.layout.kind == "EventData" else f.tag
            want, have = canon_written(f.vtype, v), canon(f.vtype, rec["fields"][key])
            assert same(f.vtype, want, have, tolerance), (parser, key, f.vtype, want, have)


def write_all(path: Path, written: list, **kw: Any) -> list:
    with EvtxWriter(path, **kw) as w:
        for et, system, values in written:
            w.write(
                et,
                system["time"],
                values,
                computer=system["computer"],
                pid=system["pid"],
                tid=system["tid"],
                activity_id=system["activity_id"],
                user_sid=system["user_sid"],
            )
    return w.files


@settings(
    max_examples=20,  # each example is read by python-evtx too, which is slow
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(events(), min_size=1, max_size=15))
def test_random_events_read_back_exactly_by_both_parsers(written: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = write_all(Path(tmp) / "x.evtx", written, max_bytes=4096 + 3 * 0x10000)
        rust, python = [], []
        for f in files:
            check_crcs(f.path)
            rust += read_rust(f.path)
            python += read_python(f.path)
        assert_read_back(written, rust, "rust")
        assert_read_back(written, python, "python")


# --- fixed, realistic layouts over many chunks and files -------------------------------------

LOGON = EventType(
    "Microsoft-Windows-Security-Auditing",
    "54849625-5478-4994-A5BA-3E3B0328C30D",
    "Security",
    4624,
    event_data(
        ("SubjectUserSid", VT.SID),
        "SubjectUserName",
        ("SubjectLogonId", VT.HEX64),
        ("LogonType", VT.UINT32),
        "LogonProcessName",
        "IpAddress",
        ("TargetLinkedLogonId", VT.HEX64),
    ),
    version=2,
    level=0,
    task=12544,
    keywords=0x8020000000000000,
)
LSM21 = EventType(
    "Microsoft-Windows-TerminalServices-LocalSessionManager",
    "5D896912-022D-40AA-A3A8-4FA5515C76D7",
    "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
    21,
    user_data("EventXML", "Event_NS", "User", ("SessionID", VT.UINT32), "Address"),
    keywords=0x1000000000000000,
)


def _mixed(n: int) -> list:
    t0 = datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    out = []
    for i in range(n):
        system = {
            "time": t0 + timedelta(milliseconds=37 * i),
            "computer": f"WS{i % 3:02d}.corp.local",
            "activity_id": None,
            "user_sid": None,
            "pid": 572,
            "tid": 600 + i % 7,
        }
        if i % 3:
            out.append(
                (
                    LOGON,
                    system,
                    (
                        "S-1-5-18",
                        f"user{i % 17}",
                        0x3E7,
                        2 + i % 9,
                        "User32 ",
                        f"10.0.{i % 256}.{i % 7}",
                        None,
                    ),
                )
            )
        else:
            system = dict(
                system, activity_id="F4205BAC-1B01-40FC-AEEF-3C971C730000", user_sid="S-1-5-18"
            )
            out.append((LSM21, system, (f"CORP\\user{i % 17}", i % 5, "LOCAL" if i % 2 else None)))
    return out


def test_a_multi_chunk_multi_file_set_is_read_back_identically_by_both_parsers(
    tmp_path: Path,
) -> None:
    written = _mixed(2000)
    files = write_all(tmp_path / "Security.evtx", written, max_bytes=4096 + 2 * 0x10000)
    assert len(files) >= 3 and all(f.chunks >= 1 for f in files)
    assert sum(f.chunks for f in files) >= 4
    assert [f.path.name for f in files[:2]] == ["Security.evtx", "Security-002.evtx"]
    rust, python = [], []
    for f in files:
        assert check_crcs(f.path) == f.chunks
        r, p = read_rust(f.path), read_python(f.path)
        assert len(r) == len(p) == f.records
        rust += r
        python += p
    assert_read_back(written, rust, "rust")
    assert_read_back(written, python, "python")


def test_file_header_counts_chunks_and_next_record_id(tmp_path: Path) -> None:
    files = write_all(tmp_path / "a.evtx", _mixed(900))
    (f,) = files
    head = f.path.read_bytes()[:128]
    first, last, next_id, size, minor, major, block, chunks = struct.unpack_from(
        "<QQQIHHHH", head, 8
    )
    assert (first, last, next_id, size, minor, major, block) == (
        0,
        f.chunks - 1,
        901,
        128,
        1,
        3,
        4096,
    )
    assert chunks == f.chunks >= 2
    assert struct.unpack_from("<I", head, 120)[0] == 0  # clean, not dirty


def test_record_ids_run_on_across_rolled_over_files(tmp_path: Path) -> None:
    files = write_all(tmp_path / "s.evtx", _mixed(2500), max_bytes=4096 + 0x10000)
    assert len(files) > 1
    for a, b in itertools.pairwise(files):
        assert b.first_record_id == a.last_record_id + 1
    assert [r["record_id"] for f in files for r in read_rust(f.path)] == list(range(1, 2501))


def test_a_record_too_large_for_a_chunk_is_refused(tmp_path: Path) -> None:
    big = EventType("P", None, "C", 1, event_data("A", "B"))
    with EvtxWriter(tmp_path / "big.evtx") as w:
        w.write(big, datetime(2025, 1, 1, tzinfo=UTC), ("x", "y"), computer="h")
        with pytest.raises(RecordTooLarge):
            w.write(big, datetime(2025, 1, 1, tzinfo=UTC), ("x" * 20000, "y" * 20000), computer="h")
    assert [r["fields"] for r in read_rust(w.files[0].path)] == [{"A": "x", "B": "y"}]


def test_naive_datetimes_are_refused() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        EvtxWriter(Path(tmp) / "n.evtx") as w,
        pytest.raises(ValueError, match="naive"),
    ):
        w.write(LOGON, datetime(2025, 1, 1), (None,) * 7, computer="h")


def test_python_evtx_rendering_is_the_same_as_record_xml(tmp_path: Path) -> None:
    """The fallback parser's faster python-evtx rendering must equal python-evtx's own xml()."""
    import Evtx.Evtx as PyEvtx

    from tests.evtx_readback import _python_evtx_records

    # python-evtx's own xml() is slow: three one-chunk files (the last one partly full) suffice
    files = write_all(tmp_path / "x.evtx", _mixed(300), max_bytes=4096 + 0x10000)
    assert len(files) == 3
    for f in files:
        with PyEvtx.Evtx(str(f.path)) as fh:
            own = [
                r.xml()
                for c in fh.get_file_header().chunks(include_inactive=True)
                for r in c.records()
            ]
        assert list(_python_evtx_records(f.path)) == own
