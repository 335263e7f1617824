"""7z archives as evidence: members kept by content, one evidence row per archive member,
nesting with zips both ways, passwords, and the same bomb caps as zips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import py7zr
import pytest

from logonscope.storage import archives
from logonscope.storage.case import connect
from logonscope.storage.ingest import ingest
from tests.hostile_files import logons


def _7z(path: Path, members: dict[str, bytes], password: str | None = None) -> Path:
    with py7zr.SevenZipFile(path, "w", password=password) as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return path


def test_two_7z_archives_with_the_same_member_name_are_two_pieces_of_evidence(
    tmp_path: Path,
) -> None:
    a = _7z(
        tmp_path / "a.7z", {"Logs/Security.evtx": logons(tmp_path / "a", 7, "HOSTA").read_bytes()}
    )
    b = _7z(
        tmp_path / "b.7z", {"Logs/Security.evtx": logons(tmp_path / "b", 9, "HOSTB").read_bytes()}
    )
    report = ingest([a, b], tmp_path / "c", jobs=1)
    rows = connect(tmp_path / "c").execute("select path, hosts, stored from evidence order by 1")
    assert rows.fetchall() == [
        (f"{a}!Logs/Security.evtx", ["HOSTA"], 7),
        (f"{b}!Logs/Security.evtx", ["HOSTB"], 9),
    ]
    assert report.stored == 16


def test_a_7z_in_a_zip_and_a_zip_in_a_7z_are_opened(tmp_path: Path) -> None:
    inner_zip = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner_zip, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Security.evtx", logons(tmp_path / "s1", 4, "ZIPPED").read_bytes())
    outer_7z = _7z(tmp_path / "outer.7z", {"inner.zip": inner_zip.read_bytes(), "notes.txt": b"hi"})
    inner_7z = _7z(
        tmp_path / "inner.7z", {"Security.evtx": logons(tmp_path / "s2", 5, "SEVEN").read_bytes()}
    )
    outer_zip = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer_zip, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inner.7z", inner_7z.read_bytes())
    report = ingest([outer_7z, outer_zip], tmp_path / "c", jobs=1)
    assert sorted((f.source, f.stored) for f in report.files if f.status == "stored") == [
        (f"{outer_7z}!inner.zip!Security.evtx", 4),
        (f"{outer_zip}!inner.7z!Security.evtx", 5),
    ]
    assert report.of("rejected") == []  # notes.txt is not evidence and not claimed to be


def test_an_encrypted_7z_opens_with_password(tmp_path: Path) -> None:
    log = logons(tmp_path / "Security.evtx", 6).read_bytes()
    locked = _7z(tmp_path / "locked.7z", {"Security.evtx": log}, password="infected")
    without = ingest([locked], tmp_path / "c1", jobs=1)
    assert [r.reason for r in without.of("rejected")] == [
        "unreadable 7z archive (encrypted; give --password)"
    ]
    wrong = ingest([locked], tmp_path / "c2", jobs=1, password="nope")
    assert [r.reason.split(" (")[0] for r in wrong.of("rejected")] == ["unreadable 7z archive"]
    right = ingest([locked], tmp_path / "c3", jobs=1, password="infected")
    assert right.stored == 6


def test_a_7z_member_that_claims_evtx_without_the_signature_is_reported(tmp_path: Path) -> None:
    archive = _7z(tmp_path / "a.7z", {"System.evtx": b"not a log at all", "x.evtx": b""})
    report = ingest([archive], tmp_path / "c", jobs=1)
    assert sorted((r.source, r.reason) for r in report.of("rejected")) == [
        (f"{archive}!System.evtx", "not an EVTX file (no ElfFile signature)"),
        (f"{archive}!x.evtx", "not an EVTX file (no ElfFile signature)"),
    ]


def test_a_7z_bomb_is_refused_and_the_rest_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "RATIO_FLOOR_BYTES", 1 << 20)  # the real floor is 64 MiB
    good = logons(tmp_path / "s", 3).read_bytes()
    bomb = _7z(
        tmp_path / "bomb.7z", {"big.evtx": b"ElfFile\x00" + bytes(20 << 20), "Security.evtx": good}
    )
    report = ingest([bomb], tmp_path / "c", jobs=1)
    ((source, reason),) = [(f.source, f.reason) for f in report.of("rejected")]
    assert source == f"{bomb}!big.evtx"
    assert reason.startswith("member expands more than 200x")
    assert reason.endswith("not extracted (possible archive bomb)")
    assert report.stored == 3
    assert list((tmp_path / "c").rglob("*.evtx")) == []  # staging cleaned


def test_a_truncated_7z_is_one_line_and_the_other_inputs_are_kept(tmp_path: Path) -> None:
    whole = _7z(tmp_path / "whole.7z", {"Security.evtx": logons(tmp_path / "s", 4).read_bytes()})
    cut = tmp_path / "cut.7z"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    report = ingest([cut, whole], tmp_path / "c", jobs=1)
    ((source, reason),) = [(r.source, r.reason) for r in report.of("rejected")]
    assert source == str(cut)
    assert reason.startswith("unreadable 7z archive (")
    assert "\n" not in reason
    assert report.stored == 4
