"""Import another tool's timeline (CSV or JSONL rows with time, host, user, description) into
a case, so its rows can be attributed to sessions by user and time.

Each imported file becomes `imported/<sha256>.parquet` (written atomically); a file already
imported is skipped. A malformed row is reported with its line number and the rest is still
imported. Times with an offset or `Z` are converted to UTC; times without one are taken as
UTC (say so to the user). Nothing here decides which session a row belongs to.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from logonscope.storage import case as case_folder
from logonscope.storage.ingest import sha256_of
from logonscope.storage.times import parse_time

SCHEMA = pa.schema(
    [
        ("sha256", pa.string()),
        ("source", pa.string()),
        ("line", pa.int64()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("host", pa.string()),
        ("user", pa.string()),
        ("description", pa.string()),
    ]
)

# Accepted column names (lower-case) for each field, as other tools write them.
ALIASES = {
    "time": ("time", "timestamp", "datetime", "date", "@timestamp", "time_utc", "timecreated"),
    "host": ("host", "hostname", "computer", "computer_name", "system", "machine"),
    "user": ("user", "username", "user_name", "account", "accountname", "subject"),
    "description": ("description", "desc", "message", "summary", "event", "short", "details"),
}


@dataclass
class ImportReport:
    source: str
    sha256: str = ""
    rows: int = 0
    already: bool = False
    bad: list[tuple[int, str]] = field(default_factory=list)


def import_timeline(path: Path, case_dir: Path) -> ImportReport:
    """Read `path` (CSV or JSONL) into the case; return counts and the bad lines."""
    path, root = Path(path), case_folder.require_case(Path(case_dir))
    report = ImportReport(str(path))
    report.sha256 = sha256_of(path)
    target = root / case_folder.IMPORTED / f"{report.sha256}.parquet"
    if target.exists():
        report.already = True
        return report
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    rows = _jsonl(text, report) if _looks_like_jsonl(text) else _csv(text, report)
    table = pa.Table.from_pylist(
        [{"sha256": report.sha256, "source": path.name, **row} for row in rows], schema=SCHEMA
    )
    report.rows = table.num_rows
    if report.rows:
        target.parent.mkdir(exist_ok=True)
        case_folder.write_table_atomic(target, table)
    return report


def _looks_like_jsonl(text: str) -> bool:
    return text.lstrip().startswith("{")


def _jsonl(text: str, report: ImportReport) -> list[dict]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            report.bad.append((number, f"not JSON ({exc.msg})"))
            continue
        if not isinstance(value, dict):
            report.bad.append((number, "not a JSON object"))
            continue
        _row(value, number, rows, report)
    return rows


def _csv(text: str, report: ImportReport) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict] = []
    if not reader.fieldnames:
        report.bad.append((1, "no header row"))
        return rows
    for record in reader:
        if None in record:  # more cells than header names
            report.bad.append((reader.line_num, "more cells than the header has columns"))
            continue
        _row(record, reader.line_num, rows, report)
    return rows


def _row(record: dict, number: int, rows: list[dict], report: ImportReport) -> None:
    lowered = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
    values = {}
    for name, aliases in ALIASES.items():
        value = next((lowered[a] for a in aliases if lowered.get(a) not in (None, "")), None)
        values[name] = None if value is None else str(value)
    missing = [name for name in ("time", "host", "description") if values[name] is None]
    if missing:
        report.bad.append((number, f"missing {', '.join(missing)}"))
        return
    time = parse_time(values["time"])
    if time is None:
        report.bad.append((number, f"unreadable time {values['time']!r}"))
        return
    rows.append(
        {
            "line": number,
            "time": time,
            "host": values["host"],
            "user": values["user"],
            "description": values["description"],
        }
    )
