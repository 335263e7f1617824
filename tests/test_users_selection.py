"""`users` / `user-ips` with only `--user` or `--ip`: the selection applies (it used to be
dropped when the prebuilt summary was read). A small generated case, no real evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli_inline
from tests.evtx_cases import four_logons_case


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return four_logons_case(tmp_path_factory)  # the run's shared case: only read here


def _json(*args: object) -> list[dict]:
    done = run_cli_inline(*args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_users_with_only_a_user_or_an_ip_selects_them(case: Path) -> None:
    everyone = _json("users", "--case", case)
    assert {u["user_key"] for u in everyone} == {"alice", "bob"}
    (alice,) = _json("users", "--case", case, "--user", "CORP\\Alice")
    assert alice["user_key"] == "alice" and alice["sessions"] == 2
    from_ip = _json("users", "--case", case, "--ip", "198.51.100.7")
    assert {u["user_key"]: u["sessions"] for u in from_ip} == {"alice": 1, "bob": 2}
    assert _json("users", "--case", case, "--user", "nobody") == []
    ips = _json("user-ips", "--case", case, "--ip", "203.0.113.10")
    assert [(r["user_key"], r["src_ip"]) for r in ips] == [("alice", "203.0.113.10")]
