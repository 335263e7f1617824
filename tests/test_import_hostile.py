"""Bad rows in an imported timeline and out-of-range times on the command line, on a small
generated case (no real evidence needed).

Whatever is wrong with one row of an imported file, that row is reported by line and the
rest is imported; a time that has no UTC value is refused with one line and exit 2.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from logonscope.storage.imports import MAX_DEPTH, import_timeline
from tests.conftest import run_cli_inline
from tests.evtx_cases import four_logons_case

# on one worker: the module's case made once
pytestmark = pytest.mark.xdist_group("import_hostile")

HEADER = "time,host,user,description\n"
GOOD = "2025-01-01T09:00:{:02d}Z,WS01,alice,row {}\n"
OUT_OF_RANGE = "0001-01-01T00:00:00+14:00"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the run's shared four-logon case: the imports here change it."""
    return Path(
        shutil.copytree(
            four_logons_case(tmp_path_factory), tmp_path_factory.mktemp("imports") / "case"
        )
    )


def _imported(case: Path, report) -> list[str]:
    import pyarrow.parquet as pq

    table = pq.read_table(case / "imported" / f"{report.sha256}.parquet")
    return table.column("description").to_pylist()


def _good(n: int) -> str:
    return GOOD.format(n, n)


def test_a_field_over_the_csv_limit_skips_its_row_only(case: Path, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        HEADER + _good(1) + f'2025-01-01T09:00:02Z,WS01,alice,"{"A" * 131_073}"\n' + _good(3)
    )
    report = import_timeline(path, case)
    assert report.rows == 2 and _imported(case, report) == ["row 1", "row 3"]
    assert [line for line, _ in report.bad] == [3]
    assert "field longer than" in report.bad[0][1]


def test_an_unterminated_quote_reports_its_row_and_the_next_row_is_imported(
    case: Path, tmp_path: Path
) -> None:
    path = tmp_path / "quote.csv"
    path.write_text(HEADER + '2025-01-01T09:00:01Z,WS01,alice,"opened file\n' + _good(2))
    report = import_timeline(path, case)
    assert report.bad == [(2, "a quote is never closed")]
    assert report.rows == 1 and _imported(case, report) == ["row 2"]


def test_a_quote_closed_rows_later_reports_the_row_that_opened_it(
    case: Path, tmp_path: Path
) -> None:
    path = tmp_path / "quote2.csv"
    path.write_text(
        HEADER
        + '2025-01-01T09:00:01Z,WS01,alice,"opened file\n'
        + _good(2)
        + '2025-01-01T09:00:03Z,WS01,alice,"quoted, row 3"\n'
        + _good(4)
    )
    report = import_timeline(path, case)
    assert [line for line, _ in report.bad] == [2]
    assert _imported(case, report) == ["row 2", "quoted, row 3", "row 4"]


def test_times_out_of_range_or_absurd_are_reported_by_line(case: Path, tmp_path: Path) -> None:
    path = tmp_path / "times.csv"
    path.write_text(
        HEADER
        + f"{OUT_OF_RANGE},WS01,alice,overflow\n"
        + f"{'9' * 5000},WS01,alice,long number\n"
        + "1400-01-01T00:00:00Z,WS01,alice,before FILETIME\n"
        + _good(5)
    )
    report = import_timeline(path, case)
    assert [line for line, _ in report.bad] == [2, 3, 4]
    assert report.bad[0][1].startswith("time out of range '0001-01-01T00:00:00+14:00'")
    assert report.bad[1][1].startswith("unreadable time '999") and len(report.bad[1][1]) < 100
    assert report.bad[2][1].startswith("time out of range")
    assert _imported(case, report) == ["row 5"]


def test_bad_json_lines_are_reported_by_line_and_the_rest_imported(
    case: Path, tmp_path: Path
) -> None:
    def line(description: object, time: str = "2025-01-01T09:00:00Z") -> str:
        return json.dumps({"time": time, "host": "WS01", "description": description})

    deep = '{"time": "2025-01-01T09:00:00Z", "host": "WS01", "description": "x", "n": '
    deep += "[" * 100_000 + "]" * 100_000 + "}"
    lines = [
        line("first"),  # 1
        deep,  # 2: RecursionError in json
        '{"time": "2025-01-01T09:00:00Z", "host": "WS01", "description": ' + "7" * 5000 + "}",
        line("overflow", OUT_OF_RANGE),  # 4
        '{"time": "2025-01-01T09:00:00Z", "host": "WS01", "description": "a\\ud800b"}',  # 5
        line("x" * 70_000),  # 6: over the field cap
        line("[" * (MAX_DEPTH + 5)),  # 7: brackets inside a string are not nesting
        line("last"),  # 8
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = import_timeline(path, case)
    reasons = dict(report.bad)
    assert sorted(reasons) == [2, 3, 4, 5, 6], report.bad
    assert reasons[2] == f"JSON nested deeper than {MAX_DEPTH}"
    assert "not readable JSON" in reasons[3]
    assert reasons[4].startswith("time out of range")
    assert "surrogate" in reasons[5] and "longer than" in reasons[6]
    assert _imported(case, report) == ["first", "[" * (MAX_DEPTH + 5), "last"]


def test_the_command_names_the_bad_row_and_counts_it(case: Path, tmp_path: Path) -> None:
    path = tmp_path / "swallow.csv"
    path.write_text(HEADER + '2025-01-01T09:00:01Z,WS01,alice,"ran tool\n' + _good(7))
    done = run_cli_inline("import-activity", path, "--case", case)
    assert done.returncode == 0, done.stderr
    assert f"{path}:2: skipped: a quote is never closed" in done.stderr
    assert "imported 1 rows, 1 skipped" in done.stderr


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_a_time_out_of_range_on_the_command_line_is_one_line_and_exit_2(
    case: Path, option: str
) -> None:
    done = run_cli_inline("sessions", "--case", case, option, OUT_OF_RANGE)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"logonscope: {option}: time out of range")
