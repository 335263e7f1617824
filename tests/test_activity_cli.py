"""`logonscope activity`: SYSTEM service installs of a generated scenario -- the one before
anyone logged on listed as unattributed, the two during the RDP session in it by host+time,
their weak strength shown."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli_inline
from tests.test_sessions_truth import _generate_and_ingest


def test_system_service_installs_by_host_and_time(tmp_path_factory: pytest.TempPathFactory) -> None:
    _, case = _generate_and_ingest(tmp_path_factory, ["system-service"], seed=1)
    out = run_cli_inline("activity", "--case", case, "--unattributed", "--format", "json")
    assert out.returncode == 0, out.stderr
    lost = [r for r in json.loads(out.stdout) if r["event_id"] == 7045]
    assert len(lost) == 1 and lost[0]["session_id"] is None
    assert lost[0]["summary"].startswith("service installed: ")
    assert "\\\\.\\pipe\\" in lost[0]["summary"]

    out = run_cli_inline("activity", "--case", case, "--format", "json")
    assert out.returncode == 0, out.stderr
    placed = [r for r in json.loads(out.stdout) if r["event_id"] == 7045 and r["session_id"]]
    assert len(placed) == 2
    assert {r["confidence"] for r in placed} == {"host+time"}
    assert all(r["match_note"].startswith("weak: ") for r in placed)
    sessions = json.loads(
        run_cli_inline(
            "sessions", "--case", case, "--format", "json", "--user", "svc_backup"
        ).stdout
    )
    (rdp,) = [s for s in sessions if s["logon_type"] == 10]
    assert {r["session_id"] for r in placed} == {rdp["session_id"]}

    table = run_cli_inline("activity", "--case", case, "--unattributed")
    assert table.returncode == 0 and "service installed" in table.stdout
    assert "host+time" not in table.stdout
