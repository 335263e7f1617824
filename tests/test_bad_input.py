"""Bad input: each gives one clear line naming the file and the reason, exit code 2
when nothing usable remains, and every readable record of the other files is still stored.
What is checked is the ingest, so the cases here are left unbuilt (`--no-build`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logonscope.storage import discover as discover_module
from logonscope.storage.case import connect
from logonscope.storage.ingest import ingest
from tests.conftest import EVIDENCE, RDPAUTH, ROOT, evidence, run_cli, run_cli_inline


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A real EVTX file (17 records) to store beside the bad ones."""
    return evidence(f"{RDPAUTH}/RDPAuth_LocalSessionManager.evtx")


@pytest.mark.evidence
def test_file_named_evtx_that_is_not_one(tmp_path: Path, good: Path) -> None:
    fake = tmp_path / "Security.evtx"
    fake.write_text("this is a text file\n")
    result = run_cli_inline("ingest", fake, good, "--case", tmp_path / "c", "--quiet", "--no-build")
    assert result.returncode == 0
    assert f"skipped {fake}: not an EVTX file (no ElfFile signature)" in result.stderr.splitlines()
    assert connect(tmp_path / "c").execute("select count(*) from events").fetchone()[0] == 17


def test_only_bad_input_exits_2(tmp_path: Path) -> None:
    fake = tmp_path / "Security.evtx"
    fake.write_text("nope")
    result = run_cli_inline("ingest", fake, "--case", tmp_path / "c", "--quiet")
    assert result.returncode == 2
    assert "no usable evidence" in result.stderr


@pytest.mark.evidence
def test_empty_file(tmp_path: Path, good: Path) -> None:
    empty = tmp_path / "empty.evtx"
    empty.touch()
    result = run_cli_inline(
        "ingest", empty, good, "--case", tmp_path / "c", "--quiet", "--no-build"
    )
    assert f"skipped {empty}: empty file" in result.stderr.splitlines()
    assert result.returncode == 0


@pytest.mark.evidence
def test_missing_path(tmp_path: Path, good: Path) -> None:
    missing = tmp_path / "nowhere" / "System.evtx"
    result = run_cli_inline(
        "ingest", missing, good, "--case", tmp_path / "c", "--quiet", "--no-build"
    )
    assert f"skipped {missing}: no such file or folder" in result.stderr.splitlines()
    assert result.returncode == 0
    assert run_cli_inline("ingest", missing, "--case", tmp_path / "d", "--quiet").returncode == 2


@pytest.mark.evidence
def test_unreadable_path(tmp_path: Path, good: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.evtx"
    locked.write_bytes(good.read_bytes())
    if os.geteuid() == 0:  # root reads anything: make the OS answer as it would for a user
        real = discover_module.read_head

        def denied(path: Path) -> bytes:
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied")
            return real(path)

        monkeypatch.setattr(discover_module, "read_head", denied)
    else:
        locked.chmod(0)
    report = ingest([locked, good], tmp_path / "c", jobs=1)
    rejected = report.of("rejected")
    assert [(r.source, r.reason) for r in rejected] == [
        (str(locked), "unreadable (Permission denied)")
    ]
    assert report.stored == 17


@pytest.mark.evidence
def test_a_folder_that_is_not_a_case(tmp_path: Path, good: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    result = run_cli_inline("ingest", good, "--case", folder, "--quiet")
    assert result.returncode == 2
    assert (
        f"logonscope: {folder}: not a logonscope case (no case.json) and not empty" in result.stderr
    )
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    query = run_cli_inline("query", "--case", folder, "select 1")
    assert query.returncode == 2 and "not a logonscope case" in query.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert run_cli_inline("ingest", "--case", tmp_path / "c").returncode == 2
    assert (
        run_cli_inline("ingest", tmp_path, "--case", tmp_path / "c", "--jobs", "0").returncode == 2
    )
    assert run_cli_inline("nonsense").returncode == 2
    real = run_cli("nonsense")  # and so does a real `python -m logonscope.tui.cli` process
    assert real.returncode == 2 and "invalid choice" in real.stderr


@pytest.mark.evidence
def test_query_formats(tmp_path: Path, good: Path) -> None:
    ingest([good], tmp_path / "c", jobs=1)
    import json

    sql = "select event_id, count(*) as n, min(time) as first from events group by 1 order by 1"
    as_json = json.loads(
        run_cli_inline("query", "--case", tmp_path / "c", "--format", "json", sql).stdout
    )
    assert as_json[0] == {"event_id": 21, "n": 1, "first": "2021-02-12T12:33:52.704836Z"}
    assert len(as_json) == 10
    lines = run_cli_inline(
        "query", "--case", tmp_path / "c", "--format", "jsonl", sql
    ).stdout.splitlines()
    assert [json.loads(line) for line in lines] == as_json
    csv_out = run_cli_inline(
        "query", "--case", tmp_path / "c", "--format", "csv", sql
    ).stdout.splitlines()
    assert csv_out[0] == "event_id,n,first" and csv_out[1] == "21,1,2021-02-12T12:33:52.704836Z"
    bad = run_cli_inline("query", "--case", tmp_path / "c", "select * from nowhere")
    assert bad.returncode == 2 and "query failed" in bad.stderr


@pytest.mark.evidence
def test_query_output_shows_evidence_strings_as_text(tmp_path: Path, good: Path) -> None:
    ingest([good], tmp_path / "c", jobs=1)
    out = run_cli_inline(
        "query", "--case", tmp_path / "c", "select '[red]x[/red]' || chr(27) || '[2J' as s"
    ).stdout
    assert "[red]x[/red]\\x1b[2J" in out and "\x1b" not in out


@pytest.mark.evidence
def test_kill_9_during_ingest_leaves_the_previous_case_intact(tmp_path: Path) -> None:
    evidence("")
    case = tmp_path / "c"
    ingest([evidence(f"{RDPAUTH}/RDPAuth_LocalSessionManager.evtx")], case, jobs=1)
    for delay in (0.3, 0.8, 1.5):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "logonscope.tui.cli",
                "ingest",
                str(EVIDENCE),
                "--case",
                str(case),
                "--quiet",
                "--jobs",
                "2",
            ],
            cwd=ROOT,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        con = connect(case)  # the case still opens and is self-consistent
        stored = con.execute("select sum(stored) from evidence").fetchone()[0]
        assert con.execute("select count(*) from events").fetchone()[0] == stored
    # the killed ingests ran two jobs; this one checks what they left, not the pool (-1.5 CPU s)
    report = ingest([EVIDENCE], case, jobs=1)
    # 32,442 distinct records evtx reads, and one damaged record only python-evtx reads
    assert connect(case).execute("select count(*) from events").fetchone()[0] == 32443
    assert not (case / ".staging").exists() and report.usable
