"""Every reader sees a built case; builds are serialised and bounded in memory.

- `query` over a derived table of a case ingested with `--no-build` builds it first and
  answers what a fully ingested case answers; SQL over `events`/`evidence` never builds;
- concurrent builders of one case queue on its lock and all answer the same;
- a build under a small `--memory` (and split into parallel per-host tasks) writes the same
  derived tables as an unbounded one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cases import ingested_once
from tests.conftest import ROOT, run_cli_inline
from tests.tui_support import demo_case, evidence_of

DERIVED_VIEWS = ("sessions", "session_sources", "activity", "users", "user_ips")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(evidence folder, an ingested but not built case) of the generator's default set (the
    demo's evidence): both made once per run, whichever worker asks first; tests copy the case."""
    evidence = evidence_of(demo_case(tmp_path_factory))
    unbuilt = ingested_once(tmp_path_factory, "demo-unbuilt", [evidence])
    assert not (unbuilt / "derived").exists()
    return evidence, unbuilt


@pytest.fixture(scope="module")
def built(generated: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same evidence built without a memory limit (the shared demo case): what every
    reader must agree with."""
    return demo_case(tmp_path_factory)


def _copy(case: Path, target: Path) -> Path:
    shutil.copytree(case, target)
    return target


def _query(case: Path, sql: str, *extra: str) -> tuple[list[dict], str]:
    result = run_cli_inline("query", "--case", case, "--format", "json", *extra, sql)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def _derived(case: Path) -> dict[str, pa.Table]:
    """Each derived table, rows in a canonical order (list columns excluded from the key)."""
    tables = {}
    for path in sorted((case / "derived").glob("*.parquet")):
        if path.stem == "build_info":  # its build time differs, by design
            continue
        table = pq.read_table(path)
        keys = [(f.name, "ascending") for f in table.schema if not pa.types.is_list(f.type)]
        tables[path.stem] = table.sort_by(keys) if table.num_rows else table
    return tables


def test_query_over_each_derived_view_builds_an_unbuilt_case_first(
    generated: tuple[Path, Path], built: Path, tmp_path: Path
) -> None:
    evidence, _ = generated
    full, lazy = built, tmp_path / "lazy"
    # one job: the ingest is not what is checked, and two would spawn a pool of interpreters
    result = run_cli_inline(
        "ingest", evidence, "--case", lazy, "--quiet", "--no-build", "--jobs", "1"
    )
    assert result.returncode == 0 and not (lazy / "derived").exists()
    for number, view in enumerate(DERIVED_VIEWS):
        sql = f"SELECT * FROM {view} ORDER BY ALL"
        expected, _ = _query(full, sql)
        got, said = _query(lazy, sql)
        assert expected, f"{view} is empty: the comparison would prove nothing"
        assert got == expected, view
        # the first read builds (with the progress lines `users` prints), the others reuse it
        assert ("correlating sessions for 3 host(s)" in said) == (number == 0), (view, said)


def test_query_over_events_and_evidence_alone_does_not_build(
    generated: tuple[Path, Path], tmp_path: Path
) -> None:
    case = _copy(generated[1], tmp_path / "case")
    rows, said = _query(
        case,
        "SELECT count(*) AS n, count(DISTINCT v.path) AS files FROM events e "
        "JOIN evidence v ON v.sha256 = e.evidence_sha256",
    )
    assert rows[0]["n"] > 1000 and rows[0]["files"] == 15
    assert said == "" and not (case / "derived").exists()
    # the same case still builds when a derived view is named, even in a subquery
    rows, said = _query(case, "SELECT (SELECT count(*) FROM Sessions) AS n")
    assert rows[0]["n"] > 0 and "correlating sessions" in said


def test_reads_derived_asks_duckdb_which_tables_the_sql_names() -> None:
    from logonscope.analysis.build import reads_derived

    assert reads_derived("WITH x AS (SELECT * FROM user_ips) SELECT * FROM events, x")
    assert reads_derived("select 1; describe main.SESSIONS")
    assert not reads_derived("SELECT 'sessions' AS sessions FROM events, evidence")
    assert not reads_derived("SELECT * FROM events WHERE channel = 'activity' -- users")
    assert not reads_derived("selec broken")


def test_three_concurrent_builds_of_an_unbuilt_case_all_succeed_alike(
    generated: tuple[Path, Path], tmp_path: Path
) -> None:
    case = _copy(generated[1], tmp_path / "case")
    command = [sys.executable, "-m", "logonscope.tui.cli", "sessions", "--case", str(case)]
    command += ["--all", "--format", "json"]
    procs = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    outcomes = [(p.returncode, *p.communicate(timeout=600)) for p in procs]
    outcomes = [(p.returncode, out, err) for p, (_, out, err) in zip(procs, outcomes, strict=True)]
    for code, _out, err in outcomes:
        assert code == 0, err.decode()
    outputs = {out for _code, out, _err in outcomes}
    assert len(outputs) == 1 and len(json.loads(outputs.pop())) > 100
    builders = [err for _c, _o, err in outcomes if b"correlating sessions" in err]
    assert len(builders) == 1  # the others waited for the lock and found the case built
    derived = sorted(p.name for p in (case / "derived").iterdir())
    assert not [name for name in derived if name.endswith(".tmp")]
    assert [p for p in (case / ".spill").rglob("*") if p.is_file()] == []  # nothing spilled left


def test_a_build_under_200mb_writes_the_same_tables_as_without_a_limit(
    generated: tuple[Path, Path], built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logonscope.analysis.build import build

    free = built
    bounded = _copy(generated[1], tmp_path / "bounded")
    result = run_cli_inline("users", "--case", bounded, "--memory", "200MB")
    assert result.returncode == 0, result.stderr
    assert "correlating sessions for 3 host(s)" in result.stderr
    expected = _derived(free)
    assert set(expected) >= {*DERIVED_VIEWS, "host_aliases", "users_nonsystem"}
    got = _derived(bounded)
    assert got.keys() == expected.keys()
    for name, table in expected.items():
        assert got[name].equals(table), name
    # split into one task per host, two worker processes sharing the 200 MB
    monkeypatch.setenv("LOGONSCOPE_MEMORY", str(200 << 20))
    split = _copy(generated[1], tmp_path / "split")
    report = build(split, jobs=2, task_events=1)
    assert report.sessions == expected["sessions"].num_rows
    got = _derived(split)
    for name, table in expected.items():
        assert got[name].equals(table), name
    assert [p for p in (split / ".spill").rglob("*") if p.is_file()] == []


def test_every_connection_is_bounded_by_the_budget_and_spills_inside_the_case(
    generated: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from logonscope.storage import connection
    from logonscope.storage.case import connect

    monkeypatch.setenv(connection.ENV, str(200 << 20))
    case = _copy(generated[1], tmp_path / "case")
    con = connect(case, share=2)
    limit, spill = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchall()[0]
    assert limit in ("100.0 MiB", "95.3 MiB", "100.0 MB")
    assert case / connection.SPILL in Path(spill).parents and Path(spill).is_dir()
    connection.close(con)
    assert not Path(spill).exists()
    monkeypatch.delenv(connection.ENV)
    assert connection.memory_budget() == 1 << 30
    assert connection.parse_size("1.5GB") == 3 << 29 and connection.parse_size("200m") == 200 << 20
    with pytest.raises(ValueError):
        connection.parse_size("lots")
    assert os.environ.get(connection.ENV) is None


def test_running_out_of_the_memory_budget_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's out-of-memory error (raised in a worker and sent back) is a setting to
    change, said in one line with what to change, not a traceback."""
    import duckdb

    from logonscope.storage import ingest as ingest_module

    def out_of_memory(*_args: object, **_kwargs: object) -> None:
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block\nPossible")

    monkeypatch.setattr(ingest_module, "ingest", out_of_memory)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    result = run_cli_inline("ingest", evidence, "--case", tmp_path / "case", "--memory", "500MB")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "logonscope: out of memory within the --memory budget (Out of Memory Error: failed to"
        " pin block); give it more (e.g. --memory 2GB) or fewer --jobs"
    ]
