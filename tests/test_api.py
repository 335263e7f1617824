"""`logonscope.open_case` for notebooks: the same rows as the command line's JSON, and the
README's example runs as written.

Over the generated demo case (built once per run, tests/tui_support): each API call is
compared with `logonscope ... --format json` given the same filters, value for value, after
turning the frame's datetimes into the CLI's ISO 8601 `Z` text.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_cli_inline
from tests.tui_support import crafted_case, demo_case


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


@pytest.fixture(scope="module")
def case(case_dir: Path) -> Any:
    import logonscope

    with logonscope.open_case(case_dir) as opened:
        yield opened


def _cli(*args: object) -> Any:
    done = run_cli_inline(*args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return utc.isoformat(timespec="microseconds") + "Z"
    raise TypeError(type(value))


def _as_cli(rows: list[dict[str, Any]]) -> Any:
    """Frame rows as the CLI's JSON reads back (times as text, numbers as JSON numbers)."""
    return json.loads(json.dumps(rows, default=_iso))


@functools.cache
def _pick(case: Any) -> dict[str, str]:
    """Values to filter by, from the case itself: a user with an address, that address, a host."""
    ips = case.user_ips().filter(case.user_ips()["src_ip"].is_not_null())
    row = ips.row(0, named=True)
    sessions = case.sessions()
    return {
        "user": row["user"].upper(),  # another spelling: the filter normalises it
        "ip": row["src_ip"],
        "host": sessions["host"][0],
        "since": sessions["start"][sessions.height // 2].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


FILTERS = [
    {},
    {"user": "user"},
    {"ip": "ip"},
    {"host": "host"},
    {"since": "since"},
    {"failed": True, "show_system": True},
]


def _options(case: Any, spec: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(API keyword arguments, CLI options) for one filter spec."""
    picked = _pick(case)
    kwargs: dict[str, Any] = {}
    args: list[str] = []
    for key, value in spec.items():
        if key == "failed":
            kwargs["failed"], args = True, [*args, "--failed"]
        elif key == "show_system":
            kwargs["show_system"], args = True, [*args, "--all"]
        else:
            real = picked[value] if value in picked else value
            kwargs[key], args = real, [*args, f"--{key}", real]
    return kwargs, args


@pytest.mark.parametrize("spec", FILTERS, ids=lambda s: "+".join(s) or "none")
def test_sessions_users_and_user_ips_equal_the_cli_json_for_the_same_filters(
    case: Any, case_dir: Path, spec: dict[str, Any]
) -> None:
    kwargs, args = _options(case, spec)
    sessions = case.sessions(**kwargs)
    assert sessions.height > 0  # a filter that selects nothing would prove nothing
    assert _as_cli(sessions.to_dicts()) == _cli("sessions", "--case", case_dir, *args)
    assert _as_cli(case.users(**kwargs).to_dicts()) == _cli("users", "--case", case_dir, *args)
    assert _as_cli(case.user_ips(**kwargs).to_dicts()) == _cli(
        "user-ips", "--case", case_dir, *args
    )


def test_sessions_without_an_address_equal_the_cli_json(tmp_path_factory: Any) -> None:
    import logonscope

    crafted = crafted_case(tmp_path_factory)  # alice: network logons without an address
    with logonscope.open_case(crafted) as case:
        none = case.sessions(ip="-")
        assert none.height > 0 and none["src_ip"].null_count() == none.height
        assert _as_cli(none.to_dicts()) == _cli("sessions", "--case", crafted, "--ip", "-")
        ips = case.user_ips(user="alice", ip="-")
        assert _as_cli(ips.to_dicts()) == _cli(
            "user-ips", "--case", crafted, "--user", "alice", "--ip", "-"
        )


def test_a_session_by_id_equals_the_cli_json_with_its_sources_and_activity(
    case: Any, case_dir: Path
) -> None:
    import polars as pl

    busy = case.sessions().filter(pl.col("n_activity") > 0)
    session_id = busy["session_id"][0]
    detail = case.session(session_id)
    expected = _cli("session", session_id, "--case", case_dir)
    sources, activity = expected.pop("sources"), expected.pop("activity")
    context = {key: expected.pop(key) for key in list(detail.context)}
    assert set(context) >= {"host_names", "logon_session_ids", "desktop_session_ids"}
    assert detail.context == context
    assert detail.row.height == 1 and _as_cli(detail.row.to_dicts()) == [expected]
    assert detail["session_id"] == session_id
    assert _as_cli(detail.sources.to_dicts()) == sources and len(sources) > 1
    assert _as_cli(detail.activity.to_dicts()) == activity and len(activity) > 0
    with pytest.raises(KeyError):
        case.session("no-such-session")


def test_frames_are_polars_with_utc_times_and_sql_takes_parameters(case: Any) -> None:
    import polars as pl
    import pyarrow as pa

    sessions = case.sessions()
    assert isinstance(sessions, pl.DataFrame)
    assert sessions.schema["start"] == pl.Datetime("us", "UTC")
    # strings leave DuckDB in Polars' own layout: from_arrow shares the buffers, copies nothing
    user = case.con.sql("SELECT user FROM sessions").to_arrow_table().schema.field(0)
    assert pa.types.is_string_view(user.type)
    host = sessions["host_key"][0]
    counted = case.sql("SELECT count(*) AS n FROM sessions WHERE host_key = ?", [host])
    assert counted["n"][0] == case.sessions(host=host, show_system=True).height
    middle = sessions["start"][sessions.height // 2]  # aware, UTC
    later = case.sessions(since=middle.replace(tzinfo=None))  # naive: UTC, as on the CLI
    assert later.equals(case.sessions(since=middle.isoformat())) and 0 < later.height
    assert case.sessions(since=middle.date()).height >= later.height
    with pytest.raises(ValueError, match="since is after until"):
        case.sessions(since="2025-03-04", until="2025-03-03")
    with pytest.raises(ValueError, match="since"):
        case.sessions(since="yesterday")


def test_importing_logonscope_loads_neither_duckdb_nor_polars() -> None:
    code = (
        "import sys, logonscope, logonscope.storage; "
        "print(sorted(m for m in ('duckdb', 'polars', 'logonscope.analysis') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_stale_case_is_refused_without_build_and_nothing_is_built(tmp_path: Path) -> None:
    import logonscope
    from logonscope.storage.case import CaseError, create_or_open

    root = create_or_open(tmp_path / "empty")
    with pytest.raises(CaseError, match="not built"):
        logonscope.open_case(root, build=False)
    assert not (root / "derived").exists()  # nothing built
    with pytest.raises(CaseError, match="no such case"):
        logonscope.open_case(tmp_path / "missing")


def readme_example() -> str:
    """The first Python code block of the README's "Python API" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "no python block in the README's Python API section"
    return found.group(1)


def test_the_readme_example_runs_against_a_generated_case(
    case: Any, case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    (tmp_path / "logonscope-case").symlink_to(case_dir, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    scope: dict[str, Any] = {}
    exec(compile(readme_example(), "README.md", "exec"), scope)
    assert scope["alice"].height > 0 and set(scope["alice"]["user_key"]) == {"alice"}
    assert scope["detail"]["user"].lower() == "alice"
    assert scope["per_host"]["n"].sum() == case.sql("SELECT count(*) AS n FROM sessions")["n"][0]
    assert "alice" in capsys.readouterr().out
