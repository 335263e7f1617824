"""Hostile and broken evidence at the storage layer: one bad record, chunk, member or path
never costs the rest, never hangs, and the counts say what was recovered and skipped."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from logonscope.storage import archives
from logonscope.storage.case import connect
from logonscope.storage.evtx_writer import EvtxWriter
from logonscope.storage.ingest import ingest
from logonscope.storage.scenarios import catalog
from tests.conftest import ROOT, run_cli, run_cli_inline
from tests.hostile_files import T0, logon_values, logons, planted_date, quoted_user_data


def _count(case: Path, sql: str = "select count(*) from events") -> int:
    return connect(case).execute(sql).fetchone()[0]


def test_a_record_with_malformed_json_costs_only_itself(tmp_path: Path) -> None:
    quoted = quoted_user_data(tmp_path / "quoted.evtx")
    others = [logons(tmp_path / f"s{i}.evtx", 50, host=f"H{i}") for i in range(3)]
    # one job: the worker pool is not what is checked (its own tests pass --jobs 2)
    result = run_cli_inline(
        "ingest", quoted, *others, "--case", tmp_path / "c", "--quiet", "--no-build", "--jobs", "1"
    )
    assert result.returncode == 0, result.stderr
    assert _count(tmp_path / "c") == 160
    row = (
        connect(tmp_path / "c")
        .execute(
            "select host, channel, event_id, record_id, data from events where channel = 'Application'"
        )
        .fetchone()
    )
    assert row[:4] == ("HOST2", "Application", 1, 6)
    assert 'Ev\\"il' in row[4]  # the raw text is kept for the analyst
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning")]
    assert warning == [
        f"warning {quoted}: 0 records skipped; 1 records with malformed JSON from evtx stored "
        "with their System fields and raw text (data.unparsed_json)"
    ]
    assert not (tmp_path / "c" / ".staging").exists()


def test_a_planted_out_of_range_date_hides_nothing(tmp_path: Path) -> None:
    planted = planted_date(tmp_path / "planted.evtx")
    report = ingest([planted], tmp_path / "c", jobs=1)
    (result,) = report.files
    assert (result.records, result.stored, result.skipped) == (100, 100, 0)
    assert result.parser == "evtx+python-evtx"
    assert "chunk 0: evtx read 0 of 100 records; python-evtx recovered 100, 0 unreadable" in (
        result.errors
    )
    assert _count(tmp_path / "c", "select count(distinct target_user) from events") == 100


def test_a_symlink_loop_finishes_in_seconds(tmp_path: Path) -> None:
    tree = tmp_path / "L"
    (tree / "sub").mkdir(parents=True)
    logons(tree / "sub" / "Security.evtx", 5)
    (tree / "self").symlink_to(".")
    (tree / "up").symlink_to("..")
    (tree / "sub" / "back").symlink_to(tree)
    started = time.monotonic()
    result = run_cli_inline("ingest", tree, "--case", tmp_path / "c", "--quiet", "--no-build")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    assert _count(tmp_path / "c") == 5
    assert _count(tmp_path / "c", "select count(*) from evidence") == 1


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_two_zips_with_the_same_member_name_are_two_pieces_of_evidence(tmp_path: Path) -> None:
    a = _zip(tmp_path / "a.zip", {"Security.evtx": logons(tmp_path / "a", 7, "HOSTA").read_bytes()})
    b = _zip(tmp_path / "b.zip", {"Security.evtx": logons(tmp_path / "b", 9, "HOSTB").read_bytes()})
    report = ingest([a, b], tmp_path / "c", jobs=1)
    rows = connect(tmp_path / "c").execute("select path, hosts, stored from evidence order by 1")
    assert rows.fetchall() == [
        (f"{a}!Security.evtx", ["HOSTA"], 7),
        (f"{b}!Security.evtx", ["HOSTB"], 9),
    ]
    assert report.stored == 16


def test_a_zip_inside_a_zip_is_opened_to_depth_3(tmp_path: Path) -> None:
    log = logons(tmp_path / "Security.evtx", 4).read_bytes()
    inner = _zip(tmp_path / "inner.zip", {"Security.evtx": log})
    middle = _zip(tmp_path / "middle.zip", {"inner.zip": inner.read_bytes()})
    outer = _zip(tmp_path / "outer.zip", {"middle.zip": middle.read_bytes()})
    too_deep = _zip(tmp_path / "deep.zip", {"outer.zip": outer.read_bytes()})
    report = ingest([outer, too_deep], tmp_path / "c", jobs=1)
    assert [(f.source, f.status) for f in report.files if f.status == "stored"] == [
        (f"{outer}!middle.zip!inner.zip!Security.evtx", "stored")
    ]
    assert [(f.source, f.reason) for f in report.of("rejected")] == [
        (
            f"{too_deep}!outer.zip!middle.zip!inner.zip",
            "archive nested deeper than 3 levels, not opened",
        )
    ]


def test_a_fifo_in_a_folder_is_skipped_with_a_line(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    logons(folder / "Security.evtx", 3)
    os.mkfifo(folder / "pipe.evtx")
    result = run_cli_inline("ingest", folder, "--case", tmp_path / "c", "--quiet", "--no-build")
    assert result.returncode == 0
    assert f"skipped {folder / 'pipe.evtx'}: not a regular file (a FIFO), skipped" in (
        result.stderr.splitlines()
    )
    assert _count(tmp_path / "c") == 3


def test_a_zip_bomb_is_refused_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "RATIO_FLOOR_BYTES", 1 << 20)  # the real floor is 64 MiB
    bomb = _zip(tmp_path / "bomb.zip", {"big.evtx": b"ElfFile\x00" + bytes(20 << 20)})
    good = _zip(tmp_path / "good.zip", {"Security.evtx": logons(tmp_path / "s", 3).read_bytes()})
    report = ingest([bomb, good], tmp_path / "c", jobs=1)
    ((source, reason),) = [(f.source, f.reason) for f in report.of("rejected")]
    assert source == f"{bomb}!big.evtx"
    assert reason.startswith("member expands more than 200x its compressed size")
    assert reason.endswith("not extracted (possible zip bomb)")
    assert report.stored == 3
    staged = list((tmp_path / "c").rglob("*.evtx"))
    assert staged == []  # staging cleaned, the bomb never fully written


def test_an_encrypted_zip_opens_with_password(tmp_path: Path) -> None:
    logons(tmp_path / "Security.evtx", 6)
    subprocess.run(
        ["zip", "-q", "-P", "infected", "cylr.zip", "Security.evtx"], cwd=tmp_path, check=True
    )
    cylr = tmp_path / "cylr.zip"
    without = ingest([cylr], tmp_path / "c1", jobs=1)
    assert [r.reason.split(":")[0] for r in without.of("rejected")] == [
        "unreadable zip member (encrypted; give --password"
    ]
    result = run_cli_inline(
        "ingest", cylr, "--case", tmp_path / "c2", "--password", "infected", "--quiet"
    )
    assert result.returncode == 0, result.stderr
    assert _count(tmp_path / "c2") == 6


def _collection(host: str, root: Path) -> dict[str, bytes]:
    """The logs of one host, as (path under C:, bytes)."""
    lsm = catalog.FILE_NAMES[catalog.LSM]
    sec = logons(root / f"{host}-sec.evtx", 5, host=f"{host}.corp.local")
    with EvtxWriter(root / f"{host}-lsm.evtx") as w:
        for i in range(3):
            w.write(catalog.L21, T0, [f"CORP\\u{i}", 2, "10.0.0.9"], computer=f"{host}.corp.local")
    return {
        "Windows/System32/winevt/Logs/Security.evtx": sec.read_bytes(),
        f"Windows/System32/winevt/Logs/{lsm}": (root / f"{host}-lsm.evtx").read_bytes(),
    }


def test_a_velociraptor_offline_collection_ingests_with_hosts_and_channels(
    tmp_path: Path,
) -> None:
    members = {
        "uploads/auto/C%3A/" + name.replace("%", "%25"): data
        for name, data in _collection("WS07", tmp_path).items()
    }
    members["client_info.json"] = json.dumps(
        {"Hostname": "WS07", "Fqdn": "ws07.corp.local"}
    ).encode()
    members["uploads.json"] = b"[]"
    collection = _zip(tmp_path / "Collection-WS07-2024-01-01T00_00_00Z.zip", members)
    report = ingest([collection], tmp_path / "c", jobs=1)
    assert report.of("rejected") == []
    rows = connect(tmp_path / "c").execute(
        "select path, collected_from, hosts, stored from evidence order by path"
    )
    assert rows.fetchall() == [
        (
            f"{collection}!C:/Windows/System32/winevt/Logs/"
            "Microsoft-Windows-TerminalServices-LocalSessionManager%4Operational.evtx",
            "WS07",
            ["WS07.corp.local"],
            3,
        ),
        (
            f"{collection}!C:/Windows/System32/winevt/Logs/Security.evtx",
            "WS07",
            ["WS07.corp.local"],
            5,
        ),
    ]
    channels = connect(tmp_path / "c").execute(
        "select channel, host_key, count(*) from events group by all order by 1"
    )
    assert channels.fetchall() == [(catalog.LSM, "ws07", 3), ("Security", "ws07", 5)]


def test_a_kape_tree_ingests_with_hosts_and_channels(tmp_path: Path) -> None:
    kape = tmp_path / "kape"
    for host in ("SRV01", "WS02"):
        for name, data in _collection(host, tmp_path).items():
            target = kape / host / "C" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    # one job: the tree walk is checked, not the worker pool
    result = run_cli_inline(
        "ingest", kape, "--case", tmp_path / "c", "--quiet", "--no-build", "--jobs", "1"
    )
    assert result.returncode == 0, result.stderr
    rows = connect(tmp_path / "c").execute(
        "select host_key, channel, count(*) from events group by all order by 1, 2"
    )
    assert rows.fetchall() == [
        ("srv01", catalog.LSM, 3),
        ("srv01", "Security", 5),
        ("ws02", catalog.LSM, 3),
        ("ws02", "Security", 5),
    ]


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is `pid`."""
    out = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat_file.parent.name))
    return out


def _cmdline(pid: int) -> bytes:
    """A process's command line, or nothing once it has gone (it may exit while we look)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_pool_workers_die_with_a_killed_ingest(tmp_path: Path) -> None:
    for i in range(4):
        logons(tmp_path / "in" / f"h{i}" / "Security.evtx", 3000, host=f"H{i}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "logonscope.tui.cli", "ingest", str(tmp_path / "in")]
        + ["--case", str(tmp_path / "c"), "--quiet", "--jobs", "2", "--no-build"],
        cwd=ROOT,
    )
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        workers = [pid for pid in _children(proc.pid) if b"spawn_main" in _cmdline(pid)]
        if len(workers) == 2:
            break
        time.sleep(0.05)
    assert len(workers) == 2, "the ingest finished before its workers were seen"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # A worker seen while still importing arms its lifeline only when its initializer runs (it
    # then sees the parent gone and exits before any task): on a loaded machine that can take
    # seconds, so wait for it, but not forever.
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in workers if _alive(pid)] == []


@contextlib.contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A small tmpfs at `path` (root only): a real read-only or full file system."""
    path.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mount.stderr.decode().strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_read_only_case_is_one_line_and_exit_1(tmp_path: Path) -> None:
    first, second = logons(tmp_path / "a.evtx", 5), logons(tmp_path / "b.evtx", 5, host="B")
    with _tmpfs(tmp_path / "m", "size=8m") as mount:
        # the setup ingest runs in-process; the refused one below is a real process
        assert run_cli_inline("ingest", first, "--case", mount / "c", "--quiet").returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        line = _one_error_line(run_cli("ingest", second, "--case", mount / "c", "--quiet"))
        assert line == f"logonscope: {mount / 'c' / '.lock'}: Read-only file system"
        assert _count(mount / "c") == 5


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_new_case_in_a_read_only_folder_is_one_line_and_exit_1(tmp_path: Path) -> None:
    log = logons(tmp_path / "a.evtx", 5)
    with _tmpfs(tmp_path / "m", "size=1m,ro") as mount:
        line = _one_error_line(run_cli("ingest", log, "--case", mount / "new", "--quiet"))
        assert line == f"logonscope: {mount / 'new'}: Read-only file system"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_disk_full_is_one_line_exit_1_and_staging_cleaned(tmp_path: Path) -> None:
    logs = [logons(tmp_path / f"s{i}.evtx", 4000, host=f"H{i}") for i in range(3)]
    with _tmpfs(tmp_path / "m", "size=256k") as mount:
        result = run_cli("ingest", *logs, "--case", mount / "c", "--quiet", "--jobs", "1")
        line = _one_error_line(result)
        assert line.startswith(f"logonscope: {mount / 'c'}") and "No space left on device" in line
        assert not (mount / "c" / ".staging").exists()


def test_an_event_record_id_of_2_63_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "big.evtx"
    with EvtxWriter(path) as w:
        w.write(catalog.S4624, T0, logon_values(1), computer="H", record_id=2**63 + 5)
        w.write(catalog.S4624, T0, logon_values(2), computer="H", record_id=7)
    ingest([path], tmp_path / "c", jobs=1)
    rows = connect(tmp_path / "c").execute("select record_id from events order by target_user")
    # the 64-bit pattern is kept: read it back unsigned with `record_id & 0xFFFFFFFFFFFFFFFF`
    assert [r[0] & 0xFFFFFFFFFFFFFFFF for r in rows.fetchall()] == [2**63 + 5, 7]


def test_a_panic_in_the_fast_parser_falls_back_to_python_evtx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evtx

    from logonscope.storage import parse

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    real = evtx.PyEvtxParser

    class Panicking:
        def __init__(self, path: str, **kwargs: object) -> None:
            self._records = real(path, **kwargs).records_json()

        def records_json(self) -> Iterator[dict]:
            yield next(self._records)
            yield next(self._records)
            raise PanicException("index out of bounds")

    monkeypatch.setattr(parse.evtx, "PyEvtxParser", Panicking)
    report = ingest([logons(tmp_path / "s.evtx", 40)], tmp_path / "c", jobs=1)
    (result,) = report.files
    assert (result.records, result.stored, result.skipped) == (40, 40, 0)
    assert "chunk 0: evtx read 2 of 40 records; python-evtx recovered 38, 0 unreadable" in (
        result.errors
    )
    assert "evtx stopped: PanicException: index out of bounds" in result.errors


_CRASHER = """
import builtins, multiprocessing, os, signal
_open = builtins.open
def _open_or_crash(file, *args, **kwargs):
    name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else ""
    if str(name).endswith("crash-me.evtx") and multiprocessing.parent_process():  # workers
        os.kill(os.getpid(), signal.SIGSEGV)
    return _open(file, *args, **kwargs)
builtins.open = _open_or_crash
"""


def test_a_parser_crash_in_a_worker_costs_only_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed by SIGSEGV while reading one file (as a native parser crash would).

    The command runs in this process; its spawned workers start with the hook on their path
    (the environment they inherit), so only they crash."""
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(_CRASHER)
    folder = tmp_path / "in"
    crash = logons(folder / "crash-me.evtx", 10, host="BAD")
    for i in range(3):
        logons(folder / f"ok{i}.evtx", 20, host=f"H{i}")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "hook"))
    result = run_cli_inline(
        "ingest", folder, "--case", tmp_path / "c", "--quiet", "--jobs", "2", "--no-build"
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"skipped {crash}: the parser crashed on this file (its worker process died); "
        "nothing stored" in result.stderr.splitlines()
    )
    assert _count(tmp_path / "c") == 60


def test_a_damaged_file_or_chunk_signature_does_not_cost_the_records(tmp_path: Path) -> None:
    data = bytearray(logons(tmp_path / "s.evtx", 300).read_bytes())
    data[2] ^= 0x10  # "ElfFile" -> "ElVile": evtx refuses the file, python-evtx reads it
    data[0x1000 + 3] ^= 0x01  # and chunk 0's signature is off by one bit
    damaged = tmp_path / "damaged.evtx"
    damaged.write_bytes(bytes(data))
    report = ingest([tmp_path / "damaged.evtx"], tmp_path / "c", jobs=1)
    (result,) = report.files
    assert (result.status, result.stored, result.skipped) == ("stored", 300, 0)
    assert result.parser == "python-evtx"


def test_a_logon_type_of_2_32_minus_1_is_kept_in_events_and_sessions(tmp_path: Path) -> None:
    path = tmp_path / "odd.evtx"
    with EvtxWriter(path) as w:
        w.write(catalog.S4624, T0, logon_values(1, logon_type=2**32 - 1), computer="H")
        w.write(catalog.S4624, T0, logon_values(2, logon_type=3), computer="H")
    ingest([path], tmp_path / "c", jobs=1)
    events = connect(tmp_path / "c").execute("select logon_type from events order by target_user")
    assert [r[0] for r in events.fetchall()] == [2**32 - 1, 3]
    from logonscope.analysis.build import build

    build(tmp_path / "c")
    sessions = connect(tmp_path / "c").execute("select user, logon_type from sessions order by 1")
    assert sessions.fetchall() == [("u1", 2**32 - 1), ("u2", 3)]


def test_cancel_stops_the_folder_walk_before_anything_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logonscope.storage import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "PULSE_SECONDS", 0.0)
    tree = tmp_path / "tree"
    for i in range(50):
        logons(tree / f"d{i}" / "Security.evtx", 2, host=f"H{i}")
    stages: list[str] = []

    class Stop(Exception):
        pass

    def progress(p: object) -> None:
        stages.append(p.stage)  # type: ignore[attr-defined]
        if len(stages) == 5:
            raise Stop  # what the app's Esc does

    with pytest.raises(Stop):
        ingest([tree], tmp_path / "c", jobs=1, progress=progress)
    assert stages == ["discover"] * 5  # stopped during the walk, before any file was read
    assert not (tmp_path / "c" / ".staging").exists()
    assert _count(tmp_path / "c", "select count(*) from evidence") == 0


def test_a_nul_inside_a_string_is_kept_whole_by_the_python_parser(tmp_path: Path) -> None:
    """The fast parser (evtx 0.14) ends a string at a NUL; `--parser python-evtx` keeps it."""
    path = tmp_path / "nul.evtx"
    with EvtxWriter(path) as w:
        w.write(catalog.S4624, T0, logon_values(1, user="evil\x00hidden"), computer="H")
    ingest([path], tmp_path / "fast", jobs=1)
    ingest([path], tmp_path / "whole", jobs=1, parser="python-evtx")
    assert _count(tmp_path / "fast", "select target_user from events") == "evil"
    assert _count(tmp_path / "whole", "select target_user from events") == "evil\x00hidden"
